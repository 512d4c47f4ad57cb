"""Pooling layers on channels-last tensors.

Windowed pooling runs torch's 2-D kernels on channels-first views; 1-D inputs
`(steps, channels)` are viewed as images one pixel high, so both ranks share one path.
"same" padding follows Keras (TF): the odd pixel goes at the end, a max never sees the
padding, and an average divides by the number of real values in each window.
"""

from __future__ import annotations

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
        self.sides = [(0, 0), (0, 0)]
        if s.padding == "same":
            self.sides = [
                same_padding(*axis)
                for axis in zip(self.sizes, self.window, self.strides, strict=True)
            ]
        # Torch pads both sides alike; otherwise pad explicitly (F.pad: last axis first).
        symmetric = all(before == after for before, after in self.sides)
        self.padding = tuple(before for before, _ in self.sides) if symmetric else (0, 0)
        self.pad = None if symmetric else (*self.sides[1], *self.sides[0])

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
        images = channels_first(x if self.rank == 2 else x.unsqueeze(1))
        y = channels_last(self.pool(images))
        return y if self.rank == 2 else y.squeeze(1)

    def pool(self, x: Tensor) -> Tensor:
        raise NotImplementedError


class _MaxPooling(_Pooling):
    """The maximum of each window; uneven "same" padding is -inf, so it is never chosen."""

    def pool(self, x: Tensor) -> Tensor:
        if self.pad is not None:
            x = F.pad(x, self.pad, value=float("-inf"))
        return F.max_pool2d(x, self.window, self.strides, self.padding)


class _AveragePooling(_Pooling):
    """The mean of each window over the real values only, as Keras (TF) averages."""

    counts: Tensor | None

    def __init__(self, s: spec.Pooling, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        counts = None
        if self.pad is not None:
            # How many real values each window holds: the divisor, as the padding is left out.
            outputs = self.lift + self.output_shape[:-1]
            rows, cols = (
                _window_counts(*axis)
                for axis in zip(
                    outputs, self.sizes, self.window, self.strides, self.sides, strict=True
                )
            )
            counts = torch.outer(rows, cols)
        self.register_buffer("counts", counts, persistent=False)

    def pool(self, x: Tensor) -> Tensor:
        if self.pad is None or self.counts is None:
            return F.avg_pool2d(x, self.window, self.strides, self.padding, count_include_pad=False)
        sums = F.avg_pool2d(F.pad(x, self.pad), self.window, self.strides, divisor_override=1)
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
class AveragePooling1D(_AveragePooling):
    """The mean over windows of steps of `(steps, channels)` sequences."""

    spec_type = spec.AveragePooling1D
    rank = 1


@register
class AveragePooling2D(_AveragePooling):
    """The mean over windows of `(height, width, channels)` images."""

    spec_type = spec.AveragePooling2D
    rank = 2


class _GlobalPooling(Layer):
    """One value per channel over every step or pixel."""

    rank: ClassVar[int]

    @classmethod
    def compute_output_shape(cls, s: spec.GlobalPooling, input_shape: Shape) -> Shape:
        spatial_input(s.type, input_shape, cls.rank)
        return (*(1,) * cls.rank, input_shape[-1]) if s.keepdims else (input_shape[-1],)


@register
class GlobalMaxPooling1D(_GlobalPooling):
    """The maximum over steps. Keras ignores a mask here (masked steps still count): so do we."""

    spec_type = spec.GlobalMaxPooling1D
    rank = 1

    def forward(self, x: Tensor) -> Tensor:
        return x.amax(dim=1, keepdim=self.spec.keepdims)


@register
class GlobalMaxPooling2D(_GlobalPooling):
    """The maximum over pixels."""

    spec_type = spec.GlobalMaxPooling2D
    rank = 2

    def forward(self, x: Tensor) -> Tensor:
        return x.amax(dim=(1, 2), keepdim=self.spec.keepdims)


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
class GlobalAveragePooling2D(_GlobalPooling):
    """The mean over pixels."""

    spec_type = spec.GlobalAveragePooling2D
    rank = 2

    def forward(self, x: Tensor) -> Tensor:
        return x.mean(dim=(1, 2), keepdim=self.spec.keepdims)
