"""Keras's core layers: Input, Dense."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import PositiveInt, model_validator
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
        return data


@register
class Dense(Regularized):
    """`activation(dot(input, kernel) + bias)` on the last axis."""

    type: Literal["Dense"] = "Dense"
    units: PositiveInt
    activation: str | None = None
    use_bias: bool = True
