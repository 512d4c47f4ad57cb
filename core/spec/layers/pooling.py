"""Pooling layers: windowed max/average over 1-D, 2-D and 3-D inputs, their global
forms, and the adaptive ones (a fixed `output_size` whatever the input's).

`strides=None` means "as `pool_size`" (Keras's default). Keras 3 gives MaxPooling a
default `pool_size` of 2 and makes AveragePooling's required; so do we.
"""

from __future__ import annotations

from typing import Literal

from pydantic import PositiveInt

from cornu.core.spec.layers.base import IntOne, IntPair, LayerSpec, register
from cornu.core.spec.layers.convolutional import DataFormat, IntTriple, PaddingMode


class Pooling(LayerSpec):
    """What the windowed poolings share (not a layer itself)."""

    pool_size: tuple[PositiveInt, ...]
    strides: tuple[PositiveInt, ...] | None = None
    padding: PaddingMode = "valid"
    data_format: DataFormat = None


class _Pooling1D(Pooling):
    pool_size: IntOne = (2,)
    strides: IntOne | None = None


class _Pooling2D(Pooling):
    pool_size: IntPair = (2, 2)
    strides: IntPair | None = None


class _Pooling3D(Pooling):
    pool_size: IntTriple = (2, 2, 2)
    strides: IntTriple | None = None


@register
class MaxPooling1D(_Pooling1D):
    """The maximum over windows of `pool_size` steps of a `(steps, channels)` sequence."""

    type: Literal["MaxPooling1D"] = "MaxPooling1D"


@register
class MaxPooling2D(_Pooling2D):
    """The maximum over `pool_size` windows of an `(height, width, channels)` image."""

    type: Literal["MaxPooling2D"] = "MaxPooling2D"


@register
class MaxPooling3D(_Pooling3D):
    """The maximum over `pool_size` windows of a `(depth, height, width, channels)` volume."""

    type: Literal["MaxPooling3D"] = "MaxPooling3D"


@register
class AveragePooling1D(_Pooling1D):
    """The mean over windows of steps; with `padding="same"` the padding is not averaged."""

    type: Literal["AveragePooling1D"] = "AveragePooling1D"
    pool_size: IntOne


@register
class AveragePooling2D(_Pooling2D):
    """The mean over windows of an image; with `padding="same"` the padding is not averaged."""

    type: Literal["AveragePooling2D"] = "AveragePooling2D"
    pool_size: IntPair


@register
class AveragePooling3D(_Pooling3D):
    """The mean over windows of a volume; with `padding="same"` the padding is not averaged."""

    type: Literal["AveragePooling3D"] = "AveragePooling3D"
    pool_size: IntTriple


class GlobalPooling(LayerSpec):
    """What the global poolings share (not a layer itself): `keepdims` keeps size-1 axes."""

    data_format: DataFormat = None
    keepdims: bool = False


@register
class GlobalMaxPooling1D(GlobalPooling):
    """The maximum over the steps of each channel (Keras ignores any mask here)."""

    type: Literal["GlobalMaxPooling1D"] = "GlobalMaxPooling1D"


@register
class GlobalMaxPooling2D(GlobalPooling):
    """The maximum over the pixels of each channel."""

    type: Literal["GlobalMaxPooling2D"] = "GlobalMaxPooling2D"


@register
class GlobalMaxPooling3D(GlobalPooling):
    """The maximum over the voxels of each channel."""

    type: Literal["GlobalMaxPooling3D"] = "GlobalMaxPooling3D"


@register
class GlobalAveragePooling1D(GlobalPooling):
    """The mean over the steps of each channel; masked steps are left out of the mean."""

    type: Literal["GlobalAveragePooling1D"] = "GlobalAveragePooling1D"


@register
class GlobalAveragePooling2D(GlobalPooling):
    """The mean over the pixels of each channel."""

    type: Literal["GlobalAveragePooling2D"] = "GlobalAveragePooling2D"


@register
class GlobalAveragePooling3D(GlobalPooling):
    """The mean over the voxels of each channel."""

    type: Literal["GlobalAveragePooling3D"] = "GlobalAveragePooling3D"


class AdaptivePooling(LayerSpec):
    """What the adaptive poolings share (`base_adaptive_pooling.py`): `output_size` windows
    per axis, window `i` of an axis of length `n` spanning `[floor(i n / out),
    ceil((i + 1) n / out))`; an int `output_size` stands for every axis."""

    output_size: tuple[PositiveInt, ...]
    data_format: DataFormat = None


class _Adaptive1D(AdaptivePooling):
    output_size: IntOne


class _Adaptive2D(AdaptivePooling):
    output_size: IntPair


class _Adaptive3D(AdaptivePooling):
    output_size: IntTriple


@register
class AdaptiveAveragePooling1D(_Adaptive1D):
    """The mean over `output_size` adaptive windows of a `(steps, channels)` sequence."""

    type: Literal["AdaptiveAveragePooling1D"] = "AdaptiveAveragePooling1D"


@register
class AdaptiveAveragePooling2D(_Adaptive2D):
    """The mean over `output_size` adaptive windows of a `(height, width, channels)` image."""

    type: Literal["AdaptiveAveragePooling2D"] = "AdaptiveAveragePooling2D"


@register
class AdaptiveAveragePooling3D(_Adaptive3D):
    """The mean over `output_size` adaptive windows of a `(depth, height, width, channels)`
    volume."""

    type: Literal["AdaptiveAveragePooling3D"] = "AdaptiveAveragePooling3D"


@register
class AdaptiveMaxPooling1D(_Adaptive1D):
    """The maximum over `output_size` adaptive windows of a `(steps, channels)` sequence."""

    type: Literal["AdaptiveMaxPooling1D"] = "AdaptiveMaxPooling1D"


@register
class AdaptiveMaxPooling2D(_Adaptive2D):
    """The maximum over `output_size` adaptive windows of a `(height, width, channels)` image."""

    type: Literal["AdaptiveMaxPooling2D"] = "AdaptiveMaxPooling2D"


@register
class AdaptiveMaxPooling3D(_Adaptive3D):
    """The maximum over `output_size` adaptive windows of a `(depth, height, width, channels)`
    volume."""

    type: Literal["AdaptiveMaxPooling3D"] = "AdaptiveMaxPooling3D"
