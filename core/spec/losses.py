"""Keras's losses in the contract: each class with its arguments and Keras 3.15's defaults,
its function name and the other names Keras resolves to it (`mse`, `huber_loss`,
`kld`), so that a bad argument is a 422 at submit and the OpenAPI lists them. The engine
(`core.engine.losses`) and the SDK (`cornu.losses`) take their names from here; a test
holds every model's arguments and defaults to Keras's own (`keras_registry.json`).

A loss is given as a name (`"mse"`, `"BinaryCrossentropy"`; case and underscores do not
matter, as in Keras) or as an object with arguments
(`{"type": "Huber", "delta": 0.5}`, or Keras's `{"class_name", "config"}`).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, NonNegativeFloat
from pydantic import PositiveFloat as Positive
from pydantic_core import PydanticCustomError

from cornu.core.spec.layers.base import keras_object
from cornu.core.spec.names import unknown_name

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
LastAxis = Literal[-1]
"""The class axis: the only one Cornu's cross-entropies reduce over."""


class LossSpec(BaseModel):
    """What every Keras loss takes: a `name` (in logs), Keras 3's default reduction (the
    only one Cornu computes) and a dtype (the service's float32)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    name: str | None = Field(default=None, max_length=128)
    reduction: Literal["sum_over_batch_size"] | None = Field(
        default="sum_over_batch_size",
        description="Keras's default, the mean over the batch; no other is supported",
    )
    dtype: Any = Field(default=None, description="ignored: the service computes in float32")

    function: ClassVar[str]
    """Keras's function name for the loss (`mean_squared_error`)."""
    aliases: ClassVar[tuple[str, ...]] = ()
    """Other names Keras resolves to the loss (`mse`)."""

    @property
    def args(self) -> dict[str, Any]:
        """The arguments that differ from Keras's defaults (what the engine is built with)."""
        ignored = {"type", "name", "reduction", "dtype"}
        return self.model_dump(exclude=ignored, exclude_defaults=True)


class _CrossEntropy(LossSpec):
    from_logits: bool = False
    label_smoothing: Probability = 0.0
    axis: LastAxis = -1


class _Focal(_CrossEntropy):
    alpha: NonNegativeFloat = 0.25
    gamma: NonNegativeFloat = 2.0


LOSS_SPECS: dict[str, type[LossSpec]] = {}

L = TypeVar("L", bound=type[LossSpec])


def _loss(function: str, *aliases: str) -> Any:
    def register(cls: L) -> L:
        cls.function, cls.aliases = function, aliases
        LOSS_SPECS[cls.model_fields["type"].default] = cls  # type: ignore[call-overload]
        return cls

    return register


@_loss("mean_squared_error", "mse")
class MeanSquaredError(LossSpec):
    type: Literal["MeanSquaredError"] = "MeanSquaredError"


@_loss("mean_absolute_error", "mae")
class MeanAbsoluteError(LossSpec):
    type: Literal["MeanAbsoluteError"] = "MeanAbsoluteError"


@_loss("mean_absolute_percentage_error", "mape")
class MeanAbsolutePercentageError(LossSpec):
    type: Literal["MeanAbsolutePercentageError"] = "MeanAbsolutePercentageError"


@_loss("mean_squared_logarithmic_error", "msle")
class MeanSquaredLogarithmicError(LossSpec):
    type: Literal["MeanSquaredLogarithmicError"] = "MeanSquaredLogarithmicError"


@_loss("cosine_similarity")
class CosineSimilarity(LossSpec):
    type: Literal["CosineSimilarity"] = "CosineSimilarity"
    axis: LastAxis = -1


@_loss("huber", "huber_loss")
class Huber(LossSpec):
    type: Literal["Huber"] = "Huber"
    delta: Positive = 1.0


@_loss("log_cosh", "logcosh")
class LogCosh(LossSpec):
    type: Literal["LogCosh"] = "LogCosh"


@_loss("kl_divergence", "kld", "kullback_leibler_divergence")
class KLDivergence(LossSpec):
    type: Literal["KLDivergence"] = "KLDivergence"


@_loss("poisson")
class Poisson(LossSpec):
    type: Literal["Poisson"] = "Poisson"


@_loss("hinge")
class Hinge(LossSpec):
    type: Literal["Hinge"] = "Hinge"


@_loss("squared_hinge")
class SquaredHinge(LossSpec):
    type: Literal["SquaredHinge"] = "SquaredHinge"


@_loss("categorical_hinge")
class CategoricalHinge(LossSpec):
    type: Literal["CategoricalHinge"] = "CategoricalHinge"


@_loss("binary_crossentropy")
class BinaryCrossentropy(_CrossEntropy):
    type: Literal["BinaryCrossentropy"] = "BinaryCrossentropy"


@_loss("binary_focal_crossentropy")
class BinaryFocalCrossentropy(_Focal):
    type: Literal["BinaryFocalCrossentropy"] = "BinaryFocalCrossentropy"
    apply_class_balancing: bool = False


@_loss("categorical_crossentropy")
class CategoricalCrossentropy(_CrossEntropy):
    type: Literal["CategoricalCrossentropy"] = "CategoricalCrossentropy"


@_loss("categorical_focal_crossentropy")
class CategoricalFocalCrossentropy(_Focal):
    type: Literal["CategoricalFocalCrossentropy"] = "CategoricalFocalCrossentropy"


@_loss("sparse_categorical_crossentropy")
class SparseCategoricalCrossentropy(LossSpec):
    type: Literal["SparseCategoricalCrossentropy"] = "SparseCategoricalCrossentropy"
    from_logits: bool = False
    ignore_class: int | None = None
    axis: LastAxis = -1


@_loss("ctc")
class CTC(LossSpec):
    type: Literal["CTC"] = "CTC"


@_loss("dice")
class Dice(LossSpec):
    type: Literal["Dice"] = "Dice"
    axis: None = Field(default=None, description="the whole batch, Keras's default")


@_loss("tversky")
class Tversky(LossSpec):
    type: Literal["Tversky"] = "Tversky"
    alpha: NonNegativeFloat = 0.5
    beta: NonNegativeFloat = 0.5
    axis: None = Field(default=None, description="the whole batch, Keras's default")


def name_key(name: str) -> str:
    """How Keras's `get` compares names here: `MeanSquaredError`, `mean_squared_error`
    and `meansquarederror` are one loss."""
    return name.replace("_", "").lower()


LOSS_NAMES: dict[str, str] = {
    name_key(name): cls_name
    for cls_name, cls in LOSS_SPECS.items()
    for name in (cls_name, cls.function, *cls.aliases)
}
"""Every name of a loss (by `name_key`) to its class name."""


def loss_names() -> list[str]:
    """The function names and aliases Keras exports (`keras.losses.mse`, …)."""
    return [name for cls in LOSS_SPECS.values() for name in (cls.function, *cls.aliases)]


def loss_class(name: str) -> str | None:
    """The class a loss name stands for, or None."""
    return LOSS_NAMES.get(name_key(name))


def _named_loss(data: Any) -> Any:
    """A loss name is checked and kept as written; an object's class may be any of its
    names (`{"type": "mse"}`), and is refused with the valid names when unknown."""
    data = keras_object(data)
    name = data.get("type") if isinstance(data, dict) else data
    if not isinstance(name, str):
        return data  # not a loss: the union's other forms say what is wrong
    found = loss_class(name)
    if found is None:
        message = unknown_name("loss", name, loss_names())
        raise PydanticCustomError("unknown_loss", "{message}", {"message": message})
    return {**data, "type": found} if isinstance(data, dict) else name


AnyLoss = Annotated[
    Annotated[
        MeanSquaredError | MeanAbsoluteError | MeanAbsolutePercentageError
        | MeanSquaredLogarithmicError | CosineSimilarity | Huber | LogCosh | KLDivergence
        | Poisson | Hinge | SquaredHinge | CategoricalHinge | BinaryCrossentropy
        | BinaryFocalCrossentropy | CategoricalCrossentropy | CategoricalFocalCrossentropy
        | SparseCategoricalCrossentropy | CTC | Dice | Tversky,
        Field(discriminator="type"),
    ]
    | str,
    BeforeValidator(_named_loss),
]  # fmt: skip
"""A loss: a name (`"mse"`) or a class with its arguments (`{"type": "Huber", "delta": 0.5}`)."""
