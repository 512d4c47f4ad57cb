"""Keras's core layers: Input, Dense, EinsumDense, Masking, Identity."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PositiveInt, field_validator, model_validator
from pydantic_core import PydanticCustomError

from cornu.core.spec.layers.base import LayerSpec, Regularized, Shape, register


@register
class Input(LayerSpec):
    """`keras.Input(shape=…)` as the first entry of a Sequential (Keras 3's own style).

    Keras's serialized `InputLayer` (`batch_shape` in Keras 3, `batch_input_shape` in
    tf.keras 2) is read as the same thing.
    """

    type: Literal["Input"] = "Input"
    shape: Shape
    dtype: str | None = None
    batch_size: PositiveInt | None = Field(
        default=None,
        description="Keras's fixed batch size (`Input(batch_size=…)`, `batch_shape[0]`), "
        "which a stateful=True recurrent layer needs",
    )

    @model_validator(mode="before")
    @classmethod
    def _batch_shape(cls, data: Any) -> Any:
        if isinstance(data, dict) and "batch_shape" in data:
            data = dict(data)
            batch_shape = data.pop("batch_shape")
            if "shape" in data:
                raise PydanticCustomError("input_forms", "give shape or batch_shape, not both")
            if not isinstance(batch_shape, list | tuple) or not batch_shape:
                raise PydanticCustomError(
                    "batch_shape", "batch_shape must be a list like [null, 784]"
                )
            data["shape"] = list(batch_shape[1:])
            if batch_shape[0] is not None and "batch_size" not in data:
                data["batch_size"] = batch_shape[0]
        return data


@register
class Dense(Regularized):
    """`activation(dot(input, kernel) + bias)` on the last axis."""

    type: Literal["Dense"] = "Dense"
    units: PositiveInt
    activation: str | None = None
    use_bias: bool = True


@register
class Masking(LayerSpec):
    """Masks the steps of a `(steps, features)` sequence whose features all equal
    `mask_value`: later layers skip them (`keras/src/layers/core/masking.py`)."""

    type: Literal["Masking"] = "Masking"
    mask_value: float = 0.0


@register
class Identity(LayerSpec):
    """Returns its input unchanged, with its mask."""

    type: Literal["Identity"] = "Identity"


@register
class EinsumDense(Regularized):
    """A dense layer written as an einsum: `activation(einsum(equation, input, kernel)
    + bias)`. `equation` is `"<input>,<kernel>-><output>"` with one letter per axis, the
    batch's included; Keras also takes `...` for the leading (`"...b,bc->...c"`) or
    trailing axes. `output_shape` gives the output's axes without the batch (an int for
    one axis; None where the input gives the size); `bias_axes` names the output axes
    the bias varies along.
    """

    type: Literal["EinsumDense"] = "EinsumDense"
    equation: str = Field(min_length=5, max_length=64)
    output_shape: tuple[PositiveInt | None, ...]
    activation: str | None = None
    bias_axes: str | None = None

    @field_validator("output_shape", mode="before")
    @classmethod
    def _one_axis(cls, value: Any) -> Any:
        """Keras takes `output_shape=64` for `(64,)`."""
        if isinstance(value, int) and not isinstance(value, bool):
            return (value,)
        return value
