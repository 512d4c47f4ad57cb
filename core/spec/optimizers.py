"""Optimizer arguments with Keras 3's defaults (not torch's; see KERAS_NOTES.md).

An optimizer is given as in Keras: a bare name (`"rmsprop"`, any case) or an object
`{"type": "RMSprop", "learning_rate": 0.001}`; `lr` is accepted as the old name of
`learning_rate`, as the book writes `RMSprop(lr=0.001)`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    model_validator,
)
from pydantic_core import PydanticCustomError

from core.spec.names import canonical, unknown_name

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Decay = Annotated[float, Field(ge=0.0, lt=1.0)]


class OptimizerSpec(BaseModel):
    """Arguments every Keras optimizer takes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    learning_rate: PositiveFloat
    weight_decay: NonNegativeFloat | None = None
    clipnorm: PositiveFloat | None = None
    clipvalue: PositiveFloat | None = None
    global_clipnorm: PositiveFloat | None = None

    @model_validator(mode="before")
    @classmethod
    def _old_lr_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and "lr" in data:
            if "learning_rate" in data:
                raise PydanticCustomError("lr_twice", "give learning_rate or lr, not both")
            data = {("learning_rate" if k == "lr" else k): v for k, v in data.items()}
        return data

    @model_validator(mode="after")
    def _one_clipping(self) -> OptimizerSpec:
        # Keras raises the same: the three clipping modes do not combine.
        given = [n for n in ("clipnorm", "clipvalue", "global_clipnorm") if getattr(self, n)]
        if len(given) > 1:
            raise PydanticCustomError(
                "clipping",
                "only one of clipnorm, clipvalue and global_clipnorm can be set (got {given})",
                {"given": ", ".join(given)},
            )
        return self


class SGD(OptimizerSpec):
    type: Literal["SGD"] = "SGD"
    learning_rate: PositiveFloat = 0.01
    momentum: Unit = 0.0
    nesterov: bool = False


class RMSprop(OptimizerSpec):
    type: Literal["RMSprop"] = "RMSprop"
    learning_rate: PositiveFloat = 0.001
    rho: Decay = 0.9
    momentum: Unit = 0.0
    epsilon: PositiveFloat = 1e-7
    centered: bool = False


class Adam(OptimizerSpec):
    type: Literal["Adam"] = "Adam"
    learning_rate: PositiveFloat = 0.001
    beta_1: Decay = 0.9
    beta_2: Decay = 0.999
    epsilon: PositiveFloat = 1e-7
    amsgrad: bool = False


OPTIMIZER_SPECS: dict[str, type[OptimizerSpec]] = {
    cls.model_fields["type"].default: cls for cls in (SGD, RMSprop, Adam)
}


def _named_optimizer(data: Any) -> Any:
    """`"rmsprop"` → `{"type": "RMSprop"}`; names match case-insensitively, as in Keras."""
    if isinstance(data, str):
        data = {"type": data}
    if isinstance(data, dict):
        name = data.get("type")
        if not isinstance(name, str):
            raise PydanticCustomError(
                "missing_optimizer_type", "an optimizer needs a 'type', e.g. \"rmsprop\""
            )
        found = canonical(name, OPTIMIZER_SPECS)
        if found is None:
            raise PydanticCustomError(
                "unknown_optimizer",
                "{message}",
                {"message": unknown_name("optimizer", name, OPTIMIZER_SPECS)},
            )
        data = {**data, "type": found}
    return data


AnyOptimizer = Annotated[
    SGD | RMSprop | Adam,
    Field(discriminator="type"),
    BeforeValidator(_named_optimizer),
]
