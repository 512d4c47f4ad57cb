"""Regularization layers: Dropout and its relatives, active only while training, and
ActivityRegularization, which adds a penalty on its input to the loss."""

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


@register
class SpatialDropout3D(LayerSpec):
    """Drops whole feature volumes of a `(D, H, W, channels)` input."""

    type: Literal["SpatialDropout3D"] = "SpatialDropout3D"
    rate: float = Rate
    data_format: Literal["channels_last"] | None = None
    seed: int | None = None


@register
class GaussianDropout(LayerSpec):
    """Multiplies inputs by `N(1, rate / (1 - rate))` noise while training."""

    type: Literal["GaussianDropout"] = "GaussianDropout"
    rate: float = Rate
    seed: int | None = None


@register
class AlphaDropout(LayerSpec):
    """Dropout that keeps SELU's self-normalisation: dropped inputs take SELU's negative
    saturation value, then an affine map restores the mean and variance."""

    type: Literal["AlphaDropout"] = "AlphaDropout"
    rate: float = Rate
    noise_shape: list[int | None] | None = None
    seed: int | None = None


@register
class ActivityRegularization(LayerSpec):
    """Passes its input on and adds `l1 * Σ|x| + l2 * Σx²` (per sample) to the loss."""

    type: Literal["ActivityRegularization"] = "ActivityRegularization"
    l1: NonNegativeFloat = 0.0
    l2: NonNegativeFloat = 0.0
