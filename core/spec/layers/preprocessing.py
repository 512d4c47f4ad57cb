"""Keras's numeric preprocessing and image augmentation layers.

Arguments, names and defaults as in Keras 3.15 (`keras/src/layers/preprocessing/`).
A colour or rotation `factor` is checked with Keras's bounds and kept as the
`(lower, upper)` range Keras draws from and writes in its config (`factor_range`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from cornu.core.spec.layers.base import LayerSpec, register

ChannelsLast = Literal["channels_last"] | None
FillMode = Literal["reflect", "wrap", "constant", "nearest"]
Interpolation = Literal["nearest", "bilinear"]
Values = float | list[Any]  # a number, or nested lists of numbers (a per-feature array)


def _pair(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


Factor = Annotated[float | list[float], BeforeValidator(_pair)]


def factor_range(factor: float | list[float], bounds: tuple[float, float]) -> tuple[float, float]:
    """Keras's `_set_factor` (`base_image_preprocessing_layer.py`): a pair is sorted; a
    number `f` is `(max(-|f|, low), |f|)`, so RandomContrast's `0.5` is `(0, 0.5)`."""
    if isinstance(factor, list):
        lower, upper = sorted(factor)
        return float(lower), float(upper)
    f = abs(float(factor))
    return max(-f, bounds[0]), f


def _check_factor(name: str, factor: float | list[float], bounds: tuple[float, float]) -> None:
    """Keras's checks: a pair must overlap the bounds, a number must lie within them."""
    low, high = bounds
    if isinstance(factor, list):
        ok = len(factor) == 2 and not (factor[0] > high or factor[1] < low)
    else:
        ok = low <= factor <= high
    if not ok:
        raise PydanticCustomError(
            "factor_range",
            "{name} must be a number or a pair of numbers in [{low}, {high}]; got {factor}",
            {"name": name, "low": low, "high": high, "factor": factor},
        )


def _check_shift_factor(name: str, factor: float | list[float] | None, open_low: bool) -> None:
    """RandomZoom's and RandomTranslation's check of each number: in (-1, 1] or [-1, 1]."""
    if factor is None:
        return
    values = factor if isinstance(factor, list) else [factor]
    bad = len(values) != (2 if isinstance(factor, list) else 1) or any(
        v > 1.0 or v < -1.0 or (open_low and v == -1.0) for v in values
    )
    if bad:
        raise PydanticCustomError(
            "factor_range",
            "{name} must be a number or a pair of numbers in {low}, 1.0]; got {factor}",
            {"name": name, "low": "(-1.0" if open_low else "[-1.0", "factor": factor},
        )


def shift_range(factor: float | list[float]) -> tuple[float, float]:
    """RandomZoom's and RandomTranslation's `_set_factor`: sorted pair, or `(-|f|, |f|)`."""
    if isinstance(factor, list):
        lower, upper = sorted(factor)
        return float(lower), float(upper)
    return -abs(float(factor)), abs(float(factor))


def _check_each(name: str, factor: float | list[float], low: float, high: float) -> None:
    """Solarization's and RandomShear's check: every number within `[low, high]`."""
    values = factor if isinstance(factor, list) else [factor]
    if len(values) != (2 if isinstance(factor, list) else 1) or any(
        not low <= v <= high for v in values
    ):
        raise PydanticCustomError(
            "factor_range",
            "{name} must be a number or a pair of numbers in [{low}, {high}]; got {factor}",
            {"name": name, "low": low, "high": high, "factor": factor},
        )


def _range_of(bounds: tuple[float, float], name: str = "factor") -> BeforeValidator:
    """A factor checked against Keras's `bounds` and kept as the `(lower, upper)` range
    Keras draws from (and writes): a number `f` is `(max(-f, low), f)`."""

    def convert(value: Any) -> Any:
        value = _pair(value)
        numbers = value if isinstance(value, list) else [value]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
            return value  # not numbers: the type check says so
        _check_factor(name, value, bounds)
        return list(factor_range(value, bounds))

    return BeforeValidator(convert)


UnitFactor = Annotated[list[float], _range_of((0.0, 1.0))]  # a number f is (0, f)
SignedFactor = Annotated[list[float], _range_of((-1.0, 1.0))]  # a number f is (-f, f)


def _sorted_pair(value: tuple[float, float]) -> tuple[float, float]:
    low, high = sorted(value)
    return low, high


SortedRange = Annotated[tuple[float, float], AfterValidator(_sorted_pair)]


@register
class Rescaling(LayerSpec):
    """`inputs * scale + offset`; `scale` and `offset` may be per-channel lists."""

    type: Literal["Rescaling"] = "Rescaling"
    scale: Values
    offset: Values = 0.0


def _axes(value: Any) -> Any:
    """Keras's `axis` as the tuple its constructor makes (None: no axis, -1: `(-1,)`)."""
    if value is None:
        return []
    return [value] if isinstance(value, int) else value


@register
class Normalization(LayerSpec):
    """`(inputs - mean) / max(sqrt(variance), 1e-7)` (or its inverse with `invert`).

    `axis` counts the batch as 0 and names the axes that keep their own statistics
    (`None`: one scalar mean and variance). Without `mean` and `variance` the layer
    holds them as the non-trainable weights `mean`, `variance` and `count`, which
    `adapt(data)` in the SDK computes (Keras's `normalization.py`).
    """

    type: Literal["Normalization"] = "Normalization"
    axis: Annotated[list[int], BeforeValidator(_axes)] = [-1]
    mean: Values | None = None
    variance: Values | None = None
    invert: bool = False

    @model_validator(mode="after")
    def _mean_with_variance(self) -> Normalization:
        if (self.mean is None) != (self.variance is None):
            raise PydanticCustomError(
                "normalization_values",
                "give both mean and variance, or neither (then adapt() computes them)",
            )
        if self.mean is not None:
            mean, variance = np.asarray(self.mean), np.asarray(self.variance)
            if mean.shape != variance.shape:
                raise PydanticCustomError(
                    "normalization_values",
                    "mean and variance must have the same shape; got {a} and {b}",
                    {"a": list(mean.shape), "b": list(variance.shape)},
                )
            axes = len(self.axis)
            if mean.ndim > axes:
                raise PydanticCustomError(
                    "normalization_values",
                    "mean has rank {rank}, more than the {axes} axes of axis={axis}",
                    {"rank": mean.ndim, "axes": axes, "axis": self.axis},
                )
        return self


class _Image(LayerSpec):
    """Image layers' common arguments (Keras's `BaseImagePreprocessingLayer`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    data_format: ChannelsLast = None


class _Random(_Image):
    """Random augmentations: Keras's `seed` (Cornu draws from the job's generator)."""

    seed: int | None = None


class _Sized(_Image):
    """Layers whose output images have a fixed `height` and `width`."""

    height: PositiveInt
    width: PositiveInt


@register
class Resizing(_Sized):
    """Resizes images to `(height, width)` as Keras's torch backend does (`F.interpolate`,
    half-pixel centres), after an optional centred crop or pad to the target's aspect
    ratio."""

    type: Literal["Resizing"] = "Resizing"
    interpolation: Literal["bilinear", "nearest", "bicubic"] = "bilinear"
    crop_to_aspect_ratio: bool = False
    pad_to_aspect_ratio: bool = False
    fill_mode: Literal["constant"] = "constant"
    fill_value: float = 0.0
    antialias: bool = False

    @model_validator(mode="after")
    def _one_aspect_rule(self) -> Resizing:
        if self.crop_to_aspect_ratio and self.pad_to_aspect_ratio:
            raise PydanticCustomError(
                "resizing_aspect",
                "only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be true",
            )
        return self


@register
class CenterCrop(_Sized):
    """Crops the centre `(height, width)` of each image (resizing when smaller)."""

    type: Literal["CenterCrop"] = "CenterCrop"


@register
class RandomCrop(_Sized, _Random):
    """While training, one random `(height, width)` window per batch of larger images;
    otherwise (and at inference) the window Keras places from its centred aspect-ratio
    crop, resized where the image is smaller."""

    type: Literal["RandomCrop"] = "RandomCrop"


@register
class RandomFlip(_Random):
    """While training, flips each image with probability 1/2 (one draw per image for
    both axes in `horizontal_and_vertical`, as in Keras)."""

    type: Literal["RandomFlip"] = "RandomFlip"
    mode: Literal["horizontal", "vertical", "horizontal_and_vertical"] = "horizontal_and_vertical"


class _Affine(_Random):
    """What the layers that resample images through an affine map share."""

    fill_mode: FillMode = "reflect"
    interpolation: Interpolation = "bilinear"
    fill_value: float = 0.0


@register
class RandomRotation(_Affine):
    """While training, rotates each image by `factor * 360` degrees, drawn uniformly."""

    type: Literal["RandomRotation"] = "RandomRotation"
    factor: SignedFactor


@register
class RandomZoom(_Affine):
    """While training, zooms each image by `1 + u`, `u` drawn from the factors' ranges
    (positive zooms out); without `width_factor` both axes share the draw."""

    type: Literal["RandomZoom"] = "RandomZoom"
    height_factor: Factor
    width_factor: Factor | None = None

    @model_validator(mode="after")
    def _factors(self) -> RandomZoom:
        _check_shift_factor("height_factor", self.height_factor, open_low=True)
        _check_shift_factor("width_factor", self.width_factor, open_low=True)
        return self


@register
class RandomTranslation(_Affine):
    """While training, shifts each image by a fraction of its height and width."""

    type: Literal["RandomTranslation"] = "RandomTranslation"
    height_factor: Factor
    width_factor: Factor

    @model_validator(mode="after")
    def _factors(self) -> RandomTranslation:
        _check_shift_factor("height_factor", self.height_factor, open_low=False)
        _check_shift_factor("width_factor", self.width_factor, open_low=False)
        return self


@register
class RandomPerspective(_Random):
    """While training, a random perspective warp of each image chosen with probability
    from the factor's range, its corners moved by up to `scale / 2` of their
    coordinates."""

    type: Literal["RandomPerspective"] = "RandomPerspective"
    factor: UnitFactor = [0.0, 1.0]
    scale: float = Field(default=1.0, ge=0.0, le=1.0)
    interpolation: Interpolation = "bilinear"
    fill_value: float = 0.0


@register
class RandomContrast(_Random):
    """While training, `(x - mean) * c + mean` per image and channel, `c` drawn from
    `[1 - lower, 1 + upper]`, clipped to `value_range`."""

    type: Literal["RandomContrast"] = "RandomContrast"
    factor: UnitFactor
    value_range: tuple[float, float] = (0.0, 255.0)


@register
class RandomBrightness(_Random):
    """While training, adds `u * (value_range[1] - value_range[0])` to each image, `u`
    drawn from the factor's range, clipped to `value_range` (sorted, as in Keras)."""

    type: Literal["RandomBrightness"] = "RandomBrightness"
    factor: SignedFactor
    value_range: SortedRange = (0.0, 255.0)


@register
class RandomGrayscale(_Random):
    """While training, turns each image grey with probability `factor` (Keras's
    `rgb_to_grayscale` weights, repeated over the 3 channels)."""

    type: Literal["RandomGrayscale"] = "RandomGrayscale"
    factor: float = Field(default=0.5, ge=0.0, le=1.0)


@register
class Solarization(_Random):
    """While training, in `[0, 255]`: adds `a`, clips, and inverts (`255 - x`) the pixels
    at or above a threshold `t`; `a` and `t` drawn per image."""

    type: Literal["Solarization"] = "Solarization"
    addition_factor: list[float] = [0.0, 0.0]
    threshold_factor: list[float] = [0.0, 0.0]
    value_range: SortedRange = (0.0, 255.0)

    @field_validator("addition_factor", "threshold_factor", mode="before")
    @classmethod
    def _factor(cls, value: Any, info: ValidationInfo) -> Any:
        """Numbers in `[0, 1]`; a number `f` is `(0, f)` (Keras's own `_set_factor`)."""
        value = _pair(value)
        numbers = value if isinstance(value, list) else [value]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
            return value
        _check_each(str(info.field_name), value, 0.0, 1.0)
        return sorted(value) if isinstance(value, list) else [0.0, float(value)]


@register
class RandomInvert(_Random):
    """While training, `value_range[1] - x` for each image with a probability drawn from
    the factor's range."""

    type: Literal["RandomInvert"] = "RandomInvert"
    factor: UnitFactor = [0.0, 1.0]
    value_range: tuple[float, float] = (0.0, 255.0)


@register
class RandomPosterization(_Random):
    """While training, keeps the `b` high bits of each 8-bit value, `b` drawn per image
    from `[lower, upper)` of the factor's range (a number `f` is `(1, f)`)."""

    type: Literal["RandomPosterization"] = "RandomPosterization"
    factor: Annotated[list[int], _range_of((1.0, 8.0))]  # a number f is (1, f)
    value_range: SortedRange = (0.0, 255.0)


@register
class AutoContrast(_Image):
    """Stretches each image's channels to the whole `value_range`, at inference too."""

    type: Literal["AutoContrast"] = "AutoContrast"
    value_range: SortedRange = (0.0, 255.0)


@register
class RandomSharpness(_Random):
    """While training, blends each image with its 3 x 3 smoothing by `1 - 2u`."""

    type: Literal["RandomSharpness"] = "RandomSharpness"
    factor: UnitFactor
    value_range: SortedRange = (0.0, 255.0)


@register
class RandomHue(_Random):
    """While training, shifts each image's hue by `±u / 2` of a turn."""

    type: Literal["RandomHue"] = "RandomHue"
    factor: UnitFactor
    value_range: tuple[float, float] = (0.0, 255.0)


@register
class RandomSaturation(_Random):
    """While training, multiplies each image's HSV saturation by `u / (1 - u + 1e-7)`."""

    type: Literal["RandomSaturation"] = "RandomSaturation"
    factor: SignedFactor
    value_range: SortedRange = (0.0, 255.0)


@register
class RandomColorDegeneration(_Random):
    """While training, blends each RGB image towards its greyscale by `u`."""

    type: Literal["RandomColorDegeneration"] = "RandomColorDegeneration"
    factor: SignedFactor
    value_range: SortedRange = (0.0, 255.0)


@register
class RandomShear(_Random):
    """While training, shears each image about its top-left pixel by `±u` along x and
    y (one random sign per image for both), `u` from each factor's range (a number `f`
    is `(-f, f)`).

    The factors are kept as given: Keras 3.15 writes a number `f` as `[-f, f]` in its
    config, which its own constructor then refuses (each number must be in `[0, 1]`).
    """

    type: Literal["RandomShear"] = "RandomShear"
    x_factor: Factor = 0.0
    y_factor: Factor = 0.0
    interpolation: Interpolation = "bilinear"
    fill_mode: FillMode = "reflect"
    fill_value: float = 0.0

    @field_validator("x_factor", "y_factor")
    @classmethod
    def _factor(cls, value: float | list[float], info: ValidationInfo) -> float | list[float]:
        _check_each(str(info.field_name), value, 0.0, 1.0)
        return value


@register
class RandomGaussianBlur(_Random):
    """While training, blurs each image with probability drawn from the factor's range,
    with a `kernel_size` Gaussian of `sigma` drawn per batch (zero padding)."""

    type: Literal["RandomGaussianBlur"] = "RandomGaussianBlur"
    factor: UnitFactor = [0.0, 1.0]
    kernel_size: Annotated[int | list[int], BeforeValidator(_pair)] = 3
    sigma: Annotated[list[float], _range_of((0.0, 1.0), "sigma")] = [0.0, 1.0]
    value_range: tuple[float, float] = (0.0, 255.0)

    @field_validator("kernel_size")
    @classmethod
    def _odd_square(cls, value: int | list[int]) -> list[int]:
        sizes = value if isinstance(value, list) else [value, value]
        if len(sizes) != 2 or any(k % 2 == 0 or k < 1 for k in sizes):
            raise PydanticCustomError(
                "kernel_size", "kernel_size must be an odd number; got {value}", {"value": value}
            )
        if sizes[0] != sizes[1]:
            raise PydanticCustomError(
                "kernel_size",
                "kernel_size {value}: only square kernels are supported (Keras's torch "
                "backend pads both axes by the first size)",
                {"value": value},
            )
        return sizes


@register
class Equalization(_Image):
    """While training, equalizes each channel's histogram of `bins` bins, over the whole
    batch as Keras 3.15 computes it (`equalization.py`)."""

    type: Literal["Equalization"] = "Equalization"
    value_range: SortedRange = (0.0, 255.0)
    bins: PositiveInt = 256


@register
class RandomColorJitter(_Random):
    """While training, RandomBrightness, RandomContrast, RandomSaturation and RandomHue
    in that order, each with its factor (those not given are skipped) and this
    `value_range`."""

    type: Literal["RandomColorJitter"] = "RandomColorJitter"
    value_range: tuple[float, float] = (0.0, 255.0)
    brightness_factor: Factor | None = None
    contrast_factor: Factor | None = None
    saturation_factor: Factor | None = None
    hue_factor: Factor | None = None

    def parts(self) -> list[LayerSpec]:
        """The layers Keras builds inside, with its arguments, in the order it runs them."""
        return [part for _, part in self._named_parts()]

    def _named_parts(self) -> list[tuple[str, LayerSpec]]:
        kinds: list[tuple[str, type[LayerSpec]]] = [
            ("brightness_factor", RandomBrightness),
            ("contrast_factor", RandomContrast),
            ("saturation_factor", RandomSaturation),
            ("hue_factor", RandomHue),
        ]
        parts = []
        for name, kind in kinds:
            factor = getattr(self, name)
            if factor is None:
                continue
            try:
                part = kind.model_validate({"factor": factor, "value_range": self.value_range})
            except ValidationError as exc:
                raise PydanticCustomError(
                    "factor_range",
                    "{name}: {problem}",
                    {"name": name, "problem": exc.errors()[0]["msg"]},
                ) from None
            parts.append((name, part))
        return parts

    @model_validator(mode="after")
    def _parts_are_valid(self) -> RandomColorJitter:
        self._named_parts()  # each part checks its factor as Keras's constructors do
        return self


@register
class RandomErasing(_Random):
    """While training, fills a random rectangle of each image chosen with probability
    from the factor's range: its sides are `sqrt(s)` of the image's, `s` drawn from
    `scale`'s range; filled with `fill_value` (a number or one per RGB channel) or,
    without one, Gaussian noise times `value_range[1]`, clipped to `value_range`."""

    type: Literal["RandomErasing"] = "RandomErasing"
    factor: UnitFactor = [0.0, 1.0]
    scale: Annotated[list[float], _range_of((0.0, 1.0), "scale")] = [0.02, 0.33]
    fill_value: float | Annotated[list[float], Field(min_length=3, max_length=3)] | None = None
    value_range: tuple[float, float] = (0.0, 255.0)


@register
class CategoryEncoding(LayerSpec):
    """Integer category ids to `num_tokens`-wide one-hot, multi-hot or count vectors."""

    type: Literal["CategoryEncoding"] = "CategoryEncoding"
    num_tokens: PositiveInt
    output_mode: Literal["one_hot", "multi_hot", "count"] = "multi_hot"
    sparse: Literal[False] = False

    @field_validator("output_mode", mode="before")
    @classmethod
    def _binary(cls, value: Any) -> Any:
        return "multi_hot" if value == "binary" else value  # Keras's older name


__all__ = ["factor_range", "shift_range"]
