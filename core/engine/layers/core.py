"""Keras's core layers: Dense."""

from __future__ import annotations

import torch
from torch import Tensor

from cornu.core.engine import activations
from cornu.core.engine.layers.base import Layer, Shape, ShapeError, register
from cornu.core.spec.layers import core as spec


@register
class Dense(Layer):
    """`activation(input @ kernel + bias)` on the last axis; kernel stored `(in, out)` as Keras."""

    spec_type = spec.Dense
    supports_masking = True

    def __init__(self, s: spec.Dense, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.activation = activations.get(s.activation)
        self.activation_name = s.activation or "linear"
        self.kernel = self.add_weight(
            "kernel",
            (input_shape[-1], s.units),
            s.kernel_initializer,
            regularizer=s.kernel_regularizer,
            constraint=s.kernel_constraint,
        )
        self.bias: Tensor | None = None
        if s.use_bias:
            self.bias = self.add_weight(
                "bias",
                (s.units,),
                s.bias_initializer,
                regularizer=s.bias_regularizer,
                constraint=s.bias_constraint,
            )

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
