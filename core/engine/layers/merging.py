"""Keras's merging layers: elementwise merges, Concatenate and Dot, each on a list of tensors.

Masks follow Keras: an elementwise merge keeps a step that any input keeps (the masks
OR-ed; no mask when some input has none), and Multiply, Maximum and Minimum also leave
masked steps out of their values. Concatenate and Dot have their own rules.
"""

from __future__ import annotations

import functools
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from cornu.core.engine.layers.base import Layer, Mask, Shape, ShapeError, register, same_size
from cornu.core.spec.layers import merging as spec

# Keras's backend epsilon, the smallest norm `Dot(normalize=True)` divides by.
_KERAS_EPSILON = 1e-7


class _Merge(Layer):
    """Elementwise merges (Keras's `Merge`): inputs broadcast as Keras broadcasts them.

    Sample shapes align on their last axes and an axis of size 1 stretches; an input
    with fewer axes gains size-1 axes right after the batch axis.
    """

    multiple_inputs = True
    supports_masking = True
    exactly: ClassVar[int | None] = None  # the number of inputs, where it is fixed

    @classmethod
    def compute_output_shape(cls, s: spec.LayerSpec, input_shape: list[Shape]) -> Shape:
        name = s.type
        if cls.exactly is not None and len(input_shape) != cls.exactly:
            raise ShapeError(f"{name} takes exactly {cls.exactly} inputs, got {len(input_shape)}")
        if not input_shape:
            raise ShapeError(f"{name} needs at least one input")
        output = input_shape[0]
        for shape in input_shape[1:]:
            output = _broadcast(output, shape, name)
        return output

    def compute_mask(self, inputs: list[Tensor], mask: list[Mask] | None) -> Mask:
        present = [m for m in mask or [] if m is not None]
        if not present or len(present) < len(inputs):
            return None
        return functools.reduce(torch.logical_or, present)

    def forward(self, inputs: list[Tensor]) -> Tensor:
        return self.merge(_same_rank(inputs))

    def merge(self, inputs: list[Tensor]) -> Tensor:
        raise NotImplementedError


def _broadcast(shape1: Shape, shape2: Shape, name: str) -> Shape:
    """Keras's `_compute_elemwise_op_output_shape` (shapes without the batch)."""
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    if not shape2:
        return shape1
    out = list(shape1[: len(shape1) - len(shape2)])
    for i, j in zip(shape1[len(shape1) - len(shape2) :], shape2, strict=True):
        size = same_size(i, j)
        if size is None and 1 not in (i, j):
            raise ShapeError(
                f"{name}: inputs have incompatible shapes {_fmt(shape1)} and {_fmt(shape2)}; "
                "each axis must be equal, or 1 in one of them"
            )
        out.append(size if size is not None else (j if i == 1 else i))
    return tuple(out)


def _same_rank(inputs: list[Tensor]) -> list[Tensor]:
    """Inputs with fewer axes get size-1 axes after the batch, as Keras's Merge does."""
    rank = max(x.dim() for x in inputs)
    return [x.reshape(x.shape[0], *[1] * (rank - x.dim()), *x.shape[1:]) for x in inputs]


def _fmt(shape: Shape) -> str:
    return "(" + ", ".join(["batch", *map(str, shape)]) + ")"


@register
class Add(_Merge):
    spec_type = spec.Add

    def merge(self, inputs: list[Tensor]) -> Tensor:
        return functools.reduce(torch.add, inputs)


@register
class Subtract(_Merge):
    spec_type = spec.Subtract
    exactly = 2

    def merge(self, inputs: list[Tensor]) -> Tensor:
        return inputs[0] - inputs[1]


@register
class Average(_Merge):
    spec_type = spec.Average

    def merge(self, inputs: list[Tensor]) -> Tensor:
        return functools.reduce(torch.add, inputs) / len(inputs)


class _MaskedMerge(_Merge):
    """Merges whose values depend on the inputs' masks (`mask=` is a list, one per input)."""

    uses_mask = True

    def forward(self, inputs: list[Tensor], mask: list[Mask] | None = None) -> Tensor:
        masks = mask or [None] * len(inputs)
        # Keras broadcasts a step mask `(batch, steps)` over its input's features.
        steps = [None if m is None else m.bool().unsqueeze(-1) for m in masks]
        return self.masked_merge(_same_rank(inputs), steps)

    def masked_merge(self, inputs: list[Tensor], masks: list[Mask]) -> Tensor:
        raise NotImplementedError


@register
class Multiply(_MaskedMerge):
    """The product; a masked input counts as 1, and where every input is masked the
    output is 0 (Keras's `Multiply`)."""

    spec_type = spec.Multiply

    def masked_merge(self, inputs: list[Tensor], masks: list[Mask]) -> Tensor:
        factors = [x if m is None else x.where(m, 1.0) for x, m in zip(inputs, masks, strict=True)]
        output = functools.reduce(torch.mul, factors)
        present = [m for m in masks if m is not None]
        if len(present) < len(masks):
            return output
        return output.where(functools.reduce(torch.logical_or, present), 0.0)


class _Extremum(_MaskedMerge):
    """Keras's `_apply_merge_op_and_or_mask`: a masked input takes the running result's
    value, so it never wins; where every input is masked the first input's value stays."""

    def masked_merge(self, inputs: list[Tensor], masks: list[Mask]) -> Tensor:
        output, output_mask = inputs[0], masks[0]
        for x, m in zip(inputs[1:], masks[1:], strict=True):
            if m is not None:
                x = x.where(m, output)
            if output_mask is not None:
                output = output.where(output_mask, x)
            output_mask = None if m is None or output_mask is None else output_mask | m
            output = self.combine(output, x)
        return output

    def combine(self, a: Tensor, b: Tensor) -> Tensor:
        raise NotImplementedError


@register
class Maximum(_Extremum):
    spec_type = spec.Maximum

    def combine(self, a: Tensor, b: Tensor) -> Tensor:
        return torch.maximum(a, b)


@register
class Minimum(_Extremum):
    spec_type = spec.Minimum

    def combine(self, a: Tensor, b: Tensor) -> Tensor:
        return torch.minimum(a, b)


@register
class Concatenate(Layer):
    """Joins inputs along `axis`; every other axis must match exactly (no broadcasting)."""

    spec_type = spec.Concatenate
    multiple_inputs = True
    supports_masking = True

    def __init__(self, s: spec.Concatenate, input_shape: list[Shape]) -> None:
        super().__init__(s, input_shape)
        self.axis = self.concat_axis(s, input_shape[0])

    @classmethod
    def concat_axis(cls, s: spec.Concatenate, shape: Shape) -> int:
        """`axis` as a non-negative index counted with the batch."""
        rank = len(shape) + 1
        if not -rank <= s.axis < rank or s.axis % rank == 0:
            raise ShapeError(
                f"Concatenate axis {s.axis} must be a sample axis of these rank-{rank} inputs: "
                f"1 to {rank - 1}, or -1 to -{rank - 1} (0 is the batch)"
            )
        return s.axis % rank

    @classmethod
    def compute_output_shape(cls, s: spec.Concatenate, input_shape: list[Shape]) -> Shape:
        if not input_shape:
            raise ShapeError("Concatenate needs at least one input")
        axis = cls.concat_axis(s, input_shape[0]) - 1  # in shapes without the batch
        first = list(input_shape[0])
        for shape in input_shape[1:]:
            sizes = [same_size(a, b) for a, b in zip(first, shape, strict=False)]
            if len(shape) != len(first) or any(
                size is None for i, size in enumerate(sizes) if i != axis
            ):
                shapes = ", ".join(_fmt(s) for s in input_shape)
                raise ShapeError(
                    f"Concatenate needs inputs that match on every axis but the concatenation "
                    f"axis ({s.axis}); got {shapes}"
                )
            first = [
                a if i == axis else int(size or a)
                for i, (a, size) in enumerate(zip(first, sizes, strict=True))
            ]
        return (*first[:axis], sum(shape[axis] for shape in input_shape), *first[axis + 1 :])

    def compute_mask(self, inputs: list[Tensor], mask: list[Mask] | None) -> Mask:
        """Keras's rule: each input's mask over its full shape (all true if it has none),
        concatenated, then true for a step where any feature is."""
        if not mask or all(m is None for m in mask):
            return None
        full = [
            torch.ones_like(x, dtype=torch.bool)
            if m is None
            else m.bool().unsqueeze(-1).expand_as(x)
            if m.dim() < x.dim()
            else m.bool()
            for x, m in zip(inputs, mask, strict=True)
        ]
        return torch.cat(full, dim=self.axis).any(-1)

    def forward(self, inputs: list[Tensor]) -> Tensor:
        return torch.cat(inputs, dim=self.axis)


@register
class Dot(Layer):
    """Per-sample dot products of two inputs along one axis of each (Keras's `batch_dot`):
    the output has the first input's other axes, then the second's."""

    spec_type = spec.Dot
    multiple_inputs = True

    def __init__(self, s: spec.Dot, input_shape: list[Shape]) -> None:
        super().__init__(s, input_shape)
        self.axes = self.dot_axes(s, input_shape)

    @classmethod
    def dot_axes(cls, s: spec.Dot, input_shape: list[Shape]) -> tuple[int, int]:
        """`axes` as non-negative indices counted with the batch, checked against the inputs."""
        if len(input_shape) != 2:
            raise ShapeError(f"Dot takes exactly 2 inputs, got {len(input_shape)}")
        given = (s.axes, s.axes) if isinstance(s.axes, int) else s.axes
        axes = []
        for axis, shape in zip(given, input_shape, strict=True):
            rank = len(shape) + 1
            if not -rank <= axis < rank or axis % rank == 0:
                raise ShapeError(
                    f"Dot axes {s.axes}: {axis} is not a sample axis of a rank-{rank} input "
                    f"{_fmt(shape)} (use 1 to {rank - 1}, or negative; 0 is the batch)"
                )
            axes.append(axis % rank)
        size1, size2 = input_shape[0][axes[0] - 1], input_shape[1][axes[1] - 1]
        if size1 != size2:
            raise ShapeError(
                f"Dot axes {s.axes}: axis {axes[0]} of the first input has size {size1} but "
                f"axis {axes[1]} of the second has {size2}; they must be equal"
            )
        return axes[0], axes[1]

    @classmethod
    def compute_output_shape(cls, s: spec.Dot, input_shape: list[Shape]) -> Shape:
        a1, a2 = cls.dot_axes(s, input_shape)
        shape1, shape2 = list(input_shape[0]), list(input_shape[1])
        del shape1[a1 - 1], shape2[a2 - 1]
        return tuple(shape1 + shape2) or (1,)

    def forward(self, inputs: list[Tensor]) -> Tensor:
        x, y = inputs
        a1, a2 = self.axes
        if self.spec.normalize:
            x = F.normalize(x, dim=a1, eps=_KERAS_EPSILON)
            y = F.normalize(y, dim=a2, eps=_KERAS_EPSILON)
        x, y = x.movedim(a1, -1), y.movedim(a2, 1)
        batch, size = x.shape[0], x.shape[-1]
        out = torch.bmm(x.reshape(batch, -1, size), y.reshape(batch, size, -1))
        return out.reshape(batch, *self.output_shape)
