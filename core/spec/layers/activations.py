"""Activation layers: Activation, ReLU, LeakyReLU, Softmax, ELU, PReLU."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, NonNegativeFloat, field_validator, model_validator

from cornu.core.spec.layers.base import Constraint, Initializer, LayerSpec, Regularizer, register


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


@register
class ELU(LayerSpec):
    """`x` for `x > 0`, `alpha * (exp(x) - 1)` below."""

    type: Literal["ELU"] = "ELU"
    alpha: float = 1.0


@register
class PReLU(LayerSpec):
    """`x` for `x ≥ 0`, `alpha * x` below, with a learned `alpha` per input element;
    `shared_axes` (counted with the batch as 0) share one alpha along those axes."""

    type: Literal["PReLU"] = "PReLU"
    alpha_initializer: Initializer = "Zeros"
    alpha_regularizer: Regularizer = None
    alpha_constraint: Constraint = None
    shared_axes: list[int] | None = None

    @field_validator("shared_axes", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        """Keras takes `shared_axes=1` for `[1]`."""
        if isinstance(value, int) and not isinstance(value, bool):
            return [value]
        return value
