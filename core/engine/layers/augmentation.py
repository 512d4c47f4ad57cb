"""Keras's composite and adaptive image augmentation layers, as Keras's torch backend
computes them: Pipeline, RandAugment, AugMix, RandomElasticTransform and
ContrastLimitedAdaptiveHistogramEqualization (`keras/src/layers/preprocessing/`).

Images are `(H, W, C)` per sample. RandAugment, AugMix and RandomElasticTransform
change their inputs only while training (`draw`, then `transform_images`, as the
random layers in `preprocessing.py`); CLAHE applies at inference too, as in Keras.
RandAugment and AugMix run Keras's inner layers (`preprocessing.py`'s) with the
arguments Keras gives them. Which operations run, and the elastic field's strength,
are drawn on the CPU: they choose shapes and Python branches, so the device is not
waited on; the per-image draws come from the input's device.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from cornu.core.engine.layers.base import LAYERS, Layer, Shape, ShapeError, register
from cornu.core.engine.layers.preprocessing import (
    _Augmentation,
    _image_shape,
    _to_range,
    _uniform,
    sample,
)
from cornu.core.engine.layers.wrappers import Wrapper
from cornu.core.spec.layers import augmentation as spec

# -- Pipeline ----------------------------------------------------------------------------


@register
class Pipeline(Wrapper):
    """Its layers in order, each on the previous one's output, in the model's training
    mode (`pipeline.py`); their weights count as the Pipeline's, under each layer's
    name."""

    spec_type = spec.Pipeline

    def __init__(self, s: spec.Pipeline, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        built, shape = [], input_shape
        for inner in s.layers:
            layer = LAYERS[inner.type](inner, shape)
            built.append(layer)
            shape = layer.output_shape
        self.layers = torch.nn.ModuleList(built)

    def wrapped(self) -> list[tuple[str, Layer]]:
        names = self.spec.inner_names
        return [(f"{n}/", layer) for n, layer in zip(names, self.layers, strict=True)]  # type: ignore[misc]

    @classmethod
    def compute_output_shape(cls, s: spec.Pipeline, input_shape: Any) -> Any:
        shape = input_shape
        for i, inner in enumerate(s.layers):
            kind = LAYERS[inner.type]
            if kind.multiple_inputs:
                raise ShapeError(f"Pipeline's layer {i} ({inner.type}) takes several inputs")
            try:
                shape = kind.compute_output_shape(inner, shape)
            except ShapeError as exc:
                raise ShapeError(f"Pipeline's layer {i} ({inner.type}): {exc}") from None
            if isinstance(shape, list):
                raise ShapeError(
                    f"Pipeline's layer {i} ({inner.type}) returns {len(shape)} outputs; "
                    "a Pipeline passes one tensor from layer to layer"
                )
        return shape

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x, mask=None) if layer.uses_mask else layer(x)
        return x


# -- RandAugment and AugMix --------------------------------------------------------------


def _inner_draw(layer: torch.nn.Module, x: Tensor) -> Any:
    """An inner layer's draw (AutoContrast, which always applies, has none)."""
    return layer.draw(x) if isinstance(layer, _Augmentation) else None


def _inner_transform(layer: torch.nn.Module, x: Tensor, draw: Any) -> Tensor:
    """An inner layer's `transform_images` (AutoContrast's output)."""
    if isinstance(layer, _Augmentation):
        return layer.transform_images(x, draw)
    return layer(x)


class _Composite(_Augmentation):
    """Keras's inner layers, built from the spec's `parts` on the same images."""

    def __init__(self, s: spec._Composite, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.ops = [name for name, _ in s.named_parts()]
        self.parts = torch.nn.ModuleDict(
            {name: LAYERS[part.type](part, input_shape) for name, part in s.named_parts()}
        )

    @classmethod
    def compute_output_shape(cls, s: spec._Composite, input_shape: Shape) -> Shape:
        for part in s.parts():
            LAYERS[part.type].compute_output_shape(part, input_shape)
        return _image_shape(s.type, input_shape)


@register
class RandAugment(_Composite):
    """`num_ops` operation indices drawn per batch from `[0, 11)` (repeats allowed), each
    operation applied to the whole batch with its one draw — an operation drawn twice
    runs twice with the same parameters (`rand_augment.py`). `draw` is
    `{"ops": [index, …], "draws": {name: draw}}`.

    This is what Keras computes on TensorFlow and JAX. Its torch backend runs every
    operation on each pass and selects with `where`, and two change their inputs in
    place: RandomBrightness's `images += delta` (its delta then reaches the images on
    every pass, chosen or not) and `affine_transform`'s swap of RandomRotation's matrix
    (a rotation chosen on a later pass uses the swapped matrix); Cornu copies neither.
    """

    spec_type = spec.RandAugment

    def draw(self, x: Tensor) -> dict[str, Any]:
        ops = torch.randint(0, len(self.ops), (self.spec.num_ops,)).tolist()
        draws = {name: _inner_draw(part, x) for name, part in self.parts.items()}
        return {"ops": ops, "draws": draws}

    def transform_images(self, x: Tensor, draw: dict[str, Any]) -> Tensor:
        out = x.float()
        for index in draw["ops"]:
            name = self.ops[index]
            out = _inner_transform(self.parts[name], out, draw["draws"][name])
        return out


def _dirichlet(n: int, alpha: float, like: Tensor) -> Tensor:
    """Keras's `_sample_from_dirichlet`: Gamma(alpha, 1) draws over their sum."""
    concentration = torch.full((n,), float(alpha), device=like.device)
    gamma = torch.distributions.Gamma(concentration, torch.ones_like(concentration)).sample()
    return gamma / gamma.sum(dim=-1, keepdim=True)


@register
class AugMix(_Composite):
    """`num_chains` chains, each of `chain_depth` slots filled per batch with one of the
    operations or none (uniformly, none included), each operation with its own draw;
    the chains' outputs weighted by Dirichlet(`alpha`) weights `w`, then
    `m * x + (1 - m) * Σ w_i chain_i` with `m ~ Beta(alpha, alpha)`, clipped to
    `value_range` (`aug_mix.py`). `draw` is `{"weights": w, "mix": m, "chains":
    [[(name, draw), …], …]}`."""

    spec_type = spec.AugMix

    def draw(self, x: Tensor) -> dict[str, Any]:
        s = self.spec
        weights = _dirichlet(s.num_chains, s.alpha, x)
        alpha = torch.tensor(float(s.alpha), device=x.device)
        mix = torch.distributions.Beta(alpha, alpha).sample()
        slots = torch.randint(0, len(self.ops) + 1, (s.num_chains, s.chain_depth)).tolist()
        chains = [
            [
                (self.ops[i], _inner_draw(self.parts[self.ops[i]], x))
                for i in row
                if i < len(self.ops)
            ]
            for row in slots
        ]
        return {"weights": weights, "mix": mix, "chains": chains}

    def transform_images(self, x: Tensor, draw: dict[str, Any]) -> Tensor:
        images = x.float()
        mixed = torch.zeros_like(images)
        for i, chain in enumerate(draw["chains"]):
            out = images
            for name, drawn in chain:
                out = _inner_transform(self.parts[name], out, drawn)
            mixed = mixed + out * draw["weights"][i]
        mix = draw["mix"]
        low, high = self.spec.value_range
        return torch.clip(mix * images + (1 - mix) * mixed, low, high)


# -- RandomElasticTransform --------------------------------------------------------------


def gaussian_blur(x: Tensor, size: int, sigma: Tensor) -> Tensor:
    """Keras's torch `gaussian_blur` of `(N, H, W, C)` images with a square `size` kernel
    of deviation `sigma` on both axes, zero padding."""
    offsets = torch.arange(size, dtype=x.dtype, device=x.device) - (size - 1) / 2
    along = torch.exp(-0.5 * (offsets / sigma) ** 2)
    along = along / along.sum()
    channels = x.shape[-1]
    kernel = torch.outer(along, along).expand(channels, 1, size, size)
    blurred = F.conv2d(x.permute(0, 3, 1, 2), kernel, padding=size // 2, groups=channels)
    return blurred.permute(0, 2, 3, 1)


@register
class RandomElasticTransform(_Augmentation):
    """The images where `u < p` (`p` from the factor's range, per image) read at
    `(y + alpha * dy, x + alpha * dx)`: `dx`, `dy` standard normal fields times `sigma`,
    blurred by a Gaussian of `sigma` and size `int(6 sigma) | 1`, with
    `alpha = 0.1 d max(H, W)` and `sigma = 0.05 d min(H, W)` for one `d` per batch from
    `scale`'s range; then every image is clipped to `value_range`
    (`random_elastic_transform.py`, the torch backend's `elastic_transform`).

    `draw` is None when `scale` or `factor` is at most 0 (Keras leaves the images as they
    are, unclipped), else `(apply, d, noise)`, `noise` the `(2, N, H, W)` normal fields
    (x then y) that Keras draws inside its `transform_images`.
    """

    spec_type = spec.RandomElasticTransform

    def draw(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor] | None:
        s = self.spec
        if s.scale[1] == 0 or s.factor[1] == 0:
            return None
        n, height, width = x.shape[:3]
        probability = _uniform((n,), s.factor[0], s.factor[1], x)
        apply = _uniform((n,), 0.0, 1.0, x) < probability
        # on the CPU: it sets the kernel's size
        distortion = torch.rand(()) * (s.scale[1] - s.scale[0]) + s.scale[0]
        noise = torch.randn((2, n, height, width), device=x.device)
        return apply, distortion, noise

    def transform_images(self, x: Tensor, draw: tuple[Tensor, Tensor, Tensor] | None) -> Tensor:
        images = x.float()
        if draw is None:
            return images
        apply, distortion, noise = draw
        s = self.spec
        height, width = images.shape[1:3]
        distortion = distortion.float().cpu()
        alpha = max(height, width) * (0.1 * distortion)
        sigma = min(height, width) * (0.05 * distortion)
        size = int(6 * sigma) | 1
        fields = noise.float().reshape(-1, height, width, 1) * sigma.to(x.device)
        fields = gaussian_blur(fields, size, sigma.to(x.device)).reshape(noise.shape)
        dx, dy = fields[0], fields[1]
        ys = torch.arange(height, device=x.device).view(1, height, 1)
        xs = torch.arange(width, device=x.device).view(1, 1, width)
        alpha = alpha.to(x.device)
        moved = sample(
            images, ys + alpha * dy, xs + alpha * dx, s.interpolation, s.fill_mode, s.fill_value
        )
        out = torch.where(apply.view(-1, 1, 1, 1), moved, images)
        low, high = s.value_range
        return torch.clip(out, low, high)


# -- CLAHE -------------------------------------------------------------------------------


@register
class ContrastLimitedAdaptiveHistogramEqualization(Layer):
    """CLAHE in `[0, 255]`, at inference too (`clahe.py`): images padded at the bottom
    and right to whole tiles by repeating the last row and column (the torch backend's
    "symmetric" pad); per tile and channel a 256-bin histogram of the values truncated
    to integers, clipped at `int(clip_limit * tile pixels / 256)` with the excess spread
    evenly; its table `(cdf - cdf_min) * 255 / (tile pixels - cdf_min)`; each pixel
    looks its value up in the four nearest tiles' tables (edge tiles repeated) and
    blends them bilinearly by its distance to the tile centres."""

    spec_type = spec.ContrastLimitedAdaptiveHistogramEqualization

    @classmethod
    def compute_output_shape(cls, s: Any, input_shape: Shape) -> Shape:
        return _image_shape(s.type, input_shape)

    def forward(self, x: Tensor) -> Tensor:
        value_range = self.spec.value_range
        images = _to_range(x.float(), value_range, (0.0, 255.0))
        out = self._clahe(images)
        return _to_range(out, (0.0, 255.0), value_range)

    def _tables(self, padded: Tensor, tile_h: int, tile_w: int) -> Tensor:
        """Each tile's and channel's clipped-histogram table, `(N, gh, gw, C, 256)`."""
        n, _, _, channels = padded.shape
        grid_h, grid_w = self.spec.tile_grid_size
        tiles = padded.reshape(n, grid_h, tile_h, grid_w, tile_w, channels)
        tiles = tiles.permute(0, 1, 3, 5, 2, 4).reshape(n, grid_h, grid_w, channels, -1)
        values = tiles.to(torch.int32).clamp(0, 255).long()
        counts = torch.zeros((*values.shape[:-1], 256), dtype=torch.int64, device=padded.device)
        counts.scatter_add_(-1, values, torch.ones_like(values))
        hists = counts.float()
        pixels = tile_h * tile_w
        if self.spec.clip_limit > 0:
            # Keras's torch `one_hot` counts in int64, so the limit is truncated to an
            # integer before clipping (TensorFlow's and JAX's count in float32).
            limit = int(self.spec.clip_limit * pixels / 256.0)
            clipped = counts.clamp(0, limit)
            excess = (counts - clipped).sum(dim=-1, keepdim=True)
            hists = clipped + excess / 256.0
        cdf = hists.cumsum(dim=-1)
        cdf_min = cdf.amin(dim=-1, keepdim=True)
        denominator = torch.tensor(float(pixels), dtype=cdf.dtype) - cdf_min
        denominator = torch.where(denominator == 0, torch.ones_like(denominator), denominator)
        return (((cdf - cdf_min) * 255.0) / denominator).clamp(0, 255)

    def _clahe(self, images: Tensor) -> Tensor:
        n, height, width, channels = images.shape
        grid_h, grid_w = self.spec.tile_grid_size
        tile_h, tile_w = -(-height // grid_h), -(-width // grid_w)
        pad_h, pad_w = tile_h * grid_h - height, tile_w * grid_w - width
        padded = images
        if pad_h or pad_w:
            padded = F.pad(images.permute(0, 3, 1, 2), (0, pad_w, 0, pad_h), mode="replicate")
            padded = padded.permute(0, 2, 3, 1)
        tables = self._tables(padded, tile_h, tile_w)
        tables = torch.cat([tables[:, :1], tables, tables[:, -1:]], dim=1)
        tables = torch.cat([tables[:, :, :1], tables, tables[:, :, -1:]], dim=2)

        def corners(size: int, tile: int, grid: int) -> tuple[Tensor, Tensor, Tensor]:
            centre = torch.arange(size, dtype=torch.float32, device=images.device) - tile / 2.0
            position = centre / tile + 1.0
            low = torch.floor(position)
            weight = position - low
            return low.clamp(0, grid + 1).long(), (low + 1.0).clamp(0, grid + 1).long(), weight

        y0, y1, wy = corners(tile_h * grid_h, tile_h, grid_h)
        x0, x1, wx = corners(tile_w * grid_w, tile_w, grid_w)
        values = padded.clamp(0, 255).to(torch.int32).long()
        b = torch.arange(n, device=images.device).view(-1, 1, 1, 1)
        c = torch.arange(channels, device=images.device).view(1, 1, 1, -1)
        rows = (y0.view(1, -1, 1, 1), y1.view(1, -1, 1, 1))
        cols = (x0.view(1, 1, -1, 1), x1.view(1, 1, -1, 1))
        nw, ne = (tables[b, rows[0], col, c, values] for col in cols)
        sw, se = (tables[b, rows[1], col, c, values] for col in cols)
        wx_, wy_ = wx.view(1, 1, -1, 1), wy.view(1, -1, 1, 1)
        top = nw * (1.0 - wx_) + ne * wx_
        bottom = sw * (1.0 - wx_) + se * wx_
        return (top * (1.0 - wy_) + bottom * wy_)[:, :height, :width, :]
