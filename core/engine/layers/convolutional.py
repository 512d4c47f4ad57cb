"""Convolution layers on channels-last tensors, run by torch's kernels on channels-first views:
Conv1D/2D/3D, their transposes, DepthwiseConv1D/2D and SeparableConv1D/2D, one class per
kind for every rank.

Kernels are stored in torch's layout (`(out, in / groups, *kernel)`), so the forward pass
hands them to `F.conv*d` as they are; `keras_weights()` presents them in Keras's layout
(`(*kernel, in / groups, out)`) through permuted views. Padding follows Keras (TF):
"same" puts the odd pixel at the end, "causal" pads only the start.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar, Protocol

import torch.nn.functional as F
from torch import Tensor

from cornu.core.engine import activations
from cornu.core.engine.layers.base import (
    Layer,
    Shape,
    ShapeError,
    channels_first,
    channels_last,
    register,
)
from cornu.core.spec.layers import convolutional as spec

_AXES = {
    1: "(steps, channels)",
    2: "(height, width, channels)",
    3: "(depth, height, width, channels)",
}


def spatial_input(layer: str, input_shape: Shape, rank: int) -> None:
    """Refuse inputs that are not `rank` spatial axes plus channels."""
    if len(input_shape) != rank + 1:
        raise ShapeError(f"{layer} needs {_AXES[rank]} inputs, got {input_shape}")


def effective_size(kernel: int, dilation: int) -> int:
    """The span of a dilated kernel."""
    return (kernel - 1) * dilation + 1


def output_length(
    layer: str, size: int, kernel: int, stride: int, dilation: int, padding: str
) -> int:
    """Keras's output length of a convolution or pooling window along one axis."""
    if padding != "valid":  # "same" and "causal"
        return math.ceil(size / stride)
    span = effective_size(kernel, dilation)
    if span > size:
        dilated = f" (kernel {kernel} dilated by {dilation})" if dilation > 1 else ""
        raise ShapeError(
            f"{layer}: window {span}{dilated} is larger than the input ({size}) with "
            "padding='valid'; use padding='same' or a smaller kernel_size/pool_size"
        )
    return (size - span) // stride + 1


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TF's "same" padding along one axis: (before, after), the odd pixel after."""
    span = effective_size(kernel, dilation)
    total = max((math.ceil(size / stride) - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def padding_plan(
    padding: str, sizes: Shape, kernel: Shape, strides: Shape, dilation: Shape
) -> tuple[tuple[int, ...], tuple[int, ...] | None]:
    """Torch's symmetric `padding=` argument, and an explicit `F.pad` when sides differ."""
    if padding == "valid":
        return (0,) * len(sizes), None
    if padding == "causal":
        return (0,), (effective_size(kernel[0], dilation[0]) - 1, 0)
    sides = [same_padding(*args) for args in zip(sizes, kernel, strides, dilation, strict=True)]
    if all(before == after for before, after in sides):
        return tuple(before for before, _ in sides), None
    # F.pad lists the last axis first.
    return (0,) * len(sizes), tuple(p for side in reversed(sides) for p in side)


class ConvArguments(Protocol):
    """The arguments a convolution's output shape follows (any conv layer's spec)."""

    @property
    def type(self) -> str: ...
    @property
    def kernel_size(self) -> tuple[int, ...]: ...
    @property
    def strides(self) -> tuple[int, ...]: ...
    @property
    def dilation_rate(self) -> tuple[int, ...]: ...
    @property
    def padding(self) -> str: ...


def conv_output_shape(
    s: ConvArguments, input_shape: Shape, rank: int, filters: int, groups: int = 1
) -> Shape:
    """Keras's output shape of a convolution (`compute_conv_output_shape` in
    `keras/src/ops/operation_utils.py`): one length per spatial axis, then `filters`."""
    spatial_input(s.type, input_shape, rank)
    channels = input_shape[-1]
    if channels % groups:
        raise ShapeError(
            f"{s.type}: input channels ({channels}) must be divisible by groups ({groups})"
        )
    lengths = [
        output_length(s.type, *args, s.padding)
        for args in zip(input_shape[:-1], s.kernel_size, s.strides, s.dilation_rate, strict=True)
    ]
    return (*lengths, filters)


def keras_layout(rank: int) -> Callable[[Tensor], Tensor]:
    """`(out, in, *kernel)` viewed as Keras's `(*kernel, in, out)`."""
    order = (*range(2, 2 + rank), 1, 0)
    return lambda w: w.permute(order)


def torch_conv(rank: int) -> Callable[..., Tensor]:
    """`F.conv1d`, `F.conv2d` or `F.conv3d`: one signature for every rank."""
    return {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[rank]


class _Conv(Layer):
    """Conv1D/2D/3D: `activation(conv(input, kernel) + bias)`."""

    rank: ClassVar[int]

    def __init__(self, s: spec.Conv, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.activation = activations.get(s.activation)
        self.activation_name = s.activation or "linear"
        per_group = input_shape[-1] // s.groups
        self.kernel = self.add_weight(
            "kernel",
            (s.filters, per_group, *s.kernel_size),
            s.kernel_initializer,
            regularizer=s.kernel_regularizer,
            constraint=s.kernel_constraint,
            keras_shape=(*s.kernel_size, per_group, s.filters),
            to_keras=keras_layout(self.rank),
        )
        self.bias = self.add_bias((s.filters,))
        self.padding, self.pad = padding_plan(
            s.padding, input_shape[:-1], s.kernel_size, s.strides, s.dilation_rate
        )

    @classmethod
    def compute_output_shape(cls, s: spec.Conv, input_shape: Shape) -> Shape:
        return conv_output_shape(s, input_shape, cls.rank, s.filters, s.groups)

    def pre_activation(self, x: Tensor) -> Tensor:
        x = channels_first(x)
        if self.pad is not None:
            x = F.pad(x, self.pad)
        s = self.spec
        conv = torch_conv(self.rank)
        y = conv(x, self.kernel, self.bias, s.strides, self.padding, s.dilation_rate, s.groups)
        return channels_last(y)

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.pre_activation(x))


@register
class Conv1D(_Conv):
    """Convolution over the steps of `(steps, channels)` sequences."""

    spec_type = spec.Conv1D
    rank = 1


@register
class Conv2D(_Conv):
    """Convolution over `(height, width, channels)` images."""

    spec_type = spec.Conv2D
    rank = 2


@register
class Conv3D(_Conv):
    """Convolution over `(depth, height, width, channels)` volumes."""

    spec_type = spec.Conv3D
    rank = 3


def transpose_plan(
    size: int, kernel: int, stride: int, dilation: int, padding: str, output_padding: int | None
) -> tuple[int, int, int, slice]:
    """Keras's transposed convolution along one axis, as torch computes it.

    Returns (output length, torch's `padding`, torch's `output_padding`, the slice of
    torch's output to keep). The full transposed convolution is `(size - 1) * stride +
    span` long; Keras (as TF and JAX compute it) keeps `length` values from `crop` on,
    extended past the end with zeros (plus the bias) when `output_padding` asks for more.
    Torch crops `padding` from both ends and extends by `output_padding` at the end; where
    Keras crops one end more than the other, a view of torch's output cuts the rest.
    """
    span = effective_size(kernel, dilation)
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        length, crop = (size - 1) * stride + span + extra, 0
    else:
        total = (
            stride + span - 2 if output_padding is None else span + span % 2 - 2 + output_padding
        )
        before = min(total // 2 + total % 2, span - 1)
        length, crop = (size - 1) * stride + total - span + 2, span - 1 - before
    tail = (size - 1) * stride + span - crop - length
    if tail < 0:  # longer than the full result: only at the end, less than the stride
        return length, crop, crop - tail, slice(None)
    trim = min(crop, tail)
    return length, trim, 0, slice(crop - trim, crop - trim + length)


class _ConvTranspose(Layer):
    """Conv1D/2D/3DTranspose; kernel stored `(in, filters, *kernel)` as torch's, shown as
    Keras's `(*kernel, filters, in)` (`base_conv_transpose.py`)."""

    rank: ClassVar[int]

    def __init__(self, s: spec.ConvTranspose, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.activation = activations.get(s.activation)
        self.activation_name = s.activation or "linear"
        channels = input_shape[-1]
        self.kernel = self.add_weight(
            "kernel",
            (channels, s.filters, *s.kernel_size),
            s.kernel_initializer,
            regularizer=s.kernel_regularizer,
            constraint=s.kernel_constraint,
            keras_shape=(*s.kernel_size, s.filters, channels),
            to_keras=keras_layout(self.rank),
        )
        self.bias = self.add_bias((s.filters,))
        _, self.padding, self.output_padding, self.window = zip(
            *self._plans(s, input_shape), strict=True
        )

    @classmethod
    def _plans(cls, s: spec.ConvTranspose, input_shape: Shape) -> list[tuple[int, int, int, slice]]:
        extra = s.output_padding or (None,) * cls.rank
        return [
            transpose_plan(*axis, s.padding, extra[n])
            for n, axis in enumerate(
                zip(input_shape[:-1], s.kernel_size, s.strides, s.dilation_rate, strict=True)
            )
        ]

    @classmethod
    def compute_output_shape(cls, s: spec.ConvTranspose, input_shape: Shape) -> Shape:
        spatial_input(s.type, input_shape, cls.rank)
        return (*(plan[0] for plan in cls._plans(s, input_shape)), s.filters)

    def pre_activation(self, x: Tensor) -> Tensor:
        s = self.spec
        conv_transpose = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
        y = conv_transpose[self.rank](
            channels_first(x),
            self.kernel,
            self.bias,
            s.strides,
            self.padding,
            self.output_padding,
            1,
            s.dilation_rate,
        )
        return channels_last(y[(slice(None), slice(None), *self.window)])

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.pre_activation(x))


@register
class Conv1DTranspose(_ConvTranspose):
    """The transpose of Conv1D, over `(steps, channels)` sequences."""

    spec_type = spec.Conv1DTranspose
    rank = 1


@register
class Conv2DTranspose(_ConvTranspose):
    """The transpose of Conv2D, over `(height, width, channels)` images."""

    spec_type = spec.Conv2DTranspose
    rank = 2


@register
class Conv3DTranspose(_ConvTranspose):
    """The transpose of Conv3D, over `(depth, height, width, channels)` volumes."""

    spec_type = spec.Conv3DTranspose
    rank = 3


class _DepthwiseConv(Layer):
    """DepthwiseConv1D/2D: each channel convolved with its own `depth_multiplier` kernels
    (`base_depthwise_conv.py`), output channel `c * depth_multiplier + m`.

    The kernel is stored `(in * multiplier, 1, *kernel)` (a grouped conv in torch, one
    group per channel) and shown as Keras's `(*kernel, in, multiplier)`, named `kernel`
    in a DepthwiseConv layer and `depthwise_kernel` in a SeparableConv one.
    """

    rank: ClassVar[int]
    kernel_name: ClassVar[str] = "kernel"

    def __init__(self, s: spec.DepthwiseConv, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.activation = activations.get(s.activation)
        self.activation_name = s.activation or "linear"
        channels, multiplier, kernel = input_shape[-1], s.depth_multiplier, s.kernel_size
        order = (*range(2, 2 + self.rank), 0, 1)
        self.depthwise_kernel = self.add_weight(
            self.kernel_name,
            (channels * multiplier, 1, *kernel),
            s.depthwise_initializer,
            regularizer=s.depthwise_regularizer,
            constraint=s.depthwise_constraint,
            keras_shape=(*kernel, channels, multiplier),
            to_keras=lambda w: w.view(channels, multiplier, *kernel).permute(order),
            attr="depthwise_kernel",
        )
        self.padding, self.pad = padding_plan(
            s.padding, input_shape[:-1], s.kernel_size, s.strides, s.dilation_rate
        )

    @classmethod
    def compute_output_shape(cls, s: spec.DepthwiseConv, input_shape: Shape) -> Shape:
        return conv_output_shape(s, input_shape, cls.rank, cls.output_channels(s, input_shape))

    @staticmethod
    def output_channels(s: spec.DepthwiseConv, input_shape: Shape) -> int:
        """A separable convolution's `filters`; a depthwise one's `channels * multiplier`."""
        if isinstance(s, spec.SeparableConv):
            return s.filters
        return input_shape[-1] * s.depth_multiplier

    def depthwise(self, x: Tensor, bias: Tensor | None) -> Tensor:
        """The depthwise convolution of channels-first `x`, channels-first."""
        if self.pad is not None:
            x = F.pad(x, self.pad)
        s = self.spec
        return torch_conv(self.rank)(
            x,
            self.depthwise_kernel,
            bias,
            s.strides,
            self.padding,
            s.dilation_rate,
            self.input_shape[-1],
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.pre_activation(x))


class _Depthwise(_DepthwiseConv):
    """`activation(depthwise(input) + bias)`, the bias one per output channel."""

    def __init__(self, s: spec.DepthwiseConv, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.bias = self.add_bias((input_shape[-1] * s.depth_multiplier,))

    def pre_activation(self, x: Tensor) -> Tensor:
        return channels_last(self.depthwise(channels_first(x), self.bias))


@register
class DepthwiseConv1D(_Depthwise):
    """Depthwise convolution over `(steps, channels)` sequences."""

    spec_type = spec.DepthwiseConv1D
    rank = 1


@register
class DepthwiseConv2D(_Depthwise):
    """Depthwise convolution over `(height, width, channels)` images."""

    spec_type = spec.DepthwiseConv2D
    rank = 2


class _SeparableConv(_DepthwiseConv):
    """A depthwise convolution then a pointwise one (`base_separable_conv.py`); the
    pointwise kernel is stored `(filters, in * multiplier, 1…)` and shown as Keras's
    `(1…, in * multiplier, filters)`."""

    kernel_name = "depthwise_kernel"

    def __init__(self, s: spec.SeparableConv, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        depth, ones = input_shape[-1] * s.depth_multiplier, (1,) * self.rank
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel",
            (s.filters, depth, *ones),
            s.pointwise_initializer,
            regularizer=s.pointwise_regularizer,
            constraint=s.pointwise_constraint,
            keras_shape=(*ones, depth, s.filters),
            to_keras=keras_layout(self.rank),
        )
        self.bias = self.add_bias((s.filters,))

    def pre_activation(self, x: Tensor) -> Tensor:
        depthwise = self.depthwise(channels_first(x), None)
        return channels_last(torch_conv(self.rank)(depthwise, self.pointwise_kernel, self.bias))


@register
class SeparableConv1D(_SeparableConv):
    """Separable convolution over `(steps, channels)` sequences."""

    spec_type = spec.SeparableConv1D
    rank = 1


@register
class SeparableConv2D(_SeparableConv):
    """Separable convolution over `(height, width, channels)` images."""

    spec_type = spec.SeparableConv2D
    rank = 2
