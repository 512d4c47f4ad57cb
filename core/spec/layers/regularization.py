"""Regularization layers, active only while training: Dropout and its relatives."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeFloat

from cornu.core.spec.layers.base import LayerSpec, register

Rate = Field(ge=0.0, lt=1.0)


@register
class Dropout(LayerSpec):
    """Zeroes a fraction `rate` of inputs while training and scales the rest up."""

    type: Literal["Dropout"] = "Dropout"
    rate: float = Rate
    noise_shape: list[int | None] | None = None
    seed: int | None = None


@register
class SpatialDropout1D(LayerSpec):
    """Drops whole feature channels of a `(steps, channels)` sequence."""

    type: Literal["SpatialDropout1D"] = "SpatialDropout1D"
    rate: float = Rate
    seed: int | None = None


@register
class SpatialDropout2D(LayerSpec):
    """Drops whole feature maps of an `(H, W, channels)` image."""

    type: Literal["SpatialDropout2D"] = "SpatialDropout2D"
    rate: float = Rate
    data_format: Literal["channels_last"] | None = None
    seed: int | None = None


@register
class GaussianNoise(LayerSpec):
    """Adds zero-mean Gaussian noise of `stddev` while training."""

    type: Literal["GaussianNoise"] = "GaussianNoise"
    stddev: NonNegativeFloat
    seed: int | None = None
