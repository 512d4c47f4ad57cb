"""What every layer's argument model shares, and the argument types layers reuse.

A layer spec is a Keras layer's constructor arguments with Keras 3's names and
defaults. Each family module (`core.py`, `convolutional.py`, …) defines its layers
with `@register`; `core.spec.layers` assembles them into one union chosen by `type`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    NonNegativeFloat,
    PositiveInt,
    PrivateAttr,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from cornu.core.spec import registry

LayerName = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
]
Shape = tuple[PositiveInt | None, ...]
"""One sample's shape (no batch axis); None for a dimension of unknown size (Keras's
variable dimensions: a sequence's length, an image's height and width)."""


def keras_object(data: Any) -> Any:
    """Keras's serialized form `{"class_name": X, "config": {…}}` as `{"type": X, …}`.

    Refuses custom classes (a `registered_name` of a user package, or a `module`
    outside Keras): Cornu never imports user code.
    """
    if isinstance(data, dict) and "class_name" in data:
        module = data.get("module") or "keras"
        registered = data.get("registered_name")
        if not str(module).startswith("keras") or (registered and ">" in str(registered)):
            raise PydanticCustomError(
                "custom_object",
                "custom Keras objects are not supported (class '{name}' from '{module}'); "
                "only Keras's built-in classes can be used",
                {"name": data["class_name"], "module": module},
            )
        config = data.get("config") or {}
        if not isinstance(config, dict):
            raise PydanticCustomError(
                "keras_object", "the config of a Keras object must be an object of its arguments"
            )
        return {"type": data["class_name"], **config}
    return data


class KerasObject(BaseModel):
    """A named object with arguments: `{"type": "VarianceScaling", "scale": 2.0}`."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = Field(min_length=1, max_length=64)

    @property
    def args(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


def _initializer(data: Any) -> Any:
    """Keras's serialized form, with the names Keras's registry maps to another class by
    their class's name (`OrthogonalInitializer` → `Orthogonal`, `normal` → `RandomNormal`)."""
    data = keras_object(data)
    name = data.get("type") if isinstance(data, dict) else data
    if isinstance(name, str) and registry.is_alias("initializers", name):
        target = registry.resolve("initializers", name)
        data = {**data, "type": target} if isinstance(data, dict) else target
    return data


Initializer = Annotated[str | KerasObject, BeforeValidator(_initializer)]
"""A Keras initializer: `"glorot_uniform"`, or `{"type": "RandomNormal", "stddev": 0.1}`."""


class RegularizerSpec(BaseModel):
    """`l1`, `l2` or `l1_l2` penalties; Keras's string forms use 0.01 for each factor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["l1", "l2", "l1_l2"]
    l1: NonNegativeFloat = 0.0
    l2: NonNegativeFloat = 0.0


_REGULARIZER_NAMES = {"l1": "l1", "l2": "l2", "l1l2": "l1_l2", "l1_l2": "l1_l2"}


def _regularizer(data: Any) -> Any:
    data = keras_object(data)
    if data is None:
        return None
    if isinstance(data, str):
        data = {"type": data}
        name = _REGULARIZER_NAMES.get(data["type"].lower())
        defaults = {"l1": {"l1": 0.01}, "l2": {"l2": 0.01}, "l1_l2": {"l1": 0.01, "l2": 0.01}}
        if name is not None:
            return {"type": name, **defaults[name]}
    if isinstance(data, dict) and isinstance(data.get("type"), str):
        name = _REGULARIZER_NAMES.get(data["type"].lower())
        if name is None:
            raise PydanticCustomError(
                "unknown_regularizer",
                "unknown regularizer '{name}' (valid regularizers: l1, l2, l1_l2)",
                {"name": data["type"]},
            )
        if name in ("l1", "l2") and name not in data:
            data = {**data, name: 0.01}
        return {**data, "type": name}
    return data


Regularizer = Annotated[RegularizerSpec | None, BeforeValidator(_regularizer)]


class ConstraintSpec(BaseModel):
    """Keras's weight constraints, applied after each optimizer step."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["max_norm", "non_neg", "unit_norm", "min_max_norm"]
    max_value: float = 2.0
    min_value: float = 0.0
    rate: float = 1.0
    axis: int | list[int] = 0


_CONSTRAINT_NAMES = {
    "maxnorm": "max_norm",
    "nonneg": "non_neg",
    "unitnorm": "unit_norm",
    "minmaxnorm": "min_max_norm",
}


def _constraint(data: Any) -> Any:
    data = keras_object(data)
    if isinstance(data, str):
        data = {"type": data}
    if isinstance(data, dict) and isinstance(data.get("type"), str):
        name = _CONSTRAINT_NAMES.get(data["type"].replace("_", "").lower())
        if name is None:
            raise PydanticCustomError(
                "unknown_constraint",
                "unknown constraint '{name}' (valid constraints: max_norm, min_max_norm, "
                "non_neg, unit_norm)",
                {"name": data["type"]},
            )
        data = {**data, "type": name}
        if name == "min_max_norm" and "max_value" not in data:
            data["max_value"] = 1.0
    return data


Constraint = Annotated[ConstraintSpec | None, BeforeValidator(_constraint)]


def _int_tuple(n: int) -> Any:
    def convert(value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return (value,) * n
        return value

    return BeforeValidator(convert)


IntPair = Annotated[tuple[PositiveInt, PositiveInt], _int_tuple(2)]
"""Keras's `kernel_size=3` or `(3, 5)`."""
IntOne = Annotated[tuple[PositiveInt], _int_tuple(1)]
Padding = Literal["valid", "same"]


class LayerSpec(BaseModel):
    """What every Keras layer accepts: a name, `trainable`, and the input of a first layer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    name: LayerName | None = None
    trainable: bool = True
    input_shape: Shape | None = Field(
        default=None, description="shape of one sample; only the first layer gives it"
    )

    _notes: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _mapped_forms(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        """Arguments in an older form that Keras maps (`keras_mapped`), noted for the user."""
        notes: list[str] = []
        if isinstance(data, dict):
            data = cls.keras_mapped(dict(data), notes)
        layer = handler(data)
        layer._notes.extend(notes)
        return layer

    @classmethod
    def keras_mapped(cls, data: dict[str, Any], notes: list[str]) -> dict[str, Any]:
        """`data` with arguments that an older Keras wrote and a newer one maps, mapped as
        Keras maps them; each change appends a sentence to `notes`. None here."""
        return data

    @property
    def notes(self) -> list[str]:
        """What was mapped or ignored while reading this layer's arguments, and in its
        inner layers (a wrapper's), each a sentence for the user."""
        out = list(self._notes)
        for key in type(self).model_fields:
            inner = getattr(self, key)
            if isinstance(inner, LayerSpec):
                out += [f"its {key}: {note}" for note in inner.notes]
        return out

    @model_validator(mode="before")
    @classmethod
    def _keras_input_forms(cls, data: Any) -> Any:
        """Keras also spells the input as `input_dim=784` or `batch_input_shape=[None, 784]`."""
        if not isinstance(data, dict):
            return data
        forms = [k for k in ("input_shape", "input_dim", "batch_input_shape") if k in data]
        if len(forms) > 1:
            raise PydanticCustomError(
                "input_forms", "give only one of {forms}", {"forms": ", ".join(forms)}
            )
        data = dict(data)
        if "input_dim" in data:
            data["input_shape"] = [data.pop("input_dim")]
        elif "batch_input_shape" in data:
            batch_shape = data.pop("batch_input_shape")
            if not isinstance(batch_shape, list | tuple) or not batch_shape:
                raise PydanticCustomError(
                    "batch_input_shape", "batch_input_shape must be a list like [null, 784]"
                )
            data["input_shape"] = list(batch_shape[1:])
        return data


class Regularized(LayerSpec):
    """Layers with a kernel and a bias: initializers, regularizers and constraints."""

    kernel_initializer: Initializer = "glorot_uniform"
    bias_initializer: Initializer = "zeros"
    kernel_regularizer: Regularizer = None
    bias_regularizer: Regularizer = None
    activity_regularizer: Regularizer = None
    kernel_constraint: Constraint = None
    bias_constraint: Constraint = None


LAYER_SPECS: dict[str, type[LayerSpec]] = {}

L = TypeVar("L", bound=type[LayerSpec])


def register(cls: L) -> L:
    """Class decorator: make `cls` the argument model of its Keras name (`type`)."""
    name = cls.model_fields["type"].default  # type: ignore[call-overload]
    if not isinstance(name, str) or name in LAYER_SPECS:
        raise RuntimeError(f"layer spec {cls.__name__} has no unique default type")
    LAYER_SPECS[name] = cls
    return cls
