"""Image resizing as TensorFlow's `tf.image.resize` (antialias off) computes it — what
Keras's `image_dataset_from_directory` and `smart_resize` use — in numpy.

Pixel centres are at half-integers (`half_pixel_centers`): output pixel `i` of a
resize from `m` to `n` samples the input at `(i + 0.5) * m / n - 0.5`.

- "bilinear": the two nearest input pixels, weighted linearly (TF's ResizeBilinear).
- "nearest": input pixel `min(floor((i + 0.5) * m / n), m - 1)`.
- "area": each output pixel averages the input area it covers (TF's ResizeArea).
- "bicubic" (Keys, a = -0.5), "lanczos3", "lanczos5", "gaussian" (radius 1.5,
  sigma 0.5), "mitchellcubic" (B = C = 1/3): a kernel over the nearby input pixels,
  its weights renormalised where it reaches past the border (TF's scale_and_translate).
  TF's bicubic reads its weights from a 1024-entry table, so its values may differ
  from these in the fourth significant digit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

INTERPOLATIONS = (
    "bilinear",
    "nearest",
    "bicubic",
    "area",
    "lanczos3",
    "lanczos5",
    "gaussian",
    "mitchellcubic",
)


def _keys_cubic(x: np.ndarray) -> np.ndarray:
    near = ((1.5 * x - 2.5) * x) * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return np.where(x >= 2.0, 0.0, np.where(x >= 1.0, far, near))


def _lanczos(radius: float) -> Callable[[np.ndarray], np.ndarray]:
    def kernel(x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            y = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius) / (np.pi**2 * x**2)
        return np.where(x > radius, 0.0, np.where(x > 1e-3, y, 1.0))

    return kernel


def _gaussian(x: np.ndarray) -> np.ndarray:
    radius, sigma = 1.5, 0.5
    return np.where(x >= radius, 0.0, np.exp(-x * x / (2.0 * sigma * sigma)))


def _mitchell_cubic(x: np.ndarray) -> np.ndarray:
    near = (((7.0 / 6.0) * x - 2.0) * x) * x + 8.0 / 9.0
    far = (((-7.0 / 18.0) * x + 2.0) * x - 10.0 / 3.0) * x + 16.0 / 9.0
    return np.where(x >= 2.0, 0.0, np.where(x >= 1.0, far, near))


_KERNELS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "bicubic": _keys_cubic,
    "lanczos3": _lanczos(3.0),
    "lanczos5": _lanczos(5.0),
    "gaussian": _gaussian,
    "mitchellcubic": _mitchell_cubic,
}


def _bilinear_weights(m: int, n: int) -> np.ndarray:
    scale = np.float32(m) / np.float32(n)
    centre = (np.arange(n, dtype=np.float32) + np.float32(0.5)) * scale - np.float32(0.5)
    floor = np.floor(centre)
    lower = np.maximum(floor, 0).astype(np.int64)
    upper = np.minimum(np.ceil(centre), m - 1).astype(np.int64)
    lerp = (centre - floor).astype(np.float32)
    weights = np.zeros((n, m), dtype=np.float32)
    weights[np.arange(n), lower] += 1 - lerp
    weights[np.arange(n), upper] += lerp
    return weights


def _area_weights(m: int, n: int) -> np.ndarray:
    scale = m / n
    weights = np.zeros((n, m), dtype=np.float64)
    for i in range(n):
        start, stop = i * scale, (i + 1) * scale
        for j in range(int(np.floor(start)), int(np.ceil(stop))):
            overlap = min(j + 1, stop) - max(j, start)
            weights[i, min(j, m - 1)] += overlap
    return (weights / scale).astype(np.float32)


def _kernel_weights(m: int, n: int, kernel: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    centre = (np.arange(n, dtype=np.float64) + 0.5) * (m / n) - 0.5
    weights = kernel(np.abs(centre[:, None] - np.arange(m, dtype=np.float64)[None, :]))
    total = weights.sum(axis=1, keepdims=True)
    return np.where(np.abs(total) > 1e-30, weights / np.where(total == 0, 1, total), 0)


def _weights(m: int, n: int, interpolation: str) -> np.ndarray:
    """The `(n, m)` matrix that maps `m` input samples to `n` output samples."""
    if interpolation == "bilinear":
        return _bilinear_weights(m, n)
    if interpolation == "area":
        return _area_weights(m, n)
    return _kernel_weights(m, n, _KERNELS[interpolation])


def _nearest_index(m: int, n: int) -> np.ndarray:
    scale = np.float32(m) / np.float32(n)
    index = np.floor((np.arange(n, dtype=np.float32) + np.float32(0.5)) * scale)
    return np.minimum(index.astype(np.int64), m - 1)


def resize(image: np.ndarray, size: Sequence[int], interpolation: str = "bilinear") -> np.ndarray:
    """Resize `(height, width, channels)` or `(batch, height, width, channels)` images to
    `size` `(new_height, new_width)`, as `tf.image.resize(images, size, method)`.

    Returns float32 (TF's "nearest" keeps the input dtype; here every method gives
    float32, the dtype Keras's image datasets yield).

    Raises:
        ValueError: an unknown `interpolation`, or an image that is not rank 3 or 4.
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"Argument `interpolation` should be one of {INTERPOLATIONS}. "
            f"Received: interpolation={interpolation}"
        )
    if image.ndim not in (3, 4):
        raise ValueError(f"expected an image (h, w, c) or a batch of them; got {image.shape}")
    out = image.astype(np.float32)
    height, width = int(size[0]), int(size[1])
    for axis, target in ((-3, height), (-2, width)):
        m = out.shape[axis]
        if m == target and interpolation in ("bilinear", "nearest", "area"):
            continue  # identity weights
        if interpolation == "nearest":
            out = np.take(out, _nearest_index(m, target), axis=axis)
            continue
        weights = _weights(m, target, interpolation).astype(np.float32)
        out = np.moveaxis(np.tensordot(weights, np.moveaxis(out, axis, 0), axes=(1, 0)), 0, axis)
    return out.astype(np.float32)


def crop_box(height: int, width: int, target: Sequence[int]) -> tuple[int, int, int, int]:
    """The largest centred box of the target's aspect ratio: `(top, left, h, w)`, as
    Keras's `smart_resize` computes it."""
    target_height, target_width = int(target[0]), int(target[1])
    crop_height = max(min(height, int(float(width * target_height) / target_width)), 1)
    crop_width = max(min(width, int(float(height * target_width) / target_height)), 1)
    top = int(float(height - crop_height) / 2)
    left = int(float(width - crop_width) / 2)
    return top, left, crop_height, crop_width


def resize_with_pad(
    image: np.ndarray, size: Sequence[int], interpolation: str = "bilinear"
) -> np.ndarray:
    """Resize `(height, width, channels)` to fit `size` without distortion and pad the
    rest with zeros, centred, as `tf.image.resize_with_pad`."""
    height, width = image.shape[0], image.shape[1]
    target_height, target_width = np.float32(size[0]), np.float32(size[1])
    ratio = max(np.float32(width) / target_width, np.float32(height) / target_height)
    new_height_f, new_width_f = np.float32(height) / ratio, np.float32(width) / ratio
    new_height, new_width = int(np.floor(new_height_f)), int(np.floor(new_width_f))
    top = max(0, int(np.floor((target_height - new_height_f) / 2)))
    left = max(0, int(np.floor((target_width - new_width_f) / 2)))
    resized = resize(image, (new_height, new_width), interpolation)
    padded = np.zeros((int(size[0]), int(size[1]), image.shape[2]), dtype=np.float32)
    padded[top : top + new_height, left : left + new_width] = resized
    return padded


__all__ = ["INTERPOLATIONS", "crop_box", "resize", "resize_with_pad"]
