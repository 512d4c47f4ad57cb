"""Pooling layers: windowed max/average over 1-D and 2-D inputs, and their global forms.

`strides=None` means "as `pool_size`" (Keras's default). Keras 3 gives MaxPooling a
default `pool_size` of 2 and makes AveragePooling's required; so do we.
"""

from __future__ import annotations

from typing import Literal

from pydantic import PositiveInt

from cornu.core.spec.layers.base import IntOne, IntPair, LayerSpec, register
from cornu.core.spec.layers.convolutional import DataFormat, PaddingMode


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


@register
class MaxPooling1D(_Pooling1D):
    """The maximum over windows of `pool_size` steps of a `(steps, channels)` sequence."""

    type: Literal["MaxPooling1D"] = "MaxPooling1D"


@register
class MaxPooling2D(_Pooling2D):
    """The maximum over `pool_size` windows of an `(height, width, channels)` image."""

    type: Literal["MaxPooling2D"] = "MaxPooling2D"


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
class GlobalAveragePooling1D(GlobalPooling):
    """The mean over the steps of each channel; masked steps are left out of the mean."""

    type: Literal["GlobalAveragePooling1D"] = "GlobalAveragePooling1D"


@register
class GlobalAveragePooling2D(GlobalPooling):
    """The mean over the pixels of each channel."""

    type: Literal["GlobalAveragePooling2D"] = "GlobalAveragePooling2D"
