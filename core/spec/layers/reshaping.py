"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector, and UpSampling, ZeroPadding
and Cropping in 1-D, 2-D and 3-D. None has weights; each only moves, repeats, adds or
drops values."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, NonNegativeInt, PositiveInt, field_validator
from pydantic_core import PydanticCustomError

from cornu.core.spec.layers.base import IntPair, LayerSpec, register
from cornu.core.spec.layers.convolutional import DataFormat, IntTriple


@register
class Flatten(LayerSpec):
    """One feature axis per sample, in channels-last order."""

    type: Literal["Flatten"] = "Flatten"
    data_format: DataFormat = None


@register
class Reshape(LayerSpec):
    """Each sample to `target_shape` (batch excluded); one entry may be -1, "the rest"."""

    type: Literal["Reshape"] = "Reshape"
    target_shape: tuple[int, ...]

    @field_validator("target_shape")
    @classmethod
    def _positive_or_one_unknown(cls, shape: tuple[int, ...]) -> tuple[int, ...]:
        if any(d < 1 and d != -1 for d in shape) or shape.count(-1) > 1:
            raise PydanticCustomError(
                "target_shape",
                "target_shape {shape} may hold positive sizes and at most one -1 "
                "(the size that keeps the number of values unchanged)",
                {"shape": list(shape)},
            )
        return shape


@register
class Permute(LayerSpec):
    """Reorders the axes of each sample; `dims` counts them from 1, as Keras does."""

    type: Literal["Permute"] = "Permute"
    dims: tuple[PositiveInt, ...]

    @field_validator("dims")
    @classmethod
    def _a_permutation(cls, dims: tuple[int, ...]) -> tuple[int, ...]:
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise PydanticCustomError(
                "dims",
                "dims {dims} must be an order of 1..{n} (axes counted from 1, batch excluded)",
                {"dims": list(dims), "n": len(dims)},
            )
        return dims


@register
class RepeatVector(LayerSpec):
    """`(features,)` to `(n, features)`: the vector repeated `n` times."""

    type: Literal["RepeatVector"] = "RepeatVector"
    n: PositiveInt


@register
class UpSampling1D(LayerSpec):
    """Sequences `size` times longer, each step repeated (Keras takes one int here and no
    `data_format`)."""

    type: Literal["UpSampling1D"] = "UpSampling1D"
    size: PositiveInt = 2


@register
class UpSampling2D(LayerSpec):
    """Images `size` times larger, by repeating pixels or by bilinear interpolation."""

    type: Literal["UpSampling2D"] = "UpSampling2D"
    size: IntPair = (2, 2)
    data_format: DataFormat = None
    interpolation: Literal["nearest", "bilinear"] = "nearest"


@register
class UpSampling3D(LayerSpec):
    """Volumes `size` times larger, each voxel repeated."""

    type: Literal["UpSampling3D"] = "UpSampling3D"
    size: IntTriple = (2, 2, 2)
    data_format: DataFormat = None


def _int_pair(value: Any) -> Any:
    return (value, value) if isinstance(value, int) and not isinstance(value, bool) else value


def _pairs(n: int) -> BeforeValidator:
    """Keras's spellings of `n` axes' (before, after) amounts: `1` (every side),
    `(a, b, …)` (both sides of each axis), or `((a0, a1), (b0, b1), …)`."""

    def convert(value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return ((value, value),) * n
        if isinstance(value, list | tuple):
            return tuple(_int_pair(v) for v in value)
        return value

    return BeforeValidator(convert)


Pair = Annotated[tuple[NonNegativeInt, NonNegativeInt], BeforeValidator(_int_pair)]
"""`(before, after)` along one axis; one int for both."""
Pairs = Annotated[
    tuple[tuple[NonNegativeInt, NonNegativeInt], tuple[NonNegativeInt, NonNegativeInt]], _pairs(2)
]
"""`((top, bottom), (left, right))`."""
Triples = Annotated[
    tuple[
        tuple[NonNegativeInt, NonNegativeInt],
        tuple[NonNegativeInt, NonNegativeInt],
        tuple[NonNegativeInt, NonNegativeInt],
    ],
    _pairs(3),
]
"""`((front, back), (top, bottom), (left, right))`."""


@register
class ZeroPadding1D(LayerSpec):
    """Adds zero steps at both ends of sequences: `padding` is `(start, end)`."""

    type: Literal["ZeroPadding1D"] = "ZeroPadding1D"
    padding: Pair = (1, 1)
    data_format: DataFormat = None


@register
class ZeroPadding2D(LayerSpec):
    """Adds rows and columns of zeros around images: `((top, bottom), (left, right))`."""

    type: Literal["ZeroPadding2D"] = "ZeroPadding2D"
    padding: Pairs = ((1, 1), (1, 1))
    data_format: DataFormat = None


@register
class ZeroPadding3D(LayerSpec):
    """Adds zeros around volumes: `((front, back), (top, bottom), (left, right))`."""

    type: Literal["ZeroPadding3D"] = "ZeroPadding3D"
    padding: Triples = ((1, 1), (1, 1), (1, 1))
    data_format: DataFormat = None


@register
class Cropping1D(LayerSpec):
    """Removes steps at both ends of sequences: `cropping` is `(start, end)` (Keras takes
    no `data_format` here)."""

    type: Literal["Cropping1D"] = "Cropping1D"
    cropping: Pair = (1, 1)


@register
class Cropping2D(LayerSpec):
    """Removes rows and columns at image edges: `cropping` is `((top, bottom), (left, right))`."""

    type: Literal["Cropping2D"] = "Cropping2D"
    cropping: Pairs = ((0, 0), (0, 0))
    data_format: DataFormat = None


@register
class Cropping3D(LayerSpec):
    """Removes values at volume edges: `((front, back), (top, bottom), (left, right))`."""

    type: Literal["Cropping3D"] = "Cropping3D"
    cropping: Triples = ((1, 1), (1, 1), (1, 1))
    data_format: DataFormat = None
