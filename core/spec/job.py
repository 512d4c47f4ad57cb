"""The job contract: a model, how to compile it, how to fit it, and which data.

Keras's own argument names and defaults (`compile(optimizer="rmsprop", …)`,
`fit(batch_size=32, epochs=1, shuffle=True)`); shapes exclude the batch dimension.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from core.spec.layers import AnyLayer
from core.spec.optimizers import AnyOptimizer, RMSprop

DatasetId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SequentialSpec(_Strict):
    """`keras.Sequential`: a plain stack; each layer takes the previous layer's output."""

    type: Literal["sequential"] = "sequential"
    name: str | None = Field(default=None, max_length=128)
    layers: list[AnyLayer] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> SequentialSpec:
        seen: set[str] = set()
        for index, layer in enumerate(self.layers):
            if layer.name is not None:
                if layer.name in seen:
                    raise PydanticCustomError(
                        "duplicate_layer_name",
                        "layer {index} reuses the name '{name}'; layer names must be unique",
                        {"index": index, "name": layer.name},
                    )
                seen.add(layer.name)
        return self


ModelSpec = SequentialSpec


class CompileSpec(_Strict):
    """`model.compile(optimizer, loss, metrics)`."""

    optimizer: AnyOptimizer = Field(default_factory=RMSprop)
    loss: str = Field(min_length=1, max_length=64)
    metrics: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=32
    )


class DataRef(_Strict):
    """Inputs `x` and targets `y`, each an uploaded dataset's id."""

    x: DatasetId
    y: DatasetId


class FitSpec(_Strict):
    """`model.fit(...)` arguments; Keras's defaults."""

    batch_size: PositiveInt = 32
    epochs: PositiveInt = 1
    shuffle: bool = True
    seed: int | None = Field(default=None, ge=0, lt=2**63)
    validation_split: float = Field(default=0.0, ge=0.0, lt=1.0)
    validation_data: DataRef | None = None

    @model_validator(mode="after")
    def _split_or_data(self) -> FitSpec:
        # Keras uses validation_data and ignores validation_split when both are given;
        # a spec that sets both is more likely a mistake, so say so.
        if self.validation_data is not None and self.validation_split > 0:
            raise PydanticCustomError(
                "validation_twice", "give validation_split or validation_data, not both"
            )
        return self


class JobSpec(_Strict):
    """Everything a worker needs to train one model: POST /v1/jobs's body."""

    model: ModelSpec
    compile: CompileSpec
    fit: FitSpec = Field(default_factory=FitSpec)
    data: DataRef

    def dataset_ids(self) -> set[str]:
        ids = {self.data.x, self.data.y}
        if self.fit.validation_data is not None:
            ids |= {self.fit.validation_data.x, self.fit.validation_data.y}
        return ids
