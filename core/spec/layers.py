"""Argument models of Keras layers: names, arguments and defaults as Keras 3 has them.

Each class validates one layer's arguments; the engine registers a torch builder under
the same `type`. Shapes exclude the batch dimension, as in Keras's `input_shape`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveInt,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from core.spec.names import unknown_name

LayerName = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
]
Shape = tuple[PositiveInt, ...]


class LayerSpec(BaseModel):
    """What every Keras layer accepts: a name, `trainable`, and the input of a first layer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    name: LayerName | None = None
    trainable: bool = True
    input_shape: Shape | None = Field(
        default=None, description="shape of one sample; only the first layer gives it"
    )

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


class Dense(LayerSpec):
    """`keras.layers.Dense`: `activation(dot(input, kernel) + bias)` on the last axis."""

    type: Literal["Dense"] = "Dense"
    units: PositiveInt
    activation: str | None = None
    use_bias: bool = True
    kernel_initializer: str = "glorot_uniform"
    bias_initializer: str = "zeros"


class Dropout(LayerSpec):
    """`keras.layers.Dropout`: zeroes a fraction `rate` of inputs while training."""

    type: Literal["Dropout"] = "Dropout"
    rate: float = Field(ge=0.0, lt=1.0)
    seed: int | None = None


class Flatten(LayerSpec):
    """`keras.layers.Flatten`: one feature axis per sample, in channels-last order."""

    type: Literal["Flatten"] = "Flatten"
    data_format: Literal["channels_last"] | None = None


class Activation(LayerSpec):
    """`keras.layers.Activation`: applies a named activation function."""

    type: Literal["Activation"] = "Activation"
    activation: str


LAYER_SPECS: dict[str, type[LayerSpec]] = {
    cls.model_fields["type"].default: cls for cls in (Activation, Dense, Dropout, Flatten)
}


def _known_layer_type(data: Any) -> Any:
    """Refuse an unknown `type` with the list of valid ones, before the union is tried."""
    if isinstance(data, dict):
        kind = data.get("type")
        if kind is None:
            raise PydanticCustomError("missing_layer_type", "each layer needs a 'type', e.g. Dense")
        if kind not in LAYER_SPECS:
            raise PydanticCustomError(
                "unknown_layer",
                "{message}",
                {"message": unknown_name("layer type", kind, LAYER_SPECS)},
            )
    return data


AnyLayer = Annotated[
    Activation | Dense | Dropout | Flatten,
    Field(discriminator="type"),
    BeforeValidator(_known_layer_type),
]
"""Any registered layer's arguments, chosen by `type`."""
