"""The job contract: a model, how to compile it, how to fit it, and which data.

Keras's own argument names and defaults (`compile(optimizer="rmsprop", …)`,
`fit(batch_size=32, epochs=1, shuffle=True)`); shapes exclude the batch dimension.
A model with several inputs or outputs takes maps from their names to datasets.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveInt,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from cornu.core.spec.callbacks import AnyCallback
from cornu.core.spec.layers import KerasObject, keras_object
from cornu.core.spec.model import ModelSpec
from cornu.core.spec.optimizers import AnyOptimizer, RMSprop

DatasetId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
]
Datasets = DatasetId | dict[str, DatasetId]
"""One dataset, or one per model input/output name."""
JobId = Annotated[str, StringConstraints(pattern=r"^job_[0-9A-Z]{26}$")]

Named = Annotated[str | KerasObject, BeforeValidator(keras_object)]
"""A loss or metric by name (`"mse"`), or with arguments (`{"type": "Huber", "delta": 0.5}`)."""
PerOutput = Named | None | list[Named | None] | dict[str, Named | None]
MetricList = list[Named] | Named
Metrics = list[Named] | dict[str, MetricList]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CompileSpec(_Strict):
    """`model.compile(optimizer, loss, loss_weights, metrics, weighted_metrics)`.

    With several outputs, `loss` is one loss for all, a list in output order, or a map
    by output name; `loss_weights` and metrics take the same forms. The minimised total
    is the weighted sum of the outputs' losses, as in Keras.
    """

    optimizer: AnyOptimizer = Field(default_factory=RMSprop)
    loss: PerOutput
    loss_weights: list[NonNegativeFloat] | dict[str, NonNegativeFloat] | None = None
    metrics: Metrics = Field(default_factory=list)
    weighted_metrics: Metrics = Field(default_factory=list)


class DataRef(_Strict):
    """Inputs `x`, targets `y` and optional per-sample loss weights, as dataset ids.

    `sample_weight` is Keras's `fit(sample_weight=…)`: one weight per sample.
    """

    x: Datasets
    y: Datasets
    sample_weight: DatasetId | None = None

    def ids(self) -> set[str]:
        found = set()
        for value in (self.x, self.y, self.sample_weight):
            if isinstance(value, dict):
                found |= set(value.values())
            elif value is not None:
                found.add(value)
        return found


class FitSpec(_Strict):
    """`model.fit(...)` arguments, with Keras's defaults."""

    batch_size: PositiveInt = 32
    epochs: PositiveInt = 1
    initial_epoch: NonNegativeInt = 0
    shuffle: bool = True
    seed: int | None = Field(default=None, ge=0, lt=2**63)
    validation_split: float = Field(default=0.0, ge=0.0, lt=1.0)
    validation_data: DataRef | None = None
    class_weight: dict[int, NonNegativeFloat] | None = None
    callbacks: list[AnyCallback] = Field(default_factory=list, max_length=16)
    initial_weights: JobId | None = Field(
        default=None,
        description="start from the weights a succeeded job of yours trained, for the same "
        "model: a second `fit` in Keras continues from the weights the first one left",
    )
    mixed_precision: Literal["bf16"] | None = Field(
        default=None, description="bf16 autocast on a GPU (ignored on the CPU)"
    )
    verbose: int | Literal["auto"] = Field(default="auto", description="accepted, ignored")

    @model_validator(mode="after")
    def _consistent(self) -> FitSpec:
        # Keras uses validation_data and ignores validation_split when both are given;
        # a spec that sets both is more likely a mistake, so say so.
        if self.validation_data is not None and self.validation_split > 0:
            raise PydanticCustomError(
                "validation_twice", "give validation_split or validation_data, not both"
            )
        if self.initial_epoch >= self.epochs:
            raise PydanticCustomError(
                "initial_epoch",
                "initial_epoch ({initial}) must be less than epochs ({epochs})",
                {"initial": self.initial_epoch, "epochs": self.epochs},
            )
        return self


class JobSpec(_Strict):
    """Everything a worker needs to train one model: POST /v1/jobs's body."""

    model: ModelSpec
    compile: CompileSpec
    fit: FitSpec = Field(default_factory=FitSpec)
    data: DataRef

    def dataset_ids(self) -> set[str]:
        ids = self.data.ids()
        if self.fit.validation_data is not None:
            ids |= self.fit.validation_data.ids()
        return ids
