"""The image transforms of Keras 2's `ImageDataGenerator` (`keras.preprocessing.image`,
kept by Keras 3 under `keras.src.legacy.preprocessing.image`): affine transforms with
scipy (imported when first needed), channel and brightness shifts, and their random
forms, drawing from numpy's global generator as Keras does."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from cornu.utils.image_utils import array_to_img, img_to_array


def _scipy_ndimage() -> Any:
    """scipy.ndimage, with Keras's message when scipy is missing."""
    try:
        return importlib.import_module("scipy.ndimage")
    except ImportError:
        raise ImportError(
            "This requires the scipy module. You can install it via `pip install scipy`"
        ) from None


def flip_axis(x: np.ndarray, axis: int) -> np.ndarray:
    """`x` reversed along `axis`."""
    return np.flip(np.asarray(x), axis)


def transform_matrix_offset_center(matrix: np.ndarray, x: int, y: int) -> np.ndarray:
    """`matrix` applied about the centre of an `x` by `y` image instead of its corner."""
    o_x, o_y = float(x) / 2 - 0.5, float(y) / 2 - 0.5
    offset = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    return np.dot(np.dot(offset, matrix), reset)


def apply_affine_transform(
    x: np.ndarray,
    theta: float = 0,
    tx: float = 0,
    ty: float = 0,
    shear: float = 0,
    zx: float = 1,
    zy: float = 1,
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    order: int = 1,
) -> np.ndarray:
    """Rotate (`theta` degrees), shift (`tx` rows, `ty` columns), shear (`shear` degrees)
    and zoom (`zx`, `zy`) one image about its centre, as Keras's `apply_affine_transform`
    (scipy's `ndimage.affine_transform`, channel by channel).

    Args:
        x: one image, 3-D; its channels on axis 0 or 2.
        fill_mode: how points outside are filled: "constant", "nearest", "reflect" or
            "wrap" (scipy's modes).
        cval: the value for `fill_mode="constant"`.
        order: the spline interpolation order (1: bilinear).

    Raises:
        ValueError: axes that are not 0, 1, 2 in some order, a non-3-D `x`, or channels
            on axis 1.
        ImportError: scipy is not installed.
    """
    if np.unique([row_axis, col_axis, channel_axis]).size != 3:
        raise ValueError("'row_axis', 'col_axis', and 'channel_axis' must be distinct")
    given = {row_axis, col_axis, channel_axis}
    if given != {0, 1, 2}:
        raise ValueError(f"Invalid axis' indices: {given - {0, 1, 2}}")
    if x.ndim != 3:
        raise ValueError("Input arrays must be multi-channel 2D images.")
    if channel_axis not in [0, 2]:
        raise ValueError("Channels are allowed and the first and last dimensions.")
    matrix = None
    if theta != 0:
        angle = np.deg2rad(theta)
        matrix = np.array(
            [[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
        )
    steps = []
    if tx != 0 or ty != 0:
        steps.append(np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]]))
    if shear != 0:
        angle = np.deg2rad(shear)
        steps.append(np.array([[1, -np.sin(angle), 0], [0, np.cos(angle), 0], [0, 0, 1]]))
    if zx != 1 or zy != 1:
        steps.append(np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]]))
    for step in steps:
        matrix = step if matrix is None else np.dot(matrix, step)
    if matrix is None:
        return x
    height, width = x.shape[row_axis], x.shape[col_axis]
    matrix = transform_matrix_offset_center(matrix, height, width)
    channels = np.rollaxis(x, channel_axis, 0)
    # The matrix is in (x, y) order and arrays index (row, column): swap both axes of the
    # matrix (M' = P M P) when the columns come after the rows.
    if col_axis > row_axis:
        matrix[:, [0, 1]] = matrix[:, [1, 0]]
        matrix[[0, 1]] = matrix[[1, 0]]
    ndimage = _scipy_ndimage()
    moved = [
        ndimage.affine_transform(
            channel, matrix[:2, :2], matrix[:2, 2], order=order, mode=fill_mode, cval=cval
        )
        for channel in channels
    ]
    return np.rollaxis(np.stack(moved, axis=0), 0, channel_axis + 1)


def _random(
    x: np.ndarray,
    row_axis: int,
    col_axis: int,
    channel_axis: int,
    fill_mode: str,
    cval: float,
    interpolation_order: int,
    **transform: float,
) -> np.ndarray:
    return apply_affine_transform(
        x, row_axis=row_axis, col_axis=col_axis, channel_axis=channel_axis,
        fill_mode=fill_mode, cval=cval, order=interpolation_order, **transform,
    )  # fmt: skip


def random_rotation(
    x: np.ndarray,
    rg: float,
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    interpolation_order: int = 1,
) -> np.ndarray:
    """Rotate one image by a uniform random angle in `[-rg, rg]` degrees (Keras's
    `random_rotation`); axes and filling as `apply_affine_transform`."""
    theta = np.random.uniform(-rg, rg)
    return _random(
        x, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order, theta=theta
    )


def random_shift(
    x: np.ndarray,
    wrg: float,
    hrg: float,
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    interpolation_order: int = 1,
) -> np.ndarray:
    """Shift one image by random fractions of its height (`hrg`) and width (`wrg`)
    (Keras's `random_shift`)."""
    h, w = x.shape[row_axis], x.shape[col_axis]
    tx = np.random.uniform(-hrg, hrg) * h
    ty = np.random.uniform(-wrg, wrg) * w
    return _random(
        x, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order, tx=tx, ty=ty
    )


def random_shear(
    x: np.ndarray,
    intensity: float,
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    interpolation_order: int = 1,
) -> np.ndarray:
    """Shear one image by a random angle in `[-intensity, intensity]` degrees (Keras's
    `random_shear`)."""
    shear = np.random.uniform(-intensity, intensity)
    return _random(
        x, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order, shear=shear
    )


def random_zoom(
    x: np.ndarray,
    zoom_range: Sequence[float],
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    interpolation_order: int = 1,
) -> np.ndarray:
    """Zoom one image by random factors in `zoom_range` `(low, high)` along each axis
    (Keras's `random_zoom`).

    Raises:
        ValueError: `zoom_range` is not two numbers.
    """
    if len(zoom_range) != 2:
        raise ValueError(
            f"`zoom_range` should be a tuple or list of two floats. Received: {zoom_range}"
        )
    zx, zy = 1.0, 1.0
    if not (zoom_range[0] == 1 and zoom_range[1] == 1):
        zx, zy = np.random.uniform(zoom_range[0], zoom_range[1], 2)
    return _random(
        x, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order, zx=zx, zy=zy
    )


def apply_channel_shift(x: np.ndarray, intensity: float, channel_axis: int = 0) -> np.ndarray:
    """Add `intensity` to every channel, clipped to the image's own min and max (Keras's
    `apply_channel_shift`)."""
    channels = np.rollaxis(x, channel_axis, 0)
    low, high = np.min(channels), np.max(channels)
    shifted = [np.clip(channel + intensity, low, high) for channel in channels]
    return np.rollaxis(np.stack(shifted, axis=0), 0, channel_axis + 1)


def random_channel_shift(
    x: np.ndarray, intensity_range: float, channel_axis: int = 0
) -> np.ndarray:
    """`apply_channel_shift` by a uniform random amount in `[-intensity_range,
    intensity_range]` (Keras's `random_channel_shift`)."""
    intensity = np.random.uniform(-intensity_range, intensity_range)
    return apply_channel_shift(x, intensity, channel_axis=channel_axis)


def apply_brightness_shift(x: np.ndarray, brightness: float, scale: bool = True) -> np.ndarray:
    """Scale the brightness of a channels-last image by `brightness` with Pillow's
    `ImageEnhance.Brightness` (Keras's `apply_brightness_shift`); values outside 0–255
    are rescaled to it first and, without `scale`, back afterwards."""
    from PIL import ImageEnhance

    low, high = np.min(x), np.max(x)
    outside = bool(low < 0 or high > 255)
    image = array_to_img(x, scale=outside or scale)
    result = img_to_array(ImageEnhance.Brightness(image).enhance(brightness))
    if not scale and outside:
        result = result / 255 * (high - low) + low
    return result


def random_brightness(
    x: np.ndarray, brightness_range: Sequence[float], scale: bool = True
) -> np.ndarray:
    """`apply_brightness_shift` by a uniform random factor in `brightness_range`
    (Keras's `random_brightness`).

    Raises:
        ValueError: `brightness_range` is not two numbers.
    """
    if len(brightness_range) != 2:
        raise ValueError(
            f"`brightness_range should be tuple or list of two floats. Received: {brightness_range}"
        )
    factor = np.random.uniform(brightness_range[0], brightness_range[1])
    return apply_brightness_shift(x, factor, scale)


__all__ = [
    "apply_affine_transform",
    "apply_brightness_shift",
    "apply_channel_shift",
    "flip_axis",
    "random_brightness",
    "random_channel_shift",
    "random_rotation",
    "random_shear",
    "random_shift",
    "random_zoom",
    "transform_matrix_offset_center",
]
