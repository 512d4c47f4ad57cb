"""Keras's batch-mixing augmentations and MaxNumBoundingBoxes, as Keras 3.15's torch
backend computes them on a batch of images (`keras/src/layers/preprocessing/
image_preprocessing/mix_up.py`, `cut_mix.py`, `max_num_bounding_box.py`).

Inside a model these layers get the image tensor alone, as in Keras: Keras's
`fit(x, y)` passes `x` through the layers and never `y`, so the labels are not mixed.
Keras mixes labels only when the layer is called on a dict `{"images": …, "labels":
…}`, in a data pipeline or in a functional model that takes the labels as an input and
outputs the mixed ones; Cornu's graphs have no dict-valued tensors, so that case cannot
be expressed here. Mixing the images and not the labels is what a Keras model holding
the layer trains on.

As the other random layers, MixUp and CutMix draw their parameters (`draw`) and apply
them (`transform_images`) separately, from torch's generator (the job's seed), not
Keras's `seed`; they are the identity at inference.
"""

from __future__ import annotations

import torch
from torch import Tensor

from cornu.core.engine.layers.base import Layer, Shape, ShapeError, register
from cornu.core.engine.layers.preprocessing import _Augmentation, _pair_of, _uniform
from cornu.core.spec.layers import mixing as spec


def _beta(concentration: Tensor) -> Tensor:
    """Keras's torch `random.beta(shape, a, a)`: torch's Beta distribution, one draw
    per element of `concentration` (unchecked: the spec keeps it positive, and a check
    would wait for the device)."""
    beta = torch.distributions.Beta(concentration, concentration, validate_args=False)
    return beta.sample()


def _permutation(x: Tensor) -> Tensor:
    """Keras's `random.shuffle(arange(batch))`: a uniformly random permutation of the
    batch's indices (an image may be paired with itself)."""
    return torch.randperm(x.shape[0], device=x.device)


@register
class MixUp(_Augmentation):
    """While training, `w * x + (1 - w) * x[p]` per image: `p` a random permutation of
    the batch, `w ~ Beta(alpha, alpha)` per image; `draw` is `(p, w)`. At inference the
    images, as float32 (Keras draws there too, and does not use the draw).

    Images `(N, H, W, C)`; Keras takes a rank-3 tensor as one image, which mixes with
    itself: a model's inputs are batches of `(H, W, C)` images here.
    """

    spec_type = spec.MixUp

    def draw(self, x: Tensor) -> tuple[Tensor, Tensor]:
        permutation = _permutation(x)
        alpha = torch.full((x.shape[0],), self.spec.alpha, device=x.device)
        return permutation, _beta(alpha)

    def transform_images(self, x: Tensor, draw: tuple[Tensor, Tensor]) -> Tensor:
        permutation, weight = draw
        x = x.float()
        weight = weight.float().view(-1, 1, 1, 1)
        return weight * x + (1.0 - weight) * x[permutation]


@register
class CutMix(_Augmentation):
    """While training, each image takes the pixels of a rectangle from the image `p`
    pairs it with (`p` a random permutation of the batch). The rectangle's sides are
    `sqrt(1 - w)` of the image's height and width, `w ~ Beta(a, a)` per image and `a`
    drawn once per batch from the factor's range (+1e-6); its corner is uniform over
    the positions that keep it inside the image, in real (not whole-pixel)
    coordinates: a pixel `(row, col)` is taken when `x0 <= col < x1` and
    `y0 <= row < y1` (`cut_mix.py`). `draw` is `(p, boxes)`, boxes `(N, 4)` as
    `x0, x1, y0, y1`. At inference the images, as float32.

    Keras also returns `w`'s exact area share `1 - (x1 - x0)(y1 - y0) / (H W)` to
    mix labels with; in a model no labels reach the layer (module docstring).
    """

    spec_type = spec.CutMix

    def draw(self, x: Tensor) -> tuple[Tensor, Tensor]:
        n, height, width = x.shape[:3]
        alpha = _uniform((), *_pair_of(self.spec.factor), x) + 1e-6
        ratio = torch.sqrt(1.0 - _beta(alpha.expand(n)))
        bounds = []
        for length in (width, height):  # Keras's order: x, then y
            crop = ratio * length
            start = _uniform((n,), 0.0, 1.0, x) * (length - crop)
            bounds += [start, start + crop]
        return _permutation(x), torch.stack(bounds, dim=1)

    def transform_images(self, x: Tensor, draw: tuple[Tensor, Tensor]) -> Tensor:
        permutation, boxes = draw
        x = x.float()
        rows = torch.arange(x.shape[1], dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
        cols = torch.arange(x.shape[2], dtype=x.dtype, device=x.device).view(1, 1, -1, 1)
        x0, x1, y0, y1 = (boxes[:, i].view(-1, 1, 1, 1) for i in range(4))
        inside = (cols >= x0) & (cols < x1) & (rows >= y0) & (rows < y1)
        return torch.where(inside, x[permutation], x)


@register
class MaxNumBoundingBoxes(Layer):
    """The identity on images (`(N, H, W, C)`, or `(N, H, W)` that Keras takes as one
    image), in training and at inference, keeping their dtype: Keras's
    `transform_images` returns them as they are; only a dict's `bounding_boxes`
    (which a model's inputs cannot be) are padded or cut to `max_number`."""

    spec_type = spec.MaxNumBoundingBoxes

    @classmethod
    def compute_output_shape(cls, s: spec.MaxNumBoundingBoxes, input_shape: Shape) -> Shape:
        if len(input_shape) not in (2, 3):
            raise ShapeError(
                "MaxNumBoundingBoxes takes images of shape (height, width, channels) or "
                f"(height, width), not {input_shape} (Keras's image layers take a batch "
                "of rank 3 or 4)"
            )
        return input_shape

    def forward(self, x: Tensor) -> Tensor:
        return x
