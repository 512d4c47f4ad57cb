"""Convolution layers on channels-last tensors, run by torch's kernels on channels-first views.

Kernels are stored in torch's layout (`(out, in / groups, *kernel)`), so the forward pass
hands them to `F.conv*d` as they are; `keras_weights()` presents them in Keras's layout
(`(*kernel, in / groups, out)`) through permuted views. Padding follows Keras (TF):
"same" puts the odd pixel at the end, "causal" pads only the start.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

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

_AXES = {1: "(steps, channels)", 2: "(height, width, channels)"}


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


def conv_output_shape(
    s: spec.Conv1D | spec.Conv2D | spec.SeparableConv2D, input_shape: Shape, rank: int
) -> Shape:
    """Keras's output shape of a convolution: one length per spatial axis, then filters."""
    spatial_input(s.type, input_shape, rank)
    channels = input_shape[-1]
    if channels % s.groups:
        raise ShapeError(
            f"{s.type}: input channels ({channels}) must be divisible by groups ({s.groups})"
        )
    lengths = [
        output_length(s.type, *args, s.padding)
        for args in zip(input_shape[:-1], s.kernel_size, s.strides, s.dilation_rate, strict=True)
    ]
    return (*lengths, s.filters)


def keras_layout(rank: int) -> Callable[[Tensor], Tensor]:
    """`(out, in, *kernel)` viewed as Keras's `(*kernel, in, out)`."""
    order = (*range(2, 2 + rank), 1, 0)
    return lambda w: w.permute(order)


class _Conv(Layer):
    """Conv1D and Conv2D: `activation(conv(input, kernel) + bias)`."""

    rank: ClassVar[int]
    conv: ClassVar[Callable[..., Tensor]]

    def __init__(self, s: spec.Conv1D | spec.Conv2D, input_shape: Shape) -> None:
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
        self.bias: Tensor | None = None
        if s.use_bias:
            self.bias = self.add_weight(
                "bias",
                (s.filters,),
                s.bias_initializer,
                regularizer=s.bias_regularizer,
                constraint=s.bias_constraint,
            )
        self.padding, self.pad = padding_plan(
            s.padding, input_shape[:-1], s.kernel_size, s.strides, s.dilation_rate
        )

    @classmethod
    def compute_output_shape(cls, s: spec.Conv1D | spec.Conv2D, input_shape: Shape) -> Shape:
        return conv_output_shape(s, input_shape, cls.rank)

    def pre_activation(self, x: Tensor) -> Tensor:
        x = channels_first(x)
        if self.pad is not None:
            x = F.pad(x, self.pad)
        s = self.spec
        y = self.conv(x, self.kernel, self.bias, s.strides, self.padding, s.dilation_rate, s.groups)
        return channels_last(y)

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.pre_activation(x))


@register
class Conv1D(_Conv):
    """Convolution over the steps of `(steps, channels)` sequences."""

    spec_type = spec.Conv1D
    rank = 1
    conv = staticmethod(F.conv1d)


@register
class Conv2D(_Conv):
    """Convolution over `(height, width, channels)` images."""

    spec_type = spec.Conv2D
    rank = 2
    conv = staticmethod(F.conv2d)


def transpose_plan(
    size: int, kernel: int, stride: int, dilation: int, padding: str, output_padding: int | None
) -> tuple[int, int, int, slice]:
    """Keras's Conv2DTranspose along one axis, as torch computes it.

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


@register
class Conv2DTranspose(Layer):
    """The transpose of Conv2D; kernel stored `(in, filters, kh, kw)` as torch's, shown as
    Keras's `(kh, kw, filters, in)`."""

    spec_type = spec.Conv2DTranspose

    def __init__(self, s: spec.Conv2DTranspose, input_shape: Shape) -> None:
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
            to_keras=keras_layout(2),
        )
        self.bias: Tensor | None = None
        if s.use_bias:
            self.bias = self.add_weight(
                "bias",
                (s.filters,),
                s.bias_initializer,
                regularizer=s.bias_regularizer,
                constraint=s.bias_constraint,
            )
        _, self.padding, self.output_padding, self.window = zip(
            *self._plans(s, input_shape), strict=True
        )

    @staticmethod
    def _plans(s: spec.Conv2DTranspose, input_shape: Shape) -> list[tuple[int, int, int, slice]]:
        extra = s.output_padding or (None, None)
        return [
            transpose_plan(
                input_shape[axis],
                s.kernel_size[axis],
                s.strides[axis],
                s.dilation_rate[axis],
                s.padding,
                extra[axis],
            )
            for axis in range(2)
        ]

    @classmethod
    def compute_output_shape(cls, s: spec.Conv2DTranspose, input_shape: Shape) -> Shape:
        spatial_input(s.type, input_shape, 2)
        return (*(plan[0] for plan in cls._plans(s, input_shape)), s.filters)

    def pre_activation(self, x: Tensor) -> Tensor:
        s = self.spec
        y = F.conv_transpose2d(
            channels_first(x),
            self.kernel,
            self.bias,
            s.strides,
            self.padding,
            self.output_padding,
            1,
            s.dilation_rate,
        )
        return channels_last(y[:, :, self.window[0], self.window[1]])

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.pre_activation(x))


@register
class SeparableConv2D(Layer):
    """A depthwise convolution, `depth_multiplier` maps per input channel, then a 1×1 one.

    The depthwise kernel is stored `(in * multiplier, 1, kh, kw)` (a grouped conv in
    torch) and shown as Keras's `(kh, kw, in, multiplier)`; the pointwise kernel
    `(filters, in * multiplier, 1, 1)` as Keras's `(1, 1, in * multiplier, filters)`.
    """

    spec_type = spec.SeparableConv2D

    def __init__(self, s: spec.SeparableConv2D, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.activation = activations.get(s.activation)
        self.activation_name = s.activation or "linear"
        channels, multiplier = input_shape[-1], s.depth_multiplier
        kh, kw = s.kernel_size
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel",
            (channels * multiplier, 1, kh, kw),
            s.depthwise_initializer,
            regularizer=s.depthwise_regularizer,
            constraint=s.depthwise_constraint,
            keras_shape=(kh, kw, channels, multiplier),
            to_keras=lambda w: w.view(channels, multiplier, kh, kw).permute(2, 3, 0, 1),
        )
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel",
            (s.filters, channels * multiplier, 1, 1),
            s.pointwise_initializer,
            regularizer=s.pointwise_regularizer,
            constraint=s.pointwise_constraint,
            keras_shape=(1, 1, channels * multiplier, s.filters),
            to_keras=keras_layout(2),
        )
        self.bias: Tensor | None = None
        if s.use_bias:
            self.bias = self.add_weight(
                "bias",
                (s.filters,),
                s.bias_initializer,
                regularizer=s.bias_regularizer,
                constraint=s.bias_constraint,
            )
        self.padding, self.pad = padding_plan(
            s.padding, input_shape[:-1], s.kernel_size, s.strides, s.dilation_rate
        )

    @classmethod
    def compute_output_shape(cls, s: spec.SeparableConv2D, input_shape: Shape) -> Shape:
        return conv_output_shape(s, input_shape, 2)

    def pre_activation(self, x: Tensor) -> Tensor:
        x = channels_first(x)
        if self.pad is not None:
            x = F.pad(x, self.pad)
        s = self.spec
        channels = self.input_shape[-1]
        depthwise = F.conv2d(
            x, self.depthwise_kernel, None, s.strides, self.padding, s.dilation_rate, channels
        )
        return channels_last(F.conv2d(depthwise, self.pointwise_kernel, self.bias))

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.pre_activation(x))
