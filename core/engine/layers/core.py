"""Keras's core layers: Dense, Activation, Dropout, Flatten."""

from __future__ import annotations

import math
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from core.engine import activations, initializers
from core.engine.layers.base import Layer, Shape, ShapeError, register
from core.spec import layers as spec


@register
class Dense(Layer):
    """`activation(input @ kernel + bias)` on the last axis; kernel stored `(in, out)` as Keras."""

    spec_type = spec.Dense

    def __init__(self, s: spec.Dense, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.activation = activations.get(s.activation)
        self.activation_name = s.activation or "linear"
        kernel_init = initializers.get(s.kernel_initializer)
        bias_init = initializers.get(s.bias_initializer)
        shape = (input_shape[-1], s.units)
        self.kernel = nn.Parameter(torch.empty(shape), requires_grad=s.trainable)
        kernel_init(self.kernel, shape)
        self.bias: nn.Parameter | None = None
        if s.use_bias:
            self.bias = nn.Parameter(torch.empty(s.units), requires_grad=s.trainable)
            bias_init(self.bias, (s.units,))

    @classmethod
    def compute_output_shape(cls, s: spec.Dense, input_shape: Shape) -> Shape:
        if not input_shape:
            raise ShapeError("Dense needs inputs with at least one feature axis")
        return (*input_shape[:-1], s.units)

    def pre_activation(self, x: Tensor) -> Tensor:
        if self.bias is None:
            return x @ self.kernel
        if x.dim() == 2:
            return torch.addmm(self.bias, x, self.kernel)
        return torch.matmul(x, self.kernel) + self.bias

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.pre_activation(x))


@register
class Activation(Layer):
    spec_type = spec.Activation

    def __init__(self, s: spec.Activation, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.activation = activations.get(s.activation)
        self.activation_name = s.activation

    def pre_activation(self, x: Tensor) -> Tensor:
        return x

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(x)


@register
class Dropout(Layer):
    """Inverted dropout: active only while training, as in Keras."""

    spec_type = spec.Dropout

    def forward(self, x: Tensor) -> Tensor:
        rate = cast(spec.Dropout, self.spec).rate
        return F.dropout(x, rate, self.training) if rate > 0 else x


@register
class Flatten(Layer):
    """Batch-first flatten of channels-last tensors: the same order Keras flattens in."""

    spec_type = spec.Flatten

    @classmethod
    def compute_output_shape(cls, s: spec.Flatten, input_shape: Shape) -> Shape:
        return (math.prod(input_shape),)

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], -1)
