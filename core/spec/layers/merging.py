"""Keras's merging layers: each takes a list of tensors and returns one."""

from __future__ import annotations

from typing import Literal

from cornu.core.spec.layers.base import LayerSpec, register


@register
class Concatenate(LayerSpec):
    """Joins inputs along `axis` (counted with the batch); the other axes must match."""

    type: Literal["Concatenate"] = "Concatenate"
    axis: int = -1


@register
class Add(LayerSpec):
    """The elementwise sum of the inputs."""

    type: Literal["Add"] = "Add"


@register
class Subtract(LayerSpec):
    """The first input minus the second (exactly two inputs)."""

    type: Literal["Subtract"] = "Subtract"


@register
class Multiply(LayerSpec):
    """The elementwise product of the inputs."""

    type: Literal["Multiply"] = "Multiply"


@register
class Average(LayerSpec):
    """The elementwise mean of the inputs."""

    type: Literal["Average"] = "Average"


@register
class Maximum(LayerSpec):
    """The elementwise maximum of the inputs."""

    type: Literal["Maximum"] = "Maximum"


@register
class Minimum(LayerSpec):
    """The elementwise minimum of the inputs."""

    type: Literal["Minimum"] = "Minimum"


@register
class Dot(LayerSpec):
    """Per-sample dot products of two inputs along `axes` (one axis for both, or one for
    each, counted with the batch); `normalize=True` gives cosine similarities."""

    type: Literal["Dot"] = "Dot"
    axes: int | tuple[int, int]
    normalize: bool = False


MERGING = frozenset(("Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
                     "Dot"))  # fmt: skip
"""The merging layers' types: each is called on a list of tensors."""
