"""Optimizer arguments with Keras 3's defaults, not torch's (keras/src/optimizers/*.py).

An optimizer is given as in Keras: a bare name (`"rmsprop"`, any case) or an object
`{"type": "RMSprop", "learning_rate": 0.001}`; `lr` is accepted as the old name of
`learning_rate`, as the book writes `RMSprop(lr=0.001)`. A learning rate may be a
schedule: `{"type": "ExponentialDecay", "initial_learning_rate": 0.1, …}`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    model_validator,
)
from pydantic_core import PydanticCustomError

from cornu.core.spec.layers import keras_object
from cornu.core.spec.names import canonical, unknown_name

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Decay = Annotated[float, Field(ge=0.0, lt=1.0)]


class _Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and "name" in data:  # Keras serializes a name; unused
            data = {k: v for k, v in data.items() if k != "name"}
        return data


class ExponentialDecay(_Schedule):
    """`initial * decay_rate ** (step / decay_steps)` (floored when `staircase`)."""

    type: Literal["ExponentialDecay"] = "ExponentialDecay"
    initial_learning_rate: PositiveFloat
    decay_steps: PositiveInt
    decay_rate: PositiveFloat
    staircase: bool = False


class PiecewiseConstantDecay(_Schedule):
    """`values[i]` while `step` is at most `boundaries[i]`; `values[-1]` after."""

    type: Literal["PiecewiseConstantDecay"] = "PiecewiseConstantDecay"
    boundaries: list[NonNegativeInt] = Field(min_length=1)
    values: list[PositiveFloat] = Field(min_length=2)

    @model_validator(mode="after")
    def _one_more_value(self) -> PiecewiseConstantDecay:
        if len(self.values) != len(self.boundaries) + 1:
            raise PydanticCustomError(
                "piecewise",
                "values needs one more entry than boundaries ({b} boundaries, {v} values)",
                {"b": len(self.boundaries), "v": len(self.values)},
            )
        return self


class CosineDecay(_Schedule):
    """Optional linear warm-up, then cosine decay to `alpha * initial` over `decay_steps`."""

    type: Literal["CosineDecay"] = "CosineDecay"
    initial_learning_rate: NonNegativeFloat
    decay_steps: PositiveInt
    alpha: NonNegativeFloat = 0.0
    warmup_target: PositiveFloat | None = None
    warmup_steps: NonNegativeInt = 0


class InverseTimeDecay(_Schedule):
    """`initial / (1 + decay_rate * step / decay_steps)` (floored when `staircase`)."""

    type: Literal["InverseTimeDecay"] = "InverseTimeDecay"
    initial_learning_rate: PositiveFloat
    decay_steps: PositiveInt
    decay_rate: NonNegativeFloat
    staircase: bool = False


SCHEDULE_SPECS: dict[str, type[_Schedule]] = {
    c.model_fields["type"].default: c
    for c in (ExponentialDecay, PiecewiseConstantDecay, CosineDecay, InverseTimeDecay)
}
Schedule = Annotated[
    ExponentialDecay | PiecewiseConstantDecay | CosineDecay | InverseTimeDecay,
    Field(discriminator="type"),
    BeforeValidator(keras_object),
]
LearningRate = PositiveFloat | Schedule

# What Keras's optimizer get_config() writes besides the arguments: bookkeeping, and
# options that change nothing while they are off.
_BOOKKEEPING = {"name", "jit_compile", "ema_momentum", "ema_overwrite_frequency"}
_OFF: dict[str, Any] = {
    "use_ema": False,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
    "is_legacy_optimizer": False,
    "decay": 0.0,
}


class OptimizerSpec(BaseModel):
    """Arguments every Keras optimizer takes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    learning_rate: LearningRate
    weight_decay: NonNegativeFloat | None = None
    clipnorm: PositiveFloat | None = None
    clipvalue: PositiveFloat | None = None
    global_clipnorm: PositiveFloat | None = None

    @property
    def has_schedule(self) -> bool:
        """Whether the learning rate follows a schedule (so nothing may set it)."""
        return not isinstance(self.learning_rate, float | int)

    @model_validator(mode="before")
    @classmethod
    def _keras_forms(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if "lr" in data:
            if "learning_rate" in data:
                raise PydanticCustomError("lr_twice", "give learning_rate or lr, not both")
            data = {("learning_rate" if k == "lr" else k): v for k, v in data.items()}
        return {
            key: value
            for key, value in data.items()
            if key not in _BOOKKEEPING and not (key in _OFF and value in (_OFF[key], None))
        }

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
    learning_rate: LearningRate = 0.01
    momentum: Unit = 0.0
    nesterov: bool = False


class RMSprop(OptimizerSpec):
    type: Literal["RMSprop"] = "RMSprop"
    learning_rate: LearningRate = 0.001
    rho: Decay = 0.9
    momentum: Unit = 0.0
    epsilon: PositiveFloat = 1e-7
    centered: bool = False


class Adam(OptimizerSpec):
    type: Literal["Adam"] = "Adam"
    learning_rate: LearningRate = 0.001
    beta_1: Decay = 0.9
    beta_2: Decay = 0.999
    epsilon: PositiveFloat = 1e-7
    amsgrad: bool = False


class AdamW(OptimizerSpec):
    """Adam with decoupled weight decay; Keras's default decay is 0.004."""

    type: Literal["AdamW"] = "AdamW"
    learning_rate: LearningRate = 0.001
    weight_decay: NonNegativeFloat | None = 0.004
    beta_1: Decay = 0.9
    beta_2: Decay = 0.999
    epsilon: PositiveFloat = 1e-7
    amsgrad: bool = False


class Adagrad(OptimizerSpec):
    type: Literal["Adagrad"] = "Adagrad"
    learning_rate: LearningRate = 0.001
    initial_accumulator_value: NonNegativeFloat = 0.1
    epsilon: PositiveFloat = 1e-7


class Adadelta(OptimizerSpec):
    type: Literal["Adadelta"] = "Adadelta"
    learning_rate: LearningRate = 0.001
    rho: Decay = 0.95
    epsilon: PositiveFloat = 1e-7


class Adamax(OptimizerSpec):
    type: Literal["Adamax"] = "Adamax"
    learning_rate: LearningRate = 0.001
    beta_1: Decay = 0.9
    beta_2: Decay = 0.999
    epsilon: PositiveFloat = 1e-7


class Nadam(OptimizerSpec):
    type: Literal["Nadam"] = "Nadam"
    learning_rate: LearningRate = 0.001
    beta_1: Decay = 0.9
    beta_2: Decay = 0.999
    epsilon: PositiveFloat = 1e-7


OPTIMIZER_SPECS: dict[str, type[OptimizerSpec]] = {
    cls.model_fields["type"].default: cls
    for cls in (SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam)
}


def _named_optimizer(data: Any) -> Any:
    """`"rmsprop"` → `{"type": "RMSprop"}`; names match case-insensitively, as in Keras."""
    data = keras_object(data)
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
            message = unknown_name("optimizer", name, OPTIMIZER_SPECS)
            raise PydanticCustomError("unknown_optimizer", "{message}", {"message": message})
        data = {**data, "type": found}
    return data


AnyOptimizer = Annotated[
    SGD | RMSprop | Adam | AdamW | Adagrad | Adadelta | Adamax | Nadam,
    Field(discriminator="type"),
    BeforeValidator(_named_optimizer),
]
