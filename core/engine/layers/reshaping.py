"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector, and UpSampling, ZeroPadding
and Cropping in 1-D, 2-D and 3-D. Each works on whole batches by views where torch allows
(reshape, permute, expand, slicing), so none copies unless the next kernel needs
contiguous memory."""

from __future__ import annotations

import math
from typing import ClassVar

import torch.nn.functional as F
from torch import Tensor

from cornu.core.engine.layers.base import (
    Layer,
    Shape,
    ShapeError,
    channels_first,
    channels_last,
    register,
)
from cornu.core.engine.layers.convolutional import spatial_input
from cornu.core.spec.layers import reshaping as spec


@register
class Flatten(Layer):
    """Batch-first flatten of channels-last tensors: the same order Keras flattens in."""

    spec_type = spec.Flatten

    @classmethod
    def compute_output_shape(cls, s: spec.Flatten, input_shape: Shape) -> Shape:
        return (math.prod(input_shape),)

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], -1)


@register
class Reshape(Layer):
    """Each sample to `target_shape`, its -1 resolved from the input's size."""

    spec_type = spec.Reshape

    @classmethod
    def compute_output_shape(cls, s: spec.Reshape, input_shape: Shape) -> Shape:
        size = math.prod(input_shape)
        known = math.prod(d for d in s.target_shape if d != -1)
        shape = tuple(size // known if d == -1 else d for d in s.target_shape)
        if math.prod(shape) != size:
            raise ShapeError(
                f"Reshape cannot turn {input_shape} ({size} values per sample) into "
                f"target_shape {s.target_shape}; the sizes' product must be {size}"
            )
        return shape

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], *self.output_shape)


@register
class Permute(Layer):
    """Reorders each sample's axes; `dims` counts them from 1 (the batch stays first)."""

    spec_type = spec.Permute

    @classmethod
    def compute_output_shape(cls, s: spec.Permute, input_shape: Shape) -> Shape:
        if len(s.dims) != len(input_shape):
            raise ShapeError(
                f"Permute dims {s.dims} name {len(s.dims)} axes, but the input {input_shape} "
                f"has {len(input_shape)}"
            )
        return tuple(input_shape[d - 1] for d in s.dims)

    def forward(self, x: Tensor) -> Tensor:
        return x.permute(0, *self.spec.dims)


@register
class RepeatVector(Layer):
    """`(features,)` to `(n, features)`, as a broadcast view of the input."""

    spec_type = spec.RepeatVector

    @classmethod
    def compute_output_shape(cls, s: spec.RepeatVector, input_shape: Shape) -> Shape:
        if len(input_shape) != 1:
            raise ShapeError(
                f"RepeatVector needs (features,) inputs, got {input_shape}; add a Flatten before it"
            )
        return (s.n, input_shape[0])

    def forward(self, x: Tensor) -> Tensor:
        return x.unsqueeze(1).expand(-1, self.spec.n, -1)


class _UpSampling(Layer):
    """Inputs `size` times larger along each spatial axis: values repeated ("nearest", as
    Keras's `ops.repeat`), or for images interpolated ("bilinear", half-pixel centres as
    Keras's `ops.image.resize`)."""

    rank: ClassVar[int]

    @classmethod
    def factors(cls, s: spec.UpSampling1D | spec.UpSampling2D | spec.UpSampling3D) -> Shape:
        return (s.size,) if isinstance(s.size, int) else s.size

    @classmethod
    def compute_output_shape(
        cls, s: spec.UpSampling1D | spec.UpSampling2D | spec.UpSampling3D, input_shape: Shape
    ) -> Shape:
        spatial_input(s.type, input_shape, cls.rank)
        sizes = (n * f for n, f in zip(input_shape[:-1], cls.factors(s), strict=True))
        return (*sizes, input_shape[-1])

    def forward(self, x: Tensor) -> Tensor:
        size = self.output_shape[:-1]
        if getattr(self.spec, "interpolation", "nearest") == "nearest":
            # "nearest-exact" samples each value's centre: exact repeats for whole factors.
            y = F.interpolate(channels_first(x), size=size, mode="nearest-exact")
        else:
            y = F.interpolate(channels_first(x), size=size, mode="bilinear", align_corners=False)
        return channels_last(y)


@register
class UpSampling1D(_UpSampling):
    """Sequences `size` times longer, each step repeated."""

    spec_type = spec.UpSampling1D
    rank = 1


@register
class UpSampling2D(_UpSampling):
    """Images `size` times larger: pixels repeated or interpolated."""

    spec_type = spec.UpSampling2D
    rank = 2


@register
class UpSampling3D(_UpSampling):
    """Volumes `size` times larger, each voxel repeated."""

    spec_type = spec.UpSampling3D
    rank = 3


def _sides(amounts: tuple[int, int] | tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """Per spatial axis (before, after): a 1-D layer gives one pair, others a pair per axis."""
    if isinstance(amounts[0], int):
        return (amounts,)
    return amounts


class _ZeroPadding(Layer):
    """Zeros before and after each spatial axis (`keras/src/layers/reshaping/zero_padding*d.py`)."""

    rank: ClassVar[int]

    @classmethod
    def compute_output_shape(
        cls, s: spec.ZeroPadding1D | spec.ZeroPadding2D | spec.ZeroPadding3D, input_shape: Shape
    ) -> Shape:
        spatial_input(s.type, input_shape, cls.rank)
        sizes = (n + a + b for n, (a, b) in zip(input_shape[:-1], _sides(s.padding), strict=True))
        return (*sizes, input_shape[-1])

    def forward(self, x: Tensor) -> Tensor:
        # F.pad lists the last axis (channels, unpadded) first.
        return F.pad(x, (0, 0, *(p for side in reversed(_sides(self.spec.padding)) for p in side)))


@register
class ZeroPadding1D(_ZeroPadding):
    """Zero steps at both ends of sequences."""

    spec_type = spec.ZeroPadding1D
    rank = 1


@register
class ZeroPadding2D(_ZeroPadding):
    """Rows and columns of zeros around images."""

    spec_type = spec.ZeroPadding2D
    rank = 2


@register
class ZeroPadding3D(_ZeroPadding):
    """Zeros around volumes."""

    spec_type = spec.ZeroPadding3D
    rank = 3


class _Cropping(Layer):
    """Inputs without values at the ends of each spatial axis (a view, no copy)."""

    rank: ClassVar[int]

    @classmethod
    def compute_output_shape(
        cls, s: spec.Cropping1D | spec.Cropping2D | spec.Cropping3D, input_shape: Shape
    ) -> Shape:
        spatial_input(s.type, input_shape, cls.rank)
        sides = _sides(s.cropping)
        if any(a + b >= n for n, (a, b) in zip(input_shape[:-1], sides, strict=True)):
            raise ShapeError(
                f"{s.type} cropping {s.cropping} leaves nothing of an input of shape "
                f"{input_shape}; each axis's two crops must add up to less than its size"
            )
        sizes = (n - a - b for n, (a, b) in zip(input_shape[:-1], sides, strict=True))
        return (*sizes, input_shape[-1])

    def forward(self, x: Tensor) -> Tensor:
        sides = _sides(self.spec.cropping)
        kept = (
            slice(start, start + n)
            for (start, _), n in zip(sides, self.output_shape[:-1], strict=True)
        )
        return x[(slice(None), *kept)]


@register
class Cropping1D(_Cropping):
    """Sequences without steps at their ends."""

    spec_type = spec.Cropping1D
    rank = 1


@register
class Cropping2D(_Cropping):
    """Images without rows and columns at their edges."""

    spec_type = spec.Cropping2D
    rank = 2


@register
class Cropping3D(_Cropping):
    """Volumes without values at their edges."""

    spec_type = spec.Cropping3D
    rank = 3
