"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector, UpSampling2D, ZeroPadding2D,
Cropping2D. Each works on whole batches by views where torch allows (reshape, permute,
expand, slicing), so none copies unless the next kernel needs contiguous memory."""

from __future__ import annotations

import math

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


@register
class UpSampling2D(Layer):
    """Images `size` times larger: pixels repeated ("nearest") or interpolated ("bilinear",
    half-pixel centres as Keras's `ops.image.resize`)."""

    spec_type = spec.UpSampling2D

    @classmethod
    def compute_output_shape(cls, s: spec.UpSampling2D, input_shape: Shape) -> Shape:
        spatial_input(s.type, input_shape, 2)
        height, width, channels = input_shape
        return (height * s.size[0], width * s.size[1], channels)

    def forward(self, x: Tensor) -> Tensor:
        size = self.output_shape[:2]
        if self.spec.interpolation == "nearest":
            # "nearest-exact" samples each pixel's centre: exact repeats for whole factors.
            y = F.interpolate(channels_first(x), size=size, mode="nearest-exact")
        else:
            y = F.interpolate(channels_first(x), size=size, mode="bilinear", align_corners=False)
        return channels_last(y)


@register
class ZeroPadding2D(Layer):
    """Rows and columns of zeros around images."""

    spec_type = spec.ZeroPadding2D

    @classmethod
    def compute_output_shape(cls, s: spec.ZeroPadding2D, input_shape: Shape) -> Shape:
        spatial_input(s.type, input_shape, 2)
        (top, bottom), (left, right) = s.padding
        height, width, channels = input_shape
        return (height + top + bottom, width + left + right, channels)

    def forward(self, x: Tensor) -> Tensor:
        (top, bottom), (left, right) = self.spec.padding
        return F.pad(x, (0, 0, left, right, top, bottom))  # last axis (channels) first


@register
class Cropping2D(Layer):
    """Images without rows and columns at their edges (a view, no copy)."""

    spec_type = spec.Cropping2D

    @classmethod
    def compute_output_shape(cls, s: spec.Cropping2D, input_shape: Shape) -> Shape:
        spatial_input(s.type, input_shape, 2)
        height, width, channels = input_shape
        (top, bottom), (left, right) = s.cropping
        if top + bottom >= height or left + right >= width:
            raise ShapeError(
                f"Cropping2D cropping {s.cropping} leaves nothing of a {height}×{width} image; "
                "each axis's two crops must add up to less than its size"
            )
        return (height - top - bottom, width - left - right, channels)

    def forward(self, x: Tensor) -> Tensor:
        (top, _), (left, _) = self.spec.cropping
        height, width, _ = self.output_shape
        return x[:, top : top + height, left : left + width]
