"""Pooling layers on channels-last tensors.

Windowed pooling runs torch's 2-D and 3-D kernels on channels-first views; 1-D inputs
`(steps, channels)` are viewed as images one pixel high, so every rank shares one path.
"same" padding follows Keras (TF): the odd pixel goes at the end, a max never sees the
padding, and an average divides by the number of real values in each window.
Adaptive pooling uses torch's adaptive kernels, whose windows are Keras's.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import reduce
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from cornu.core.engine.layers.base import (
    Layer,
    Mask,
    Shape,
    channels_first,
    channels_last,
    register,
)
from cornu.core.engine.layers.convolutional import output_length, same_padding, spatial_input
from cornu.core.spec.layers import pooling as spec


class _Pooling(Layer):
    """Max or average over windows of `pool_size`, `strides` apart (default: `pool_size`)."""

    rank: ClassVar[int]

    def __init__(self, s: spec.Pooling, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.lift = (1,) * (2 - self.rank)  # a 1-D sequence is an image of height 1
        self.sizes = self.lift + input_shape[:-1]
        self.window = self.lift + s.pool_size
        self.strides = self.lift + (s.strides or s.pool_size)
        self.sides = [(0, 0)] * len(self.sizes)
        if s.padding == "same":
            self.sides = [
                same_padding(*axis)
                for axis in zip(self.sizes, self.window, self.strides, strict=True)
            ]
        # Torch pads both sides alike; otherwise pad explicitly (F.pad: last axis first).
        symmetric = all(before == after for before, after in self.sides)
        self.padding = (
            tuple(before for before, _ in self.sides) if symmetric else (0,) * len(self.sides)
        )
        self.pad = None if symmetric else tuple(p for side in reversed(self.sides) for p in side)

    @classmethod
    def compute_output_shape(cls, s: spec.Pooling, input_shape: Shape) -> Shape:
        spatial_input(s.type, input_shape, cls.rank)
        strides = s.strides or s.pool_size
        lengths = [
            output_length(s.type, size, k, stride, 1, s.padding)
            for size, k, stride in zip(input_shape[:-1], s.pool_size, strides, strict=True)
        ]
        return (*lengths, input_shape[-1])

    def forward(self, x: Tensor) -> Tensor:
        images = channels_first(x if self.rank > 1 else x.unsqueeze(1))
        y = channels_last(self.pool(images))
        return y if self.rank > 1 else y.squeeze(1)

    def pool(self, x: Tensor) -> Tensor:
        raise NotImplementedError


class _MaxPooling(_Pooling):
    """The maximum of each window; uneven "same" padding is -inf, so it is never chosen."""

    def pool(self, x: Tensor) -> Tensor:
        if self.pad is not None:
            x = F.pad(x, self.pad, value=float("-inf"))
        max_pool = F.max_pool3d if self.rank == 3 else F.max_pool2d
        return max_pool(x, self.window, self.strides, self.padding)


class _AveragePooling(_Pooling):
    """The mean of each window over the real values only, as Keras (TF) averages."""

    counts: Tensor | None

    def __init__(self, s: spec.Pooling, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        counts = None
        if self.pad is not None:
            # How many real values each window holds: the divisor, as the padding is left out.
            outputs = self.lift + self.output_shape[:-1]
            per_axis = (
                _window_counts(*axis)
                for axis in zip(
                    outputs, self.sizes, self.window, self.strides, self.sides, strict=True
                )
            )
            counts = reduce(lambda a, b: a.unsqueeze(-1) * b, per_axis)  # their outer product
        self.register_buffer("counts", counts, persistent=False)

    def pool(self, x: Tensor) -> Tensor:
        avg_pool = F.avg_pool3d if self.rank == 3 else F.avg_pool2d
        if self.pad is None or self.counts is None:
            return avg_pool(x, self.window, self.strides, self.padding, count_include_pad=False)
        sums = avg_pool(F.pad(x, self.pad), self.window, self.strides, divisor_override=1)
        return sums / self.counts


def _window_counts(
    length: int, size: int, window: int, stride: int, sides: tuple[int, int]
) -> Tensor:
    """The number of input values under each of `length` windows along one axis."""
    starts = torch.arange(length) * stride - sides[0]
    return ((starts + window).clamp(max=size) - starts.clamp(min=0)).float()


@register
class MaxPooling1D(_MaxPooling):
    """The maximum over windows of steps of `(steps, channels)` sequences."""

    spec_type = spec.MaxPooling1D
    rank = 1


@register
class MaxPooling2D(_MaxPooling):
    """The maximum over windows of `(height, width, channels)` images."""

    spec_type = spec.MaxPooling2D
    rank = 2


@register
class MaxPooling3D(_MaxPooling):
    """The maximum over windows of `(depth, height, width, channels)` volumes."""

    spec_type = spec.MaxPooling3D
    rank = 3


@register
class AveragePooling1D(_AveragePooling):
    """The mean over windows of steps of `(steps, channels)` sequences."""

    spec_type = spec.AveragePooling1D
    rank = 1


@register
class AveragePooling2D(_AveragePooling):
    """The mean over windows of `(height, width, channels)` images."""

    spec_type = spec.AveragePooling2D
    rank = 2


@register
class AveragePooling3D(_AveragePooling):
    """The mean over windows of `(depth, height, width, channels)` volumes."""

    spec_type = spec.AveragePooling3D
    rank = 3


class _GlobalPooling(Layer):
    """One value per channel over every step, pixel or voxel."""

    rank: ClassVar[int]

    @classmethod
    def compute_output_shape(cls, s: spec.GlobalPooling, input_shape: Shape) -> Shape:
        spatial_input(s.type, input_shape, cls.rank)
        return (*(1,) * cls.rank, input_shape[-1]) if s.keepdims else (input_shape[-1],)

    @property
    def spatial_axes(self) -> tuple[int, ...]:
        return tuple(range(1, self.rank + 1))


class _GlobalMaxPooling(_GlobalPooling):
    """The maximum over the spatial axes. Keras's GlobalMaxPooling1D ignores a mask (masked
    steps still count): so does this."""

    def forward(self, x: Tensor) -> Tensor:
        return x.amax(dim=self.spatial_axes, keepdim=self.spec.keepdims)


class _GlobalAveragePooling(_GlobalPooling):
    """The mean over the spatial axes."""

    def forward(self, x: Tensor) -> Tensor:
        return x.mean(dim=self.spatial_axes, keepdim=self.spec.keepdims)


@register
class GlobalMaxPooling1D(_GlobalMaxPooling):
    """The maximum over steps."""

    spec_type = spec.GlobalMaxPooling1D
    rank = 1


@register
class GlobalMaxPooling2D(_GlobalMaxPooling):
    """The maximum over pixels."""

    spec_type = spec.GlobalMaxPooling2D
    rank = 2


@register
class GlobalMaxPooling3D(_GlobalMaxPooling):
    """The maximum over voxels."""

    spec_type = spec.GlobalMaxPooling3D
    rank = 3


@register
class GlobalAveragePooling1D(_GlobalPooling):
    """The mean over steps; with a mask, over the unmasked steps only (as Keras)."""

    spec_type = spec.GlobalAveragePooling1D
    rank = 1
    uses_mask = True

    def forward(self, x: Tensor, mask: Mask = None) -> Tensor:
        keepdims = self.spec.keepdims
        if mask is None:
            return x.mean(dim=1, keepdim=keepdims)
        keep = mask.unsqueeze(-1).bool()
        total = x.masked_fill(~keep, 0).sum(dim=1, keepdim=keepdims)
        return total / keep.sum(dim=1, keepdim=keepdims).to(x.dtype)


@register
class GlobalAveragePooling2D(_GlobalAveragePooling):
    """The mean over pixels."""

    spec_type = spec.GlobalAveragePooling2D
    rank = 2


@register
class GlobalAveragePooling3D(_GlobalAveragePooling):
    """The mean over voxels."""

    spec_type = spec.GlobalAveragePooling3D
    rank = 3


class _AdaptivePooling(Layer):
    """`output_size` windows per spatial axis, whatever the input's size: window `i` of an
    axis of `n` values spans `[floor(i n / out), ceil((i + 1) n / out))`, as Keras's
    backends compute it (`keras/src/backend/jax/nn.py`) and torch's adaptive kernels do."""

    rank: ClassVar[int]
    pools: ClassVar[dict[int, Callable[..., Tensor]]]

    @classmethod
    def compute_output_shape(cls, s: spec.AdaptivePooling, input_shape: Shape) -> Shape:
        spatial_input(s.type, input_shape, cls.rank)
        return (*s.output_size, input_shape[-1])

    def forward(self, x: Tensor) -> Tensor:
        return channels_last(self.pools[self.rank](channels_first(x), self.spec.output_size))


class _AdaptiveAveragePooling(_AdaptivePooling):
    pools = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}


class _AdaptiveMaxPooling(_AdaptivePooling):
    pools = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}


@register
class AdaptiveAveragePooling1D(_AdaptiveAveragePooling):
    """The mean over adaptive windows of `(steps, channels)` sequences."""

    spec_type = spec.AdaptiveAveragePooling1D
    rank = 1


@register
class AdaptiveAveragePooling2D(_AdaptiveAveragePooling):
    """The mean over adaptive windows of `(height, width, channels)` images."""

    spec_type = spec.AdaptiveAveragePooling2D
    rank = 2


@register
class AdaptiveAveragePooling3D(_AdaptiveAveragePooling):
    """The mean over adaptive windows of `(depth, height, width, channels)` volumes."""

    spec_type = spec.AdaptiveAveragePooling3D
    rank = 3


@register
class AdaptiveMaxPooling1D(_AdaptiveMaxPooling):
    """The maximum over adaptive windows of `(steps, channels)` sequences."""

    spec_type = spec.AdaptiveMaxPooling1D
    rank = 1


@register
class AdaptiveMaxPooling2D(_AdaptiveMaxPooling):
    """The maximum over adaptive windows of `(height, width, channels)` images."""

    spec_type = spec.AdaptiveMaxPooling2D
    rank = 2


@register
class AdaptiveMaxPooling3D(_AdaptiveMaxPooling):
    """The maximum over adaptive windows of `(depth, height, width, channels)` volumes."""

    spec_type = spec.AdaptiveMaxPooling3D
    rank = 3
