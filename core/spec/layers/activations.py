"""Activation layers: Activation, ReLU, LeakyReLU, Softmax."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, NonNegativeFloat, model_validator

from cornu.core.spec.layers.base import LayerSpec, register


@register
class Activation(LayerSpec):
    """Applies a named activation function (`keras.activations`)."""

    type: Literal["Activation"] = "Activation"
    activation: str


@register
class ReLU(LayerSpec):
    """`max(x, 0)` with Keras's optional cap, leak below `threshold`, and threshold."""

    type: Literal["ReLU"] = "ReLU"
    max_value: NonNegativeFloat | None = None
    negative_slope: NonNegativeFloat = 0.0
    threshold: float = 0.0


@register
class LeakyReLU(LayerSpec):
    """`x` for `x ≥ 0`, `negative_slope * x` below; Keras 3's default slope is 0.3."""

    type: Literal["LeakyReLU"] = "LeakyReLU"
    negative_slope: NonNegativeFloat = 0.3

    @model_validator(mode="before")
    @classmethod
    def _old_alpha(cls, data: Any) -> Any:
        # tf.keras 2 called the slope `alpha`.
        if isinstance(data, dict) and "alpha" in data:
            data = {("negative_slope" if k == "alpha" else k): v for k, v in data.items()}
        return data


@register
class Softmax(LayerSpec):
    type: Literal["Softmax"] = "Softmax"
    axis: int | list[int] = Field(default=-1)
