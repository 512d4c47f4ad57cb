"""Keras's batch-mixing augmentations (MixUp, CutMix) and MaxNumBoundingBoxes.

Arguments, names and defaults as in Keras 3.15
(`keras/src/layers/preprocessing/image_preprocessing/mix_up.py`, `cut_mix.py`,
`max_num_bounding_box.py`). In a model these layers see only the image tensor: Keras
mixes labels only when the layer itself is given `{"images": …, "labels": …}`, which
`fit(x, y)` never does (see the engine's `mixing.py`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, model_validator
from pydantic_core import PydanticCustomError

from cornu.core.spec.layers.base import register
from cornu.core.spec.layers.preprocessing import UnitFactor, _Image, _Random


@register
class MixUp(_Random):
    """While training, `w * x + (1 - w) * x[p]` for each image, `p` a random permutation
    of the batch and `w ~ Beta(alpha, alpha)` per image.

    Keras does not check `alpha`; its torch backend refuses `alpha <= 0` when it draws,
    at inference too (it draws there and then does not mix), so Cornu refuses it here.
    """

    type: Literal["MixUp"] = "MixUp"
    alpha: float = Field(default=0.2, gt=0.0)


@register
class CutMix(_Random):
    """While training, pastes a rectangle of another image of the batch (a random
    permutation) into each image: its sides are `sqrt(1 - w)` of the image's, `w ~
    Beta(a, a)` per image, `a` drawn once per batch from the factor's range (+1e-6).

    `factor` is Keras's `_set_factor` with bounds (0, 1): a number `f` is `(0, f)`.
    Keras accepts a pair reaching below 0, and then fails while training whenever it
    draws a negative `a` (torch's Beta refuses it); Cornu refuses such a pair here.
    """

    type: Literal["CutMix"] = "CutMix"
    factor: UnitFactor = [0.0, 1.0]

    @model_validator(mode="after")
    def _positive_concentration(self) -> CutMix:
        if self.factor[0] < 0:
            raise PydanticCustomError(
                "factor_range",
                "CutMix draws Beta(a, a) with a from factor {factor} (+1e-6); a must be "
                "positive, so factor's lower bound must be at least 0",
                {"factor": self.factor},
            )
        return self


@register
class MaxNumBoundingBoxes(_Image):
    """Pads or truncates a batch's bounding boxes to `max_number`, with `fill_value`;
    it returns images unchanged. A model's layers get only images (Cornu's datasets
    have no form for boxes), so in a model it is the identity, as in Keras.

    Keras 3.15's `get_config` does not write `fill_value` (a file it writes rebuilds
    the layer with -1); Cornu writes it only when it is not -1.
    """

    type: Literal["MaxNumBoundingBoxes"] = "MaxNumBoundingBoxes"
    max_number: NonNegativeInt
    fill_value: int = -1


__all__ = ["CutMix", "MaxNumBoundingBoxes", "MixUp"]
