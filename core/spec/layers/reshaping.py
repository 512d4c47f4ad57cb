"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector, UpSampling2D, ZeroPadding2D,
Cropping2D. None has weights; each only moves, repeats, adds or drops values."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, NonNegativeInt, PositiveInt, field_validator
from pydantic_core import PydanticCustomError

from cornu.core.spec.layers.base import IntPair, LayerSpec, register
from cornu.core.spec.layers.convolutional import DataFormat


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
class UpSampling2D(LayerSpec):
    """Images `size` times larger, by repeating pixels or by bilinear interpolation."""

    type: Literal["UpSampling2D"] = "UpSampling2D"
    size: IntPair = (2, 2)
    data_format: DataFormat = None
    interpolation: Literal["nearest", "bilinear"] = "nearest"


def _pairs(value: Any) -> Any:
    """Keras's three spellings: `1`, `(top_bottom, left_right)`, `((t, b), (l, r))`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return ((value, value), (value, value))
    if isinstance(value, list | tuple) and len(value) == 2:
        return tuple((v, v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value)
    return value


Pairs = Annotated[
    tuple[tuple[NonNegativeInt, NonNegativeInt], tuple[NonNegativeInt, NonNegativeInt]],
    BeforeValidator(_pairs),
]
"""`((top, bottom), (left, right))`."""


@register
class ZeroPadding2D(LayerSpec):
    """Adds rows and columns of zeros around images: `((top, bottom), (left, right))`."""

    type: Literal["ZeroPadding2D"] = "ZeroPadding2D"
    padding: Pairs = ((1, 1), (1, 1))
    data_format: DataFormat = None


@register
class Cropping2D(LayerSpec):
    """Removes rows and columns at image edges: `cropping` is `((top, bottom), (left, right))`."""

    type: Literal["Cropping2D"] = "Cropping2D"
    cropping: Pairs = ((0, 0), (0, 0))
    data_format: DataFormat = None
