"""Keras's numeric preprocessing and image augmentation layers, as Keras's torch backend
computes them (`keras/src/layers/preprocessing/`, `keras/src/backend/torch/image.py`).

Images are `(H, W, C)` per sample. Rescaling, Normalization, Resizing, CenterCrop,
AutoContrast and CategoryEncoding always apply; the Random* layers (and Solarization)
change their inputs only while training and are the identity otherwise, as in Keras.
Each random layer draws its parameters (`draw`, Keras's `get_random_transformation`)
and applies them (`transform_images`) separately, so a test can give Keras and Cornu
the same draw. Draws come from torch's generator on the input's device (the job's seed),
not from Keras's `seed` argument.
"""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from cornu.core.engine.layers.base import LAYERS, Layer, Shape, ShapeError, register
from cornu.core.spec.layers import preprocessing as spec
from cornu.core.spec.layers.preprocessing import shift_range

# Keras's backend epsilon: the smallest standard deviation Normalization divides by.
_KERAS_EPSILON = 1e-7


def _image_shape(name: str, input_shape: Shape) -> Shape:
    if len(input_shape) != 3:
        raise ShapeError(
            f"{name} takes images of shape (height, width, channels), not {input_shape}"
        )
    return input_shape


def _uniform(shape: tuple[int, ...], low: float, high: float, like: Tensor) -> Tensor:
    """Keras's torch `random.uniform`: `rand * (high - low) + low`."""
    return torch.rand(shape, device=like.device) * (high - low) + low


class _Augmentation(Layer):
    """A random image layer: `draw` picks a batch's random parameters (Keras's
    `get_random_transformation`), `transform_images` transforms the images with them;
    only while training, the identity otherwise."""

    @classmethod
    def compute_output_shape(cls, s: Any, input_shape: Shape) -> Shape:
        return _image_shape(s.type, input_shape)

    def draw(self, x: Tensor) -> Any:
        raise NotImplementedError

    def transform_images(self, x: Tensor, draw: Any) -> Tensor:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        return self.transform_images(x, self.draw(x)) if self.training else x


def _pair_of(values: list[float]) -> tuple[float, float]:
    """A `(lower, upper)` range the spec keeps as a list."""
    low, high = values
    return float(low), float(high)


def _to_range(x: Tensor, source: tuple[float, float], target: tuple[float, float]) -> Tensor:
    """Keras's `_transform_value_range`: values linearly from `source` to `target`."""
    if tuple(source) == tuple(target):
        return x
    unit = (x - source[0]) / (source[1] - source[0])
    return unit * (target[1] - target[0]) + target[0]


@register
class Rescaling(Layer):
    """`inputs * scale + offset` in float32 (Keras's `rescaling.py`)."""

    spec_type = spec.Rescaling
    supports_masking = True
    scale: Tensor
    offset: Tensor

    def __init__(self, s: spec.Rescaling, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.register_buffer("scale", torch.tensor(s.scale, dtype=torch.float32), persistent=False)
        self.register_buffer(
            "offset", torch.tensor(s.offset, dtype=torch.float32), persistent=False
        )

    def forward(self, x: Tensor) -> Tensor:
        return x.float() * self.scale + self.offset


@register
class Normalization(Layer):
    """`(x - mean) / max(sqrt(variance), 1e-7)`, or `mean + x * max(…)` with `invert`.

    `mean` and `variance` given in the spec are broadcast onto the kept axes as Keras's
    `build` does (a scalar everywhere; otherwise aligned to the kept axes from the
    right). Otherwise they are the non-trainable weights `mean`, `variance` (the kept
    axes' sizes) and `count` (a scalar int32 Keras keeps only for old files; `adapt`
    leaves it 0), starting at 0 and 1: the identity until adapted.
    """

    spec_type = spec.Normalization
    supports_masking = True

    def __init__(self, s: spec.Normalization, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        keep = self.kept_axes(s, input_shape)
        rank = len(input_shape) + 1
        self.broadcast_shape = tuple(input_shape[d - 1] if d in keep else 1 for d in range(rank))
        self.mean: Tensor
        self.variance: Tensor
        if s.mean is None:
            shape = tuple(input_shape[d - 1] for d in keep)
            self.mean = self.add_weight("mean", shape, "zeros", trainable=False)
            self.variance = self.add_weight("variance", shape, "ones", trainable=False)
            count = self.add_weight("count", (), "zeros", trainable=False)
            self.count = count.to(torch.int32)  # Keras's dtype="int"
            return
        for name, value in (("mean", s.mean), ("variance", s.variance)):
            values = np.asarray(value, dtype=np.float32)
            if values.ndim:
                expanded = [1] * rank
                for i in range(1, values.ndim + 1):
                    expanded[keep[-i]] = values.shape[-i]
                try:
                    values = np.broadcast_to(values.reshape(expanded), self.broadcast_shape)
                except ValueError:
                    raise ShapeError(
                        f"Normalization {name} of shape {list(values.shape)} does not "
                        f"broadcast to the kept axes {keep} of inputs {input_shape}"
                    ) from None
            tensor = torch.tensor(np.broadcast_to(values, self.broadcast_shape).copy())
            self.register_buffer(name, tensor, persistent=False)

    @classmethod
    def kept_axes(cls, s: spec.Normalization, input_shape: Shape) -> tuple[int, ...]:
        """The axes with their own statistics, sorted, counted with the batch as 0."""
        rank = len(input_shape) + 1
        axes = s.axis
        if any(not -rank <= a < rank for a in axes):
            raise ShapeError(
                f"Normalization axis {s.axis} is out of range for inputs of rank {rank} "
                "(axes count the batch as 0)"
            )
        keep = tuple(sorted(a % rank for a in axes))
        if 0 in keep:
            raise ShapeError("Normalization cannot keep statistics per batch index (axis 0)")
        unknown = [d for d in keep if input_shape[d - 1] is None]
        if unknown:
            raise ShapeError(
                f"Normalization keeps statistics along axes {keep}, so their sizes must be "
                f"known; axis {unknown[0]} of {input_shape} is variable"
            )
        return keep

    @classmethod
    def compute_output_shape(cls, s: spec.Normalization, input_shape: Shape) -> Shape:
        cls.kept_axes(s, input_shape)
        return input_shape

    def forward(self, x: Tensor) -> Tensor:
        mean = self.mean.reshape(self.broadcast_shape)
        std = self.variance.reshape(self.broadcast_shape).sqrt().clamp_min(_KERAS_EPSILON)
        if self.spec.invert:
            return mean + x.float() * std
        return (x.float() - mean) / std


# -- resizing and cropping ---------------------------------------------------------------


def aspect_crop_box(height: int, width: int, target: tuple[int, int]) -> tuple[int, int, int, int]:
    """Keras's centred crop to the target's aspect ratio: (top, left, height, width)
    (`smart_resize`, and `resize(crop_to_aspect_ratio=True)` in the torch backend)."""
    th, tw = target
    crop_h = max(min(height, int(float(width * th) / tw)), 1)
    crop_w = max(min(width, int(float(height * tw) / th)), 1)
    return int(float(height - crop_h) / 2), int(float(width - crop_w) / 2), crop_h, crop_w


def resize(
    images: Tensor,
    size: tuple[int, int],
    interpolation: str = "bilinear",
    *,
    antialias: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    fill_value: float = 0.0,
) -> Tensor:
    """Keras's torch `image.resize` of `(N, H, W, C)` images: the optional aspect-ratio
    crop or pad (with `fill_value`), then `F.interpolate` with half-pixel centres
    (`nearest` is torch's "nearest-exact"; antialiasing only for bilinear and bicubic)."""
    x = images.float().permute(0, 3, 1, 2)
    height, width = x.shape[-2:]
    if crop_to_aspect_ratio:
        top, left, h, w = aspect_crop_box(height, width, size)
        x = x[:, :, top : top + h, left : left + w]
    elif pad_to_aspect_ratio:
        th, tw = size
        pad_h = max(height, int(float(width * th) / tw))
        pad_w = max(width, int(float(height * tw) / th))
        # Keras puts `start` rows on each side, so an odd difference pads one row less.
        top, left = int(float(pad_h - height) / 2), int(float(pad_w - width) / 2)
        x = F.pad(x, (left, left, top, top), value=fill_value)
    mode = {"nearest": "nearest-exact"}.get(interpolation, interpolation)
    smooth = interpolation in ("bilinear", "bicubic")
    out = F.interpolate(
        x,
        size=size,
        mode=mode,
        align_corners=False if smooth else None,
        antialias=antialias and smooth,
    )
    return out.permute(0, 2, 3, 1)


@register
class Resizing(Layer):
    """Resizes `(H, W, C)` images to `(height, width, C)`, as Keras's torch backend does."""

    spec_type = spec.Resizing

    @classmethod
    def compute_output_shape(cls, s: spec.Resizing, input_shape: Shape) -> Shape:
        return (s.height, s.width, _image_shape("Resizing", input_shape)[2])

    def forward(self, x: Tensor) -> Tensor:
        s = self.spec
        return resize(
            x,
            (s.height, s.width),
            s.interpolation,
            antialias=s.antialias,
            crop_to_aspect_ratio=s.crop_to_aspect_ratio,
            pad_to_aspect_ratio=s.pad_to_aspect_ratio,
            fill_value=s.fill_value,
        )


@register
class CenterCrop(Layer):
    """The centre `(height, width)` window; an image smaller in either dimension is
    cropped to the target's aspect ratio and resized instead (Keras's `smart_resize`)."""

    spec_type = spec.CenterCrop

    @classmethod
    def compute_output_shape(cls, s: spec.CenterCrop, input_shape: Shape) -> Shape:
        return (s.height, s.width, _image_shape("CenterCrop", input_shape)[2])

    def forward(self, x: Tensor) -> Tensor:
        h, w = self.spec.height, self.spec.width
        dh, dw = x.shape[1] - h, x.shape[2] - w
        if dh >= 0 and dw >= 0:
            return x.float()[:, dh // 2 : dh // 2 + h, dw // 2 : dw // 2 + w]
        return resize(x, (h, w), crop_to_aspect_ratio=True)


@register
class RandomCrop(Layer):
    """While training, one random `(height, width)` window for the whole batch when the
    images are larger in both dimensions; otherwise a window placed by Keras's centred
    aspect-ratio crop, resized bilinearly where the image is smaller (`random_crop.py`).

    Keras 3.15 returns its input unchanged at inference, whatever its size, although
    its `compute_output_shape` is `(height, width)`; a model's next layer then gets a
    shape it was not built for. Cornu gives the declared shape: the centred crop
    Keras computes for that case (and tf.keras 2 applied).
    """

    spec_type = spec.RandomCrop

    @classmethod
    def compute_output_shape(cls, s: spec.RandomCrop, input_shape: Shape) -> Shape:
        return (s.height, s.width, _image_shape("RandomCrop", input_shape)[2])

    def draw(self, x: Tensor) -> tuple[int, int] | None:
        """The window's top-left corner, or None for the centred crop."""
        (height, width), (h, w) = x.shape[1:3], (self.spec.height, self.spec.width)
        if not (self.training and height > h and width > w):
            return None
        top = _uniform((), 0.0, float(height - h + 1), x)
        left = _uniform((), 0.0, float(width - w + 1), x)
        return int(top), int(left)

    def transform_images(self, x: Tensor, corner: tuple[int, int] | None) -> Tensor:
        """The `(height, width)` window at `corner`; without one, the window at the
        corner of Keras's centred aspect-ratio crop, cut by the image's edges and
        resized bilinearly to `(height, width)`."""
        h, w = self.spec.height, self.spec.width
        if corner is None:
            top, left, _, _ = aspect_crop_box(x.shape[1], x.shape[2], (h, w))
            window = x.float()[:, top : top + h, left : left + w]
            return window if window.shape[1:3] == (h, w) else resize(window, (h, w))
        top, left = corner
        return x.float()[:, top : top + h, left : left + w]

    def forward(self, x: Tensor) -> Tensor:
        return self.transform_images(x, self.draw(x))


# -- random flips and affine resampling ------------------------------------------------


@register
class RandomFlip(_Augmentation):
    """While training, flips each image with probability 1/2: one draw `u <= 0.5` per
    image, used for both axes in "horizontal_and_vertical" (`random_flip.py`)."""

    spec_type = spec.RandomFlip

    def draw(self, x: Tensor) -> Tensor:
        return _uniform((x.shape[0], 1, 1, 1), 0.0, 1.0, x) <= 0.5

    def transform_images(self, x: Tensor, flips: Tensor) -> Tensor:
        out = x.float()
        if self.spec.mode in ("horizontal", "horizontal_and_vertical"):
            out = torch.where(flips, out.flip(2), out)
        if self.spec.mode in ("vertical", "horizontal_and_vertical"):
            out = torch.where(flips, out.flip(1), out)
        return out


def _fix_index(index: Tensor, size: int, fill_mode: str) -> Tensor:
    """Keras's torch `_INDEX_FIXERS`: where an index outside `[0, size)` reads from."""
    if fill_mode == "wrap":
        return index % size
    if fill_mode == "mirror":  # (d c b | a b c d | c b a): the edge pixel once
        half = max(size - 1, 1)  # a one-pixel axis reads its pixel
        return ((index + half) % (2 * half) - half).abs().clamp(max=size - 1)
    if fill_mode == "reflect":  # (d c b a | a b c d | d c b a)
        s = 2 * size
        return torch.div(((2 * index + 1 + s) % (2 * s) - s).abs() - 1, 2, rounding_mode="floor")
    return index.clamp(0, size - 1)  # "nearest"; "constant" masks these reads out


def affine_transform(
    images: Tensor, transform: Tensor, interpolation: str, fill_mode: str, fill_value: float
) -> Tensor:
    """Keras's torch `image.affine_transform` of `(N, H, W, C)` images.

    `transform` is `(N, 8)`: `[a0, a1, a2, b0, b1, b2, c0, c1]` maps each output pixel
    `(x, y)` to the input point `(a0 x + a1 y + a2, b0 x + b1 y + b2)` (Keras's torch
    backend ignores the projective `c0, c1`, zero for every layer here).
    """
    n, height, width, _ = images.shape
    ys = torch.arange(height, dtype=transform.dtype, device=images.device).view(1, height, 1)
    xs = torch.arange(width, dtype=transform.dtype, device=images.device).view(1, 1, width)
    t = transform.view(n, 8, 1, 1)
    x_in = t[:, 0] * xs + t[:, 1] * ys + t[:, 2]
    y_in = t[:, 3] * xs + t[:, 4] * ys + t[:, 5]
    return sample(images, y_in, x_in, interpolation, fill_mode, fill_value)


def sample(
    images: Tensor,
    y_in: Tensor,
    x_in: Tensor,
    interpolation: str,
    fill_mode: str,
    fill_value: float,
) -> Tensor:
    """`(N, H, W, C)` images read at the `(N, H, W)` points `(y_in, x_in)`, as Keras's
    torch `map_coordinates` reads them: nearest rounds half to even; bilinear weighs the
    four neighbours; a neighbour outside the image reads `fill_value` ("constant") or
    the pixel `fill_mode` maps it to."""
    n, height, width, channels = images.shape
    rows: list[tuple[Tensor, Tensor | float]]
    cols: list[tuple[Tensor, Tensor | float]]
    if interpolation == "nearest":
        rows, cols = [(torch.round(y_in).long(), 1.0)], [(torch.round(x_in).long(), 1.0)]
    else:
        y0, x0 = torch.floor(y_in), torch.floor(x_in)
        wy, wx = y_in - y0, x_in - x0
        rows = [(y0.long(), 1 - wy), (y0.long() + 1, wy)]
        cols = [(x0.long(), 1 - wx), (x0.long() + 1, wx)]
    flat = images.float().reshape(n * height * width, channels)
    base = torch.arange(n, device=images.device).view(n, 1, 1) * (height * width)
    out: Tensor | float = 0.0
    for row, row_weight in rows:
        for col, col_weight in cols:
            index = base + _fix_index(row, height, fill_mode) * width
            values = flat[index + _fix_index(col, width, fill_mode)]
            if fill_mode == "constant":
                inside = (row >= 0) & (row < height) & (col >= 0) & (col < width)
                values = torch.where(inside.unsqueeze(-1), values, fill_value)
            weight = row_weight * col_weight
            out = out + (weight.unsqueeze(-1) if isinstance(weight, Tensor) else weight) * values
    assert isinstance(out, Tensor)
    return out


def homography(start: Tensor, end: Tensor) -> Tensor:
    """Keras's `compute_homography_matrix`: the `(N, 8)` projective maps taking each of
    the four `end` points (`(N, 4, 2)`, x then y) to its `start` point, solved in
    float32."""
    sx, sy, ex, ey = start[..., 0], start[..., 1], end[..., 0], end[..., 1]
    one, zero = torch.ones_like(ex), torch.zeros_like(ex)
    rows = []
    for i in range(4):
        x_row = [ex[:, i], ey[:, i], one[:, i], zero[:, i], zero[:, i], zero[:, i]]
        y_row = [zero[:, i], zero[:, i], zero[:, i], ex[:, i], ey[:, i], one[:, i]]
        rows.append(torch.stack([*x_row, -sx[:, i] * ex[:, i], -sx[:, i] * ey[:, i]], dim=-1))
        rows.append(torch.stack([*y_row, -sy[:, i] * ex[:, i], -sy[:, i] * ey[:, i]], dim=-1))
    coefficients = torch.stack(rows, dim=1)
    target = torch.stack([start[:, i, j] for i in range(4) for j in range(2)], dim=-1)
    return torch.linalg.solve(coefficients.float(), target.float().unsqueeze(-1)).squeeze(-1)


class _AffineLayer(_Augmentation):
    """Rotation, zoom, translation and shear: a random affine map per image."""

    def matrix(self, params: Tensor, height: int, width: int) -> Tensor:
        """The `(N, 8)` transform for drawn parameters on `height × width` images."""
        raise NotImplementedError

    def transform_images(self, x: Tensor, params: Tensor) -> Tensor:
        s = self.spec
        transform = self.matrix(params, x.shape[1], x.shape[2])
        return affine_transform(x, transform, s.interpolation, s.fill_mode, s.fill_value)


@register
class RandomRotation(_AffineLayer):
    """Rotates each image about its centre by an angle in degrees drawn from
    `[lower * 360, upper * 360]` (`random_rotation.py`, `_compute_affine_matrix`)."""

    spec_type = spec.RandomRotation

    def draw(self, x: Tensor) -> Tensor:
        lower, upper = self.spec.factor
        return _uniform((x.shape[0],), lower * 360.0, upper * 360.0, x)

    def matrix(self, params: Tensor, height: int, width: int) -> Tensor:
        angle = params * (math.pi / 180.0)
        cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
        cos, sin = torch.cos(angle), torch.sin(angle)
        a2 = cx - cx * cos + cy * sin
        b2 = cy - cx * sin - cy * cos
        zeros = torch.zeros_like(angle)
        return torch.stack([cos, -sin, a2, sin, cos, b2, zeros, zeros], dim=1)


@register
class RandomZoom(_AffineLayer):
    """Scales each image about its centre: the input is read at `zoom` times the output
    coordinates, `zoom = 1 + u` (`u` from the factor's range: positive zooms out);
    `params` is `(N, 2)` of (width zoom, height zoom) (`random_zoom.py`)."""

    spec_type = spec.RandomZoom

    def draw(self, x: Tensor) -> Tensor:
        s = self.spec
        low, high = shift_range(s.height_factor)
        height_zoom = _uniform((x.shape[0], 1), 1.0 + low, 1.0 + high, x)
        width_zoom = height_zoom
        if s.width_factor is not None:
            low, high = shift_range(s.width_factor)
            width_zoom = _uniform((x.shape[0], 1), 1.0 + low, 1.0 + high, x)
        return torch.cat([width_zoom, height_zoom], dim=1)

    def matrix(self, params: Tensor, height: int, width: int) -> Tensor:
        zx, zy = params[:, 0], params[:, 1]
        zeros = torch.zeros_like(zx)
        x_offset = (width - 1.0) / 2.0 * (1.0 - zx)
        y_offset = (height - 1.0) / 2.0 * (1.0 - zy)
        return torch.stack([zx, zeros, x_offset, zeros, zy, y_offset, zeros, zeros], dim=1)


@register
class RandomTranslation(_AffineLayer):
    """Shifts each image by fractions of its height and width drawn from the factors'
    ranges; `params` is `(N, 2)` of (width shift, height shift) in pixels
    (`random_translation.py`)."""

    spec_type = spec.RandomTranslation

    def draw(self, x: Tensor) -> Tensor:
        s = self.spec
        height, width = x.shape[1:3]
        dy = _uniform((x.shape[0], 1), *shift_range(s.height_factor), x) * height
        dx = _uniform((x.shape[0], 1), *shift_range(s.width_factor), x) * width
        return torch.cat([dx, dy], dim=1)

    def matrix(self, params: Tensor, height: int, width: int) -> Tensor:
        ones, zeros = torch.ones_like(params[:, 0]), torch.zeros_like(params[:, 0])
        dx, dy = params[:, 0], params[:, 1]
        return torch.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], dim=1)


@register
class RandomShear(_AffineLayer):
    """Shears each image about its top-left pixel: the input is read at
    `(x + sx * y, y + sy * x)`; `params` is `(N, 2)` of `(sx, sy)`, drawn from the
    factors' ranges with one random sign per image for both (`random_shear.py`)."""

    spec_type = spec.RandomShear

    def draw(self, x: Tensor) -> Tensor:
        n, s = x.shape[0], self.spec
        sign = torch.where(_uniform((n, 1), 0.0, 1.0, x) > 0.5, -1.0, 1.0)
        shear_y = _uniform((n, 1), *shift_range(s.y_factor), x)
        shear_x = _uniform((n, 1), *shift_range(s.x_factor), x)
        return torch.cat([shear_x, shear_y], dim=1) * sign

    def matrix(self, params: Tensor, height: int, width: int) -> Tensor:
        ones, zeros = torch.ones_like(params[:, 0]), torch.zeros_like(params[:, 0])
        sx, sy = params[:, 0], params[:, 1]
        return torch.stack([ones, sx, zeros, sy, ones, zeros, zeros, zeros], dim=1)


@register
class RandomPerspective(_Augmentation):
    """Moves the image corners by up to `scale / 2` of their coordinates and resamples
    the images where `u < p` (`p` from the factor's range) through the projective map
    between old and new corners; outside reads `fill_value` (`random_perspective.py`).

    As in Keras 3.15, each corner moves by `corner * offset`, so the top-left corner
    `(0, 0)` never moves. `draw` is (which images, the `(N, 4, 2)` new corners)."""

    spec_type = spec.RandomPerspective

    def _corners(self, x: Tensor) -> Tensor:
        height, width = x.shape[1:3]
        corners = [[0.0, 0.0], [width - 1.0, 0.0], [0.0, height - 1.0], [width - 1.0, height - 1.0]]
        return torch.tensor(corners, device=x.device).expand(x.shape[0], 4, 2)

    def draw(self, x: Tensor) -> tuple[Tensor, Tensor]:
        n, s = x.shape[0], self.spec
        probability = _uniform((n,), *_pair_of(s.factor), x)
        apply = _uniform((n,), 0.0, 1.0, x) < probability
        offsets = _uniform((n, 4, 2), -0.5 * s.scale, 0.5 * s.scale, x)
        start = self._corners(x)
        return apply, start + start * offsets

    def transform_images(self, x: Tensor, draw: tuple[Tensor, Tensor]) -> Tensor:
        apply, end = draw
        height, width = x.shape[1:3]
        h = homography(self._corners(x), end).view(-1, 8, 1, 1)
        ys = torch.arange(height, dtype=h.dtype, device=x.device).view(1, height, 1)
        xs = torch.arange(width, dtype=h.dtype, device=x.device).view(1, 1, width)
        denominator = h[:, 6] * xs + h[:, 7] * ys + 1.0
        x_in = (h[:, 0] * xs + h[:, 1] * ys + h[:, 2]) / denominator
        y_in = (h[:, 3] * xs + h[:, 4] * ys + h[:, 5]) / denominator
        s = self.spec
        out = sample(x, y_in, x_in, s.interpolation, "constant", s.fill_value)
        return torch.where(apply.view(-1, 1, 1, 1), out, x.float())


# -- colour ------------------------------------------------------------------------------


@register
class RandomContrast(_Augmentation):
    """`(x - mean) * c + mean` per image and channel (mean over height and width), `c`
    drawn from `[1 - lower, 1 + upper]` of the factor's range — which for a number `f`
    is `(0, f)` in Keras 3.15, so contrast only grows — then clipped to `value_range`
    (`random_contrast.py`)."""

    spec_type = spec.RandomContrast

    def draw(self, x: Tensor) -> Tensor:
        lower, upper = self.spec.factor
        return _uniform((x.shape[0], 1, 1, 1), 1.0 - lower, 1.0 + upper, x)

    def transform_images(self, x: Tensor, contrast: Tensor) -> Tensor:
        x = x.float()
        mean = x.mean(dim=1, keepdim=True).mean(dim=2, keepdim=True)
        low, high = self.spec.value_range
        return ((x - mean) * contrast + mean).clamp(low, high)


@register
class RandomBrightness(_Augmentation):
    """Adds `u * (high - low)` to each image, `u` drawn from the factor's range, then
    clips to `value_range = (low, high)` (`random_brightness.py`)."""

    spec_type = spec.RandomBrightness

    def draw(self, x: Tensor) -> Tensor:
        lower, upper = self.spec.factor
        low, high = self.spec.value_range
        return _uniform((x.shape[0], 1, 1, 1), lower, upper, x) * (high - low)

    def transform_images(self, x: Tensor, delta: Tensor) -> Tensor:
        low, high = self.spec.value_range
        return (x.float() + delta).clamp(low, high)


def rgb_to_grayscale(x: Tensor) -> Tensor:
    """Keras's torch `rgb_to_grayscale` (torchvision's weights) of `(N, H, W, 3)`
    images, as `(N, H, W, 1)`; one-channel images are returned as they are."""
    if x.shape[-1] == 1:
        return x
    r, g, b = x.unbind(-1)
    return (0.2989 * r + 0.587 * g + 0.114 * b).unsqueeze(-1)


def rgb_to_hsv(x: Tensor) -> Tensor:
    """Keras's torch `rgb_to_hsv` (after dm_pix): hue, saturation and value in `[0, 1]`
    for RGB values in `[0, 1]`."""
    x = torch.where(x.abs() < torch.finfo(x.dtype).eps, 0.0, x)
    r, g, b = x.unbind(-1)
    value = torch.maximum(torch.maximum(r, g), b)
    range_ = value - torch.minimum(torch.minimum(r, g), b)
    safe_value = torch.where(value > 0, value, 1.0)
    safe_range = torch.where(range_ > 0, range_, 1.0)
    saturation = torch.where(value > 0, range_ / safe_value, 0.0)
    norm = 1.0 / (6.0 * safe_range)
    hue = torch.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = torch.where(value == r, norm * (g - b), hue)
    hue = torch.where(range_ > 0, hue, 0.0) + (hue < 0.0).to(hue.dtype)
    return torch.stack([hue, saturation, value], dim=-1)


def hsv_to_rgb(x: Tensor) -> Tensor:
    """Keras's torch `hsv_to_rgb`, the inverse of `rgb_to_hsv`."""
    hue, saturation, value = x.unbind(-1)
    dh = torch.remainder(hue, 1.0) * 6.0
    dr = torch.clip(torch.abs(dh - 3.0) - 1.0, 0.0, 1.0)
    dg = torch.clip(2.0 - torch.abs(dh - 2.0), 0.0, 1.0)
    db = torch.clip(2.0 - torch.abs(dh - 4.0), 0.0, 1.0)
    one_minus_s = 1.0 - saturation
    channels = [value * (one_minus_s + saturation * d) for d in (dr, dg, db)]
    return torch.stack(channels, dim=-1)


def _rgb_shape(name: str, input_shape: Shape, allowed: tuple[int, ...] = (3,)) -> Shape:
    if _image_shape(name, input_shape)[2] not in allowed:
        kinds = " or ".join(map(str, allowed))
        raise ShapeError(f"{name} takes images with {kinds} channels (RGB), not {input_shape}")
    return input_shape


@register
class RandomGrayscale(_Augmentation):
    """Turns each image grey with probability `factor`: `u < factor` per image; the
    grey values fill every channel (`random_grayscale.py`)."""

    spec_type = spec.RandomGrayscale

    @classmethod
    def compute_output_shape(cls, s: spec.RandomGrayscale, input_shape: Shape) -> Shape:
        return _rgb_shape("RandomGrayscale", input_shape, (1, 3))

    def draw(self, x: Tensor) -> Tensor:
        return _uniform((x.shape[0], 1, 1, 1), 0.0, 1.0, x) < self.spec.factor

    def transform_images(self, x: Tensor, grey: Tensor) -> Tensor:
        x = x.float()
        return torch.where(grey, rgb_to_grayscale(x), x)


@register
class Solarization(_Augmentation):
    """In `[0, 255]`: `x + a`, clipped, and `255 - x` where that reaches the threshold
    `t`; `a` from `[lower, upper * 255]` of `addition_factor` and `t` likewise, per
    image — Keras 3.15 scales only the upper bounds by 255 (`solarization.py`).
    `draw` is `(a, t)`, each `(N, 1, 1, 1)`."""

    spec_type = spec.Solarization

    def draw(self, x: Tensor) -> tuple[Tensor, Tensor]:
        shape, s = (x.shape[0], 1, 1, 1), self.spec
        (a0, a1), (t0, t1) = s.addition_factor, s.threshold_factor
        return _uniform(shape, a0, a1 * 255, x), _uniform(shape, t0, t1 * 255, x)

    def transform_images(self, x: Tensor, draw: tuple[Tensor, Tensor]) -> Tensor:
        additions, thresholds = draw
        value_range = self.spec.value_range
        out = (_to_range(x.float(), value_range, (0, 255)) + additions).clamp(0, 255)
        out = torch.where(out < thresholds, out, 255 - out)
        return _to_range(out, (0, 255), value_range)


@register
class RandomInvert(_Augmentation):
    """`value_range[1] - x` for the images where `u < p`, `p` drawn from the factor's
    range and `u` from `[0, 1)` per image (`random_invert.py`)."""

    spec_type = spec.RandomInvert

    def draw(self, x: Tensor) -> Tensor:
        n = x.shape[0]
        probability = _uniform((n,), *_pair_of(self.spec.factor), x)
        return _uniform((n,), 0.0, 1.0, x) < probability

    def transform_images(self, x: Tensor, invert: Tensor) -> Tensor:
        x = x.float()
        return torch.where(invert.view(-1, 1, 1, 1), self.spec.value_range[1] - x, x)


@register
class RandomPosterization(_Augmentation):
    """Keeps the `b` high bits of each value in `[0, 255]` (truncated to 8 bits): `draw`
    is the shift `8 - b` per image, `b` drawn from `[lower, upper)` of the factor's
    range, or `lower` when both are equal (`random_posterization.py`)."""

    spec_type = spec.RandomPosterization

    def draw(self, x: Tensor) -> Tensor:
        low, high = self.spec.factor
        n = x.shape[0]
        if low == high:
            bits = torch.full((n,), low, dtype=torch.uint8, device=x.device)
        else:
            bits = torch.randint(low, high, (n,), dtype=torch.uint8, device=x.device)
        return 8 - bits

    def transform_images(self, x: Tensor, shift: Tensor) -> Tensor:
        value_range = self.spec.value_range
        shift = shift.to(torch.uint8).view(-1, 1, 1, 1)
        bytes_ = _to_range(x.float(), value_range, (0, 255)).to(torch.uint8)
        kept = torch.bitwise_left_shift(torch.bitwise_right_shift(bytes_, shift), shift)
        return _to_range(kept.float(), (0, 255), value_range)


@register
class AutoContrast(Layer):
    """Stretches each image's channels from their minimum and maximum to the whole
    `value_range`, at inference too; a constant channel stays as it is
    (`auto_contrast.py`: its 0/0 is NaN, replaced by the input)."""

    spec_type = spec.AutoContrast

    @classmethod
    def compute_output_shape(cls, s: spec.AutoContrast, input_shape: Shape) -> Shape:
        return _image_shape("AutoContrast", input_shape)

    def forward(self, x: Tensor) -> Tensor:
        value_range = self.spec.value_range
        images = _to_range(x.float(), value_range, (0, 255))
        low = images.amin(dim=(1, 2), keepdim=True)
        high = images.amax(dim=(1, 2), keepdim=True)
        scale = 255.0 / (high - low)
        out = (images * scale - low * scale).clamp(0.0, 255.0)
        out = _to_range(out, (0, 255), value_range)
        return torch.where(out.isnan(), x.float(), out)


@register
class RandomSharpness(_Augmentation):
    """`x + (1 - 2u) * (smooth - x)`, clipped to `value_range`: `smooth` is the 3 x 3
    filter `[1 1 1; 1 5 1; 1 1 1] / 13` with zero padding, `u` from the factor's range
    per image (`random_sharpness.py`)."""

    spec_type = spec.RandomSharpness

    def draw(self, x: Tensor) -> Tensor:
        return _uniform((x.shape[0],), *_pair_of(self.spec.factor), x)

    def transform_images(self, x: Tensor, factor: Tensor) -> Tensor:
        x = x.float()
        channels = x.shape[-1]
        kernel = torch.full((3, 3), 1.0 / 13.0, device=x.device)
        kernel[1, 1] = 5.0 / 13.0
        weight = kernel.expand(channels, 1, 3, 3)
        smooth = F.conv2d(x.permute(0, 3, 1, 2), weight, padding=1, groups=channels)
        sharpness = (factor * 2).view(-1, 1, 1, 1)
        out = x + (1.0 - sharpness) * (smooth.permute(0, 2, 3, 1) - x)
        return out.clamp(*self.spec.value_range)


@register
class RandomHue(_Augmentation):
    """Shifts each image's hue by `draw`, `±u / 2` of a turn (`u` from the factor's
    range, the sign drawn per image), in `[0, 1]` RGB (`random_hue.py`)."""

    spec_type = spec.RandomHue

    @classmethod
    def compute_output_shape(cls, s: spec.RandomHue, input_shape: Shape) -> Shape:
        return _rgb_shape("RandomHue", input_shape)

    def draw(self, x: Tensor) -> Tensor:
        n = x.shape[0]
        sign = torch.where(_uniform((n,), 0.0, 1.0, x) > 0.5, -1.0, 1.0)
        return sign * _uniform((n,), *_pair_of(self.spec.factor), x) * 0.5

    def transform_images(self, x: Tensor, shift: Tensor) -> Tensor:
        value_range = self.spec.value_range
        hsv = rgb_to_hsv(_to_range(x.float(), value_range, (0, 1)))
        hue = hsv[..., 0] + shift.view(-1, 1, 1)
        hue = torch.where(hue > 1.0, hue - 1.0, hue)
        hue = torch.where(hue < 0.0, hue + 1.0, hue)
        rgb = hsv_to_rgb(torch.stack([hue, hsv[..., 1], hsv[..., 2]], dim=-1))
        return _to_range(rgb.clamp(0, 1), (0, 1), value_range)


@register
class RandomSaturation(_Augmentation):
    """Multiplies each image's HSV saturation by `draw = u / (1 - u + 1e-7)`, `u` from
    the factor's range, and clips it to `value_range`. Keras 3.15 converts the images
    to HSV as they are, without scaling `value_range` to `[0, 1]`: so does Cornu
    (`random_saturation.py`)."""

    spec_type = spec.RandomSaturation

    @classmethod
    def compute_output_shape(cls, s: spec.RandomSaturation, input_shape: Shape) -> Shape:
        return _rgb_shape("RandomSaturation", input_shape)

    def draw(self, x: Tensor) -> Tensor:
        u = _uniform((x.shape[0],), *_pair_of(self.spec.factor), x)
        return u / (1 - u + _KERAS_EPSILON)

    def transform_images(self, x: Tensor, factor: Tensor) -> Tensor:
        hsv = rgb_to_hsv(x.float())
        saturation = (hsv[..., 1] * factor.view(-1, 1, 1)).clamp(*self.spec.value_range)
        return hsv_to_rgb(torch.stack([hsv[..., 0], saturation, hsv[..., 2]], dim=-1))


@register
class RandomColorDegeneration(_Augmentation):
    """`x + u * (grey - x)` per image, `u` from the factor's range, clipped to
    `value_range` (`random_color_degeneration.py`)."""

    spec_type = spec.RandomColorDegeneration

    @classmethod
    def compute_output_shape(cls, s: spec.RandomColorDegeneration, input_shape: Shape) -> Shape:
        return _rgb_shape("RandomColorDegeneration", input_shape)

    def draw(self, x: Tensor) -> Tensor:
        return _uniform((x.shape[0], 1, 1, 1), *_pair_of(self.spec.factor), x)

    def transform_images(self, x: Tensor, factor: Tensor) -> Tensor:
        x = x.float()
        return (x + factor * (rgb_to_grayscale(x) - x)).clamp(*self.spec.value_range)


@register
class RandomGaussianBlur(_Augmentation):
    """Blurs the images where `u < p` (`p` from the factor's range per image) with a
    Gaussian of `kernel_size` whose x and y deviations are drawn once per batch from
    `sigma`'s range (+1e-6), zero padding; then clips to `value_range`. `draw` is
    (which images, the two deviations) (`random_gaussian_blur.py`)."""

    spec_type = spec.RandomGaussianBlur

    def draw(self, x: Tensor) -> tuple[Tensor, Tensor]:
        n = x.shape[0]
        probability = _uniform((n,), *_pair_of(self.spec.factor), x)
        blur = _uniform((n,), 0.0, 1.0, x) < probability
        return blur, _uniform((2,), *_pair_of(self.spec.sigma), x) + 1e-6

    def transform_images(self, x: Tensor, draw: tuple[Tensor, Tensor]) -> Tensor:
        blur, sigma = draw
        x = x.float()
        size = self.spec.kernel_size[0]
        offsets = torch.arange(size, dtype=x.dtype, device=x.device) - (size - 1) / 2
        along_x, along_y = (torch.exp(-0.5 * (offsets / sigma[i]) ** 2) for i in (0, 1))
        kernel = torch.outer(along_y / along_y.sum(), along_x / along_x.sum())
        channels = x.shape[-1]
        weight = kernel.expand(channels, 1, size, size)
        blurred = F.conv2d(x.permute(0, 3, 1, 2), weight, padding=size // 2, groups=channels)
        out = torch.where(blur.view(-1, 1, 1, 1), blurred.permute(0, 2, 3, 1), x)
        return out.clamp(*self.spec.value_range)


@register
class Equalization(_Augmentation):
    """Histogram equalization of each channel in `[0, 255]`, while training: a histogram
    of `bins` bins over the whole batch (Keras 3.15 does not split it by image), its
    cumulative counts as a lookup table `round((cdf - cdf_min) * 255 / (n - cdf_min))`;
    a channel whose values fall in one bin stays as it is (`equalization.py`).

    Keras 3.15 cannot rebuild a Sequential model holding this layer from its JSON (its
    `compute_output_spec` returns the input tensor itself); functional models load.
    """

    spec_type = spec.Equalization

    def draw(self, x: Tensor) -> None:
        return None

    def transform_images(self, x: Tensor, draw: None) -> Tensor:
        value_range = self.spec.value_range
        images = _to_range(x.float(), value_range, (0, 255))
        channels = [self._equalize(images[..., c]) for c in range(images.shape[-1])]
        return _to_range(torch.stack(channels, dim=-1), (0, 255), value_range)

    def _equalize(self, channel: Tensor) -> Tensor:
        bins = self.spec.bins
        index = (channel * (bins - 1) / 255.0).to(torch.int32).clamp(0, bins - 1)
        histogram = torch.bincount(index.flatten(), minlength=bins)
        cdf = histogram.cumsum(0)
        # the first non-zero cumulative count (the cdf never decreases): no host sync
        cdf_min = torch.where(cdf > 0, cdf, cdf[-1]).amin()
        denominator = cdf[-1] - cdf_min
        denominator = torch.where(denominator == 0, torch.ones_like(denominator), denominator)
        table = torch.round((cdf - cdf_min) * 255 / denominator).clamp(0, 255)
        lookup = (channel / 255.0 * (bins - 1)).clamp(0, bins - 1).to(torch.int32)
        return torch.where(torch.count_nonzero(histogram) <= 1, channel, table[lookup.long()])


@register
class RandomColorJitter(_Augmentation):
    """RandomBrightness, RandomContrast, RandomSaturation and RandomHue with this layer's
    factors and `value_range`, in that order, each with its own draw
    (`random_color_jitter.py`); `draw` is the list of their draws."""

    spec_type = spec.RandomColorJitter

    def __init__(self, s: spec.RandomColorJitter, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.parts = torch.nn.ModuleList(
            [LAYERS[part.type](part, input_shape) for part in s.parts()]
        )

    @classmethod
    def compute_output_shape(cls, s: spec.RandomColorJitter, input_shape: Shape) -> Shape:
        for part in s.parts():
            LAYERS[part.type].compute_output_shape(part, input_shape)
        return _image_shape("RandomColorJitter", input_shape)

    def _parts(self) -> list[_Augmentation]:
        return [cast(_Augmentation, part) for part in self.parts]

    def draw(self, x: Tensor) -> list[Any]:
        return [part.draw(x) for part in self._parts()]

    def transform_images(self, x: Tensor, draw: list[Any]) -> Tensor:
        out = x.float()
        for part, drawn in zip(self._parts(), draw, strict=True):
            out = part.transform_images(out, drawn)
        return out


@register
class RandomErasing(_Augmentation):
    """Fills a rectangle of the images where `u < p` (`p` from the factor's range): its
    sides are `sqrt(s)` of the image's (`s` from `scale`'s range, per side), placed
    uniformly; the fill is `fill_value` or Gaussian noise times `value_range[1]`,
    clipped to `value_range`. `draw` is (which images, `(N, 4)` boxes `x0, x1, y0, y1`
    in pixels, the fill) (`random_erasing.py`)."""

    spec_type = spec.RandomErasing

    def draw(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        n, height, width = x.shape[:3]
        s = self.spec
        sides = _uniform((n, 2), *_pair_of(s.scale), x).sqrt()
        corners = []
        for length, ratio in ((width, sides[:, 0]), (height, sides[:, 1])):
            crop = ratio * length
            start = _uniform((n,), 0.0, 1.0, x) * (length - crop)
            corners += [start, start + crop]
        probability = _uniform((n,), *_pair_of(s.factor), x)
        erase = _uniform((n,), 0.0, 1.0, x) < probability
        low, high = s.value_range
        if s.fill_value is None:
            fill = torch.randn(x.shape, device=x.device) * high
        else:
            fill = torch.as_tensor(s.fill_value, dtype=torch.float32, device=x.device)
            fill = fill.expand(x.shape)
        return erase, torch.stack(corners, dim=1), fill.clamp(low, high)

    def transform_images(self, x: Tensor, draw: tuple[Tensor, Tensor, Tensor]) -> Tensor:
        erase, boxes, fill = draw
        x = x.float()
        rows = torch.arange(x.shape[1], dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
        cols = torch.arange(x.shape[2], dtype=x.dtype, device=x.device).view(1, 1, -1, 1)
        x0, x1, y0, y1 = (boxes[:, i].view(-1, 1, 1, 1) for i in range(4))
        inside = (cols >= x0) & (cols < x1) & (rows >= y0) & (rows < y1)
        return torch.where(inside & erase.view(-1, 1, 1, 1), fill, x)


# -- categories --------------------------------------------------------------------------


@register
class CategoryEncoding(Layer):
    """Integer ids in `[0, num_tokens)` to float32 vectors of `num_tokens`
    (`category_encoding.py`, `numerical_utils.encode_categorical_inputs`).

    "one_hot" encodes each id (a trailing axis of size 1 is replaced); "multi_hot"
    marks and "count" counts the ids of each sample's `(k,)` vector. Negative ids
    encode as zeros, as in Keras; ids `>= num_tokens`, which Keras's torch backend
    rejects, encode as zeros too.
    """

    spec_type = spec.CategoryEncoding
    input_dtype = torch.int64

    @classmethod
    def compute_output_shape(cls, s: spec.CategoryEncoding, input_shape: Shape) -> Shape:
        if s.output_mode == "one_hot":
            if input_shape and input_shape[-1] == 1:
                return (*input_shape[:-1], s.num_tokens)
            return (*input_shape, s.num_tokens)
        if len(input_shape) != 1:
            # Keras reduces over axis 1 of the batch: for (batch,) inputs it encodes the
            # whole batch as one sample, for deeper ones not the axis its shape rule says.
            raise ShapeError(
                f"CategoryEncoding with output_mode={s.output_mode!r} takes a vector of ids "
                f"per sample, shape (k,); got {input_shape} (reshape it to (k,), e.g. (1,))"
            )
        return (s.num_tokens,)

    def forward(self, x: Tensor) -> Tensor:
        ids = x.long()
        if self.spec.output_mode == "one_hot" and self.input_shape[-1:] == (1,):
            ids = ids.squeeze(-1)
        tokens = torch.arange(self.spec.num_tokens, device=x.device)
        one_hot = (ids.unsqueeze(-1) == tokens).float()
        if self.spec.output_mode == "one_hot":
            return one_hot
        if self.spec.output_mode == "multi_hot":
            return one_hot.amax(dim=1)
        return one_hot.sum(dim=1)
