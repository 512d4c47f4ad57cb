"""Keras's composite and adaptive image augmentation layers: Pipeline, RandAugment,
AugMix, RandomElasticTransform and ContrastLimitedAdaptiveHistogramEqualization.

Arguments, names and defaults as in Keras 3.15 (`keras/src/layers/preprocessing/pipeline.py`
and `image_preprocessing/{rand_augment,aug_mix,random_elastic_transform,clahe}.py`).
RandAugment and AugMix build Keras's inner layers from their own arguments (`parts`),
with the same factors Keras gives them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    SerializeAsAny,
    field_validator,
)
from pydantic_core import PydanticCustomError

from cornu.core.spec.layers.base import IntPair, LayerSpec, register
from cornu.core.spec.layers.parsing import parse_layer
from cornu.core.spec.layers.preprocessing import (
    AutoContrast,
    Equalization,
    Interpolation,
    RandomBrightness,
    RandomColorDegeneration,
    RandomContrast,
    RandomPosterization,
    RandomRotation,
    RandomSharpness,
    RandomShear,
    RandomTranslation,
    Solarization,
    UnitFactor,
    _Image,
    _Random,
    _range_of,
)

ValueRange = tuple[float, float]  # kept as given: Keras does not sort these


@register
class Pipeline(LayerSpec):
    """Applies `layers` in order to one input (Keras's `Pipeline`: a plain layer, not a
    model); each inner layer gets the previous one's output and the training flag.

    Keras's config holds only `layers` (each a serialized layer) and `name`.
    """

    type: Literal["Pipeline"] = "Pipeline"
    layers: list[SerializeAsAny[LayerSpec]]

    @field_validator("layers", mode="before")
    @classmethod
    def _parse_layers(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise PydanticCustomError(
                "pipeline_layers",
                "Pipeline's layers must be a list of layers; got {value}",
                {"value": repr(value)[:80]},
            )
        parsed = [parse_layer(item) for item in value]
        for i, layer in enumerate(parsed):
            if layer.type == "Input":
                raise PydanticCustomError(
                    "pipeline_layers",
                    "Pipeline's layer {i} is an Input: a Pipeline holds layers only; give "
                    "the model's Input before the Pipeline",
                    {"i": i},
                )
        return parsed

    @property
    def inner_names(self) -> list[str]:
        """Each inner layer's Keras name: its own, or Keras's automatic one (`dense`,
        `dense_1` …), numbered within the Pipeline."""
        from cornu.core.spec.names import snake_case

        names, seen = [], set()
        for layer in self.layers:
            if layer.name is not None:
                names.append(layer.name)
                seen.add(layer.name)
                continue
            base, n = snake_case(layer.type), 0
            name = base
            while name in seen:
                n += 1
                name = f"{base}_{n}"
            seen.add(name)
            names.append(name)
        return names


class _Composite(_Random):
    """RandAugment's and AugMix's shared arguments; `parts` are Keras's inner layers."""

    value_range: ValueRange = (0.0, 255.0)
    interpolation: Interpolation = "bilinear"

    def ops(self) -> tuple[str, ...]:
        """Keras's `_AUGMENT_LAYERS`: the inner layers' attribute names, in its order."""
        raise NotImplementedError

    def named_parts(self) -> list[tuple[str, LayerSpec]]:
        """Keras's inner layers, by attribute name, in the order of `ops()`, with the
        arguments Keras's constructor gives them (`factor` as its `(lower, upper)`)."""
        factor = list(getattr(self, "factor"))  # noqa: B009  (both subclasses have it)
        value_range = list(self.value_range)
        colour = {"factor": factor, "value_range": value_range}
        interpolation = self.interpolation
        built: dict[str, LayerSpec] = {
            "random_shear": RandomShear(
                x_factor=factor, y_factor=factor, interpolation=interpolation
            ),
            "random_translation": RandomTranslation(
                height_factor=factor, width_factor=factor, interpolation=interpolation
            ),
            "random_rotation": RandomRotation.model_validate(
                {"factor": factor, "interpolation": interpolation}
            ),
            "random_brightness": RandomBrightness.model_validate(colour),
            "random_color_degeneration": RandomColorDegeneration.model_validate(colour),
            "random_contrast": RandomContrast.model_validate(colour),
            "random_sharpness": RandomSharpness.model_validate(colour),
            "random_posterization": RandomPosterization.model_validate(
                {"factor": max(1, int(8 * factor[1])), "value_range": value_range}
            ),
            "solarization": Solarization.model_validate(
                {
                    "addition_factor": factor,
                    "threshold_factor": factor,
                    "value_range": value_range,
                }
            ),
            "auto_contrast": AutoContrast.model_validate({"value_range": value_range}),
            "equalization": Equalization.model_validate({"value_range": value_range}),
        }
        return [(name, built[name]) for name in self.ops()]

    def parts(self) -> list[LayerSpec]:
        return [part for _, part in self.named_parts()]


_RAND_AUGMENT_OPS = (
    "random_shear",
    "random_translation",
    "random_rotation",
    "random_brightness",
    "random_color_degeneration",
    "random_contrast",
    "random_sharpness",
    "random_posterization",
    "solarization",
    "auto_contrast",
    "equalization",
)
_AUG_MIX_OPS = (
    "random_shear",
    "random_translation",
    "random_rotation",
    "random_posterization",
    "solarization",
    "auto_contrast",
    "equalization",
)
_AUG_MIX_ALL_OPS = (
    *_AUG_MIX_OPS,
    "random_brightness",
    "random_color_degeneration",
    "random_contrast",
    "random_sharpness",
)


@register
class RandAugment(_Composite):
    """While training, `num_ops` operations drawn per batch (with repetition) from Keras's
    eleven — shear, translation, rotation, brightness, colour degeneration, contrast,
    sharpness, posterization, solarization, auto-contrast, equalization — applied in
    turn with one draw of each operation's parameters; the identity otherwise."""

    type: Literal["RandAugment"] = "RandAugment"
    num_ops: NonNegativeInt = 2
    factor: UnitFactor = [0.0, 0.5]

    def ops(self) -> tuple[str, ...]:
        return _RAND_AUGMENT_OPS


@register
class AugMix(_Composite):
    """While training, `num_chains` chains of up to `chain_depth` operations (each slot
    an operation or none, drawn per batch), mixed with Dirichlet(`alpha`) weights and
    blended with the input by a Beta(`alpha`, `alpha`) weight, clipped to
    `value_range`; the identity otherwise. `all_ops=False` leaves out brightness,
    colour degeneration, contrast and sharpness."""

    type: Literal["AugMix"] = "AugMix"
    num_chains: PositiveInt = 3
    chain_depth: NonNegativeInt = 3
    factor: UnitFactor = [0.0, 0.3]
    alpha: PositiveFloat = 1.0
    all_ops: bool = True

    def ops(self) -> tuple[str, ...]:
        return _AUG_MIX_ALL_OPS if self.all_ops else _AUG_MIX_OPS


@register
class RandomElasticTransform(_Random):
    """While training, with probability from the factor's range per image, moves each
    pixel by a smoothed Gaussian displacement field (its strength `alpha` and smoothing
    `sigma` from `scale`'s draw and the image size) and resamples; clipped to
    `value_range`. The identity otherwise."""

    type: Literal["RandomElasticTransform"] = "RandomElasticTransform"
    factor: UnitFactor = [0.0, 1.0]
    scale: Annotated[list[float], _range_of((0.0, 1.0), "scale")] = [0.0, 1.0]
    interpolation: Interpolation = "bilinear"
    fill_mode: Literal["constant", "nearest", "wrap", "mirror", "reflect"] = "reflect"
    fill_value: float = 0.0
    value_range: ValueRange = (0.0, 255.0)


def _grid(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@register
class ContrastLimitedAdaptiveHistogramEqualization(_Image):
    """Equalizes each channel's histogram per tile of a `tile_grid_size` grid, each
    histogram clipped at `clip_limit` times the mean bin count, and blends the tiles'
    tables bilinearly; applied in training and at inference alike, as in Keras."""

    type: Literal["ContrastLimitedAdaptiveHistogramEqualization"] = (
        "ContrastLimitedAdaptiveHistogramEqualization"
    )
    value_range: ValueRange = (0.0, 255.0)
    clip_limit: float = 4.0
    tile_grid_size: Annotated[IntPair, BeforeValidator(_grid)] = (8, 8)
