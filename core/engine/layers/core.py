"""Keras's core layers: Dense, EinsumDense, Masking, Identity."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from cornu.core.engine import activations
from cornu.core.engine.layers.base import Layer, Mask, Shape, ShapeError, register
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
        self.bias = self.add_bias((s.units,))

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
class Masking(Layer):
    """Keras's Masking: a step is kept when any of its features differs from
    `mask_value`. The mask, `(batch, steps)` for `(batch, steps, features)` inputs,
    replaces any mask the input had, and masked steps come out as zeros
    (`keras/src/layers/core/masking.py`: `where(mask, inputs, 0)`).
    """

    spec_type = spec.Masking
    supports_masking = True

    @classmethod
    def compute_output_shape(cls, s: spec.Masking, input_shape: Shape) -> Shape:
        if not input_shape:
            raise ShapeError("Masking needs inputs with a features axis, e.g. (steps, features)")
        return input_shape

    def compute_mask(self, inputs: Tensor, mask: Mask) -> Mask:
        return self._kept(inputs)

    def _kept(self, x: Tensor) -> Tensor:
        return (x != self.spec.mask_value).any(-1)

    def forward(self, x: Tensor) -> Tensor:
        keep = self._kept(x).unsqueeze(-1)
        return torch.where(keep, x, torch.zeros((), dtype=x.dtype, device=x.device))


@register
class Identity(Layer):
    """Keras's Identity: the input, and its mask, unchanged."""

    spec_type = spec.Identity
    supports_masking = True

    def forward(self, x: Tensor) -> Tensor:
        return x


@dataclass(frozen=True)
class EinsumShapes:
    """What an EinsumDense equation gives for an input shape (batch axis first, None):
    the kernel's and bias's shapes, the output shape, and which kernel axes are input
    and output units (for the initializer's fans)."""

    kernel: tuple[int, ...]
    bias: tuple[int, ...] | None
    output: tuple[int | None, ...]
    input_axes: tuple[int, ...]
    output_axes: tuple[int, ...]


_EINSUM_FORMS = (
    (re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$"), False),
    (re.compile(r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$"), True),
    (re.compile(r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$"), False),
)


def einsum_shapes(s: spec.EinsumDense, input_shape: tuple[int | None, ...]) -> EinsumShapes:
    """Keras's `_analyze_einsum_string` (`keras/src/layers/core/einsum_dense.py`), on a
    shape whose batch axis is None; ShapeError where Keras raises ValueError."""
    equation = s.equation.replace("...", "0")
    found = [(m, left) for pattern, left in _EINSUM_FORMS if (m := pattern.match(equation))]
    if not found:
        raise ShapeError(
            f"EinsumDense equation {s.equation!r} is not of the form 'ab,bc->ac', "
            "'...b,bc->...c' or 'ab...,bc->ac...'"
        )
    match, left_elided = found[0]
    input_spec, weight_spec, output_spec = match.groups()
    elided = len(input_shape) - len(input_spec)
    if elided < 0 or (elided and "..." not in s.equation):
        raise ShapeError(
            f"EinsumDense {s.equation!r} takes inputs of {len(input_spec)} axes, the batch's "
            f"included; these have {len(input_shape)} (shape {input_shape[1:]})"
        )
    output: list[int | None] = [input_shape[0], *s.output_shape]
    if elided > 0 and left_elided:
        # In order: Keras's symbolic shape inserts them reversed, its tensors do not.
        output[1:1] = input_shape[1:elided]
    elif elided > 0:
        output += input_shape[len(input_shape) - elided :]
    if left_elided:
        input_at = {d: i + elided - len(input_shape) for i, d in enumerate(input_spec)}
        output_at = {d: i + elided for i, d in enumerate(output_spec)}
    else:
        input_at = {d: i for i, d in enumerate(input_spec)}
        output_at = {d: i for i, d in enumerate(output_spec)}
    if len(output) != len(output_spec) + elided:
        raise ShapeError(
            f"EinsumDense {s.equation!r} with output_shape {list(s.output_shape)} does not "
            f"fit inputs of shape {input_shape[1:]} (the equation's input has "
            f"{len(input_spec)} axes, the batch's included)"
        )
    for d in input_spec:
        given = output[output_at[d]] if d in output_at else None
        if given is not None and given != input_shape[input_at[d]]:
            raise ShapeError(
                f"EinsumDense {s.equation!r}: axis '{d}' is {input_shape[input_at[d]]} in the "
                f"input but {given} in output_shape"
            )
    for d in output_spec:
        if d not in input_spec and d not in weight_spec:
            raise ShapeError(
                f"EinsumDense {s.equation!r}: output axis '{d}' is in neither the input nor "
                "the kernel"
            )
    kernel: list[int | None] = []
    input_axes, output_axes = [], []
    for i, d in enumerate(weight_spec):
        if d in output_at:
            kernel.append(output[output_at[d]])
            output_axes.append(i)
        elif d in input_at:
            kernel.append(input_shape[input_at[d]])
            input_axes.append(i)
        else:
            raise ShapeError(
                f"EinsumDense {s.equation!r}: kernel axis '{d}' is in neither the input "
                "nor the output"
            )
    if any(k is None for k in kernel):
        raise ShapeError(
            f"EinsumDense {s.equation!r}: the kernel's shape {kernel} has an axis of unknown "
            "size; give it in output_shape"
        )
    bias = None
    if s.bias_axes is not None:
        missing = [c for c in s.bias_axes if c not in output_spec]
        if missing:
            raise ShapeError(
                f"EinsumDense bias_axes {s.bias_axes!r}: '{missing[0]}' is not an output "
                f"axis of {s.equation!r}"
            )
        offset = elided if left_elided else 0
        first = min(output_spec.find(c) for c in s.bias_axes)
        sizes = {c: output[i + offset] for i, c in enumerate(output_spec)}
        bias_shape = [sizes[c] if c in s.bias_axes else 1 for c in output_spec[first:]]
        if not left_elided:
            bias_shape += [1] * elided
        if any(b is None for b in bias_shape):
            raise ShapeError(f"EinsumDense bias_axes {s.bias_axes!r} name an axis of unknown size")
        bias = tuple(int(b) for b in bias_shape)  # type: ignore[arg-type]
    # Where output_shape leaves a shared axis open, the input gives its size (Keras's
    # symbolic shape keeps None there; its tensors have the input's size).
    offset = elided if left_elided else 0
    for i, d in enumerate(output_spec):
        if output[i + offset] is None and d in input_at:
            output[i + offset] = input_shape[input_at[d]]
    return EinsumShapes(
        tuple(int(k) for k in kernel),  # type: ignore[arg-type]
        bias,
        tuple(output),
        tuple(input_axes),
        tuple(output_axes),
    )


# Keras's VarianceScaling family: EinsumDense gives them the kernel's input and output
# axes, so fans are the products of those axes' sizes.
_VARIANCE_SCALING = {
    "glorotuniform", "glorotnormal", "heuniform", "henormal", "lecununiform", "lecunnormal",
    "variancescaling",
}  # fmt: skip


@register
class EinsumDense(Layer):
    """`activation(einsum(equation, x, kernel) + bias)`, kernel and bias in Keras's
    shapes (`einsum_shapes`). Without masking support, as in Keras."""

    spec_type = spec.EinsumDense

    def __init__(self, s: spec.EinsumDense, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        shapes = einsum_shapes(s, (None, *input_shape))
        self.equation = s.equation
        self.activation = activations.get(s.activation)
        self.activation_name = s.activation or "linear"
        name = s.kernel_initializer
        name = name if isinstance(name, str) else name.type
        fans: Any = None
        if name.replace("_", "").lower() in _VARIANCE_SCALING:
            kernel = shapes.kernel
            fans = (
                math.prod(kernel[i] for i in shapes.input_axes),
                math.prod(kernel[i] for i in shapes.output_axes),
            )
        self.kernel = self.add_weight(
            "kernel",
            shapes.kernel,
            s.kernel_initializer,
            regularizer=s.kernel_regularizer,
            constraint=s.kernel_constraint,
            keras_shape=fans,
        )
        self.bias: Tensor | None = None
        if shapes.bias is not None:
            self.bias = self.add_weight(
                "bias",
                shapes.bias,
                s.bias_initializer,
                regularizer=s.bias_regularizer,
                constraint=s.bias_constraint,
            )

    @classmethod
    def compute_output_shape(cls, s: spec.EinsumDense, input_shape: Shape) -> Shape:
        output = einsum_shapes(s, (None, *input_shape)).output[1:]
        if any(d is None for d in output):
            raise ShapeError(
                f"EinsumDense {s.equation!r}: output_shape {list(s.output_shape)} leaves an "
                "axis of unknown size that the input does not give"
            )
        return tuple(int(d) for d in output)  # type: ignore[arg-type]

    def pre_activation(self, x: Tensor) -> Tensor:
        out = torch.einsum(self.equation, x, self.kernel)
        return out if self.bias is None else out + self.bias

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.pre_activation(x))
