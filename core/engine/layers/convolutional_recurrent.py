"""Convolutional LSTMs (ConvLSTM1D/2D/3D) on channels-last sequences of frames.

Keras's `ConvLSTMCell` (`keras/src/layers/rnn/conv_lstm.py`), step by step:
`z = conv(x_t, kernel) + bias + conv_same(h, recurrent_kernel)`, split into the gates
i, f, c, o; `c = σ(f) c + σ(i) act(c̃)`, `h = σ(o) act(c)`. The input convolution has
the layer's strides, padding and dilation; the recurrent one stride 1, "same" padding
and no dilation, so the state keeps the input convolution's output shape.

Kernels are stored in torch's layout `(4·filters, in, *kernel)`, gate blocks i, f, c, o
along the output channels as in Keras's `(*kernel, in, 4·filters)`, so `keras_weights()`
are permuted views. The input convolution runs once for all steps; with dropout, each
gate sees its own masked copy of the input (and of `h`, with recurrent dropout), run as
one grouped convolution. Masks follow Keras's RNN: a masked step keeps the states and
repeats the previous output (zeros with `zero_output_for_mask`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from cornu.core.engine import activations, initializers
from cornu.core.engine.layers.base import (
    Layer,
    Mask,
    Shape,
    ShapeError,
    Shapes,
    channels_first,
    channels_last,
    register,
)
from cornu.core.engine.layers.convolutional import (
    conv_output_shape,
    keras_layout,
    padding_plan,
    torch_conv,
)
from cornu.core.engine.layers.stateful import CarriedStates
from cornu.core.spec.layers import convolutional_recurrent as spec

_FRAMES = {
    1: "(timesteps, steps, channels)",
    2: "(timesteps, height, width, channels)",
    3: "(timesteps, depth, height, width, channels)",
}
GATES = 4


class _ConvLSTM(Layer):
    """ConvLSTM1D/2D/3D: shapes, weights, dropout, masks and the step loop."""

    rank: ClassVar[int]
    uses_mask = True

    def __init__(self, s: spec.ConvLSTM, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.activation = activations.get(s.activation)
        self.recurrent_activation = activations.get(s.recurrent_activation)
        channels, filters, kernel = input_shape[-1], s.filters, s.kernel_size
        self.kernel = self._add_kernel("kernel", channels)
        self.recurrent_kernel = self._add_kernel("recurrent_kernel", filters)
        self.bias = self.add_bias((GATES * filters,))
        if self.bias is not None and s.unit_forget_bias:
            # Keras: bias_initializer(f), ones(f), bias_initializer(2f)
            init = initializers.get(s.bias_initializer)
            with torch.no_grad():
                init(self.bias[:filters], (filters,))
                self.bias[filters : 2 * filters].fill_(1.0)
                init(self.bias[2 * filters :], (2 * filters,))
        frame = input_shape[1:-1]
        self.padding, self.pad = padding_plan(s.padding, frame, kernel, s.strides, s.dilation_rate)
        ones = (1,) * self.rank
        self.state_shape = self.step_shape(s, input_shape)
        self.recurrent_padding, self.recurrent_pad = padding_plan(
            "same", self.state_shape[:-1], kernel, ones, ones
        )
        self.carried = CarriedStates(2, s.name or s.type) if s.stateful else None

    def _add_kernel(self, name: str, inputs: int) -> Tensor:
        """A `(*kernel, inputs, 4·filters)` Keras kernel stored as torch's, drawn in Keras's
        layout (an orthogonal recurrent kernel is orthogonal there, as in Keras)."""
        s = self.spec
        prefix = "kernel" if name == "kernel" else "recurrent"
        keras_shape = (*s.kernel_size, inputs, GATES * s.filters)
        weight = self.add_weight(
            name,
            (GATES * s.filters, inputs, *s.kernel_size),
            "zeros",
            regularizer=getattr(s, f"{prefix}_regularizer"),
            constraint=getattr(s, f"{prefix}_constraint"),
            keras_shape=keras_shape,
            to_keras=keras_layout(self.rank),
        )
        if not weight.is_meta:
            values = torch.empty(keras_shape)
            initializers.get(getattr(s, f"{prefix}_initializer"))(values, keras_shape)
            self.load_keras_weight(self.weights_info[-1], values)
        return weight

    @classmethod
    def step_shape(cls, s: spec.ConvLSTM, input_shape: Shape) -> Shape:
        """The shape of one step's output and of each state: the input convolution's."""
        if len(input_shape) != cls.rank + 2:
            raise ShapeError(
                f"{s.type} needs {_FRAMES[cls.rank]} inputs, got {input_shape}; each "
                f"timestep is a frame of {cls.rank + 1} axes"
            )
        return conv_output_shape(s, input_shape[1:], cls.rank, s.filters)

    @classmethod
    def compute_output_shape(cls, s: spec.ConvLSTM, input_shape: Shapes) -> Shapes:
        step = cls.step_shape(s, input_shape)
        output = (input_shape[0], *step) if s.return_sequences else step
        return [output, step, step] if s.return_state else output

    def compute_mask(self, inputs: Tensor, mask: Mask) -> Any:
        """The input mask for the sequence output (None for the last output and states)."""
        output_mask = mask if self.spec.return_sequences else None
        return (output_mask, None, None) if self.spec.return_state else output_mask

    def _dropout_copies(self, x: Tensor, rate: float) -> Tensor | None:
        """Keras's `DropoutRNNCell` masks: one per gate, shaped as one step's frame (the
        same at every step), applied to copies of `x` (batch, channels, *frame) laid side by
        side on the channel axis, for a convolution grouped by gate."""
        if not self.training or rate == 0:
            return None
        keep = x.new_empty(x.shape[0], GATES, *x.shape[1:]).bernoulli_(1 - rate) / (1 - rate)
        return (x.unsqueeze(1) * keep).flatten(1, 2)

    def _recurrent(self, h: Tensor, rate: float) -> Tensor:
        """`conv_same(h, recurrent_kernel)`, channels-first, each gate's `h` dropped apart."""
        copies = self._dropout_copies(h, rate)
        source, groups = (h, 1) if copies is None else (copies, GATES)
        if self.recurrent_pad is not None:
            source = F.pad(source, self.recurrent_pad)
        ones = (1,) * self.rank
        conv = torch_conv(self.rank)
        return conv(source, self.recurrent_kernel, None, ones, self.recurrent_padding, 1, groups)

    def _inputs(self, x: Tensor) -> Tensor:
        """The input convolution (plus bias) of every step: `(batch, steps, 4·filters, …)`."""
        s = self.spec
        batch, steps = x.shape[:2]
        frames = channels_first(x.flatten(0, 1))
        groups = 1
        if self.training and s.dropout > 0:  # one mask per sample, shared by its steps
            keep = self._dropout_copies(frames.new_ones(batch, *frames.shape[1:]), s.dropout)
            assert keep is not None
            frames = frames.repeat(1, GATES, *(1,) * self.rank)
            frames = frames * keep.repeat_interleave(steps, dim=0)
            groups = GATES
        if self.pad is not None:
            frames = F.pad(frames, self.pad)
        conv = torch_conv(self.rank)
        z = conv(frames, self.kernel, self.bias, s.strides, self.padding, s.dilation_rate, groups)
        return z.unflatten(0, (batch, steps))

    def forward(self, x: Tensor, mask: Mask = None) -> Tensor | tuple[Tensor, ...]:
        s = self.spec
        if s.go_backwards:  # Keras returns the outputs in the order it computed them
            x = x.flip(1)
            mask = None if mask is None else mask.flip(1)
        inputs = self._inputs(x)
        batch, steps = inputs.shape[:2]
        gate = self.recurrent_activation
        h = c = output = inputs.new_zeros(batch, s.filters, *self.state_shape[:-1])
        if self.carried is not None:  # Keras's stateful RNN: the last batch's h and c
            h, c = self.carried.start([h, c])
        outputs = []
        for t in range(steps):
            z = inputs[:, t] + self._recurrent(h, s.recurrent_dropout)
            i, f, g, o = z.chunk(GATES, 1)
            new_c = gate(f) * c + gate(i) * self.activation(g)
            new_h = gate(o) * self.activation(new_c)
            if mask is None:
                h, c, output = new_h, new_c, new_h
            else:
                valid = mask[:, t].bool().view(batch, *(1,) * (self.rank + 1))
                h, c = torch.where(valid, new_h, h), torch.where(valid, new_c, c)
                skipped = torch.zeros_like(output) if s.zero_output_for_mask else output
                output = torch.where(valid, new_h, skipped)
            outputs.append(output)
        if self.carried is not None:
            self.carried.store([h, c])
        result = (
            torch.stack([channels_last(y) for y in outputs], 1)
            if s.return_sequences
            else channels_last(output)
        )
        return (result, channels_last(h), channels_last(c)) if s.return_state else result


@register
class ConvLSTM1D(_ConvLSTM):
    """A ConvLSTM over sequences of `(steps, channels)` frames."""

    spec_type = spec.ConvLSTM1D
    rank = 1


@register
class ConvLSTM2D(_ConvLSTM):
    """A ConvLSTM over sequences of `(height, width, channels)` images."""

    spec_type = spec.ConvLSTM2D
    rank = 2


@register
class ConvLSTM3D(_ConvLSTM):
    """A ConvLSTM over sequences of `(depth, height, width, channels)` volumes."""

    spec_type = spec.ConvLSTM3D
    rank = 3
