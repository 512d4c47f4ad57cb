"""Keras's image file helpers: `load_img`, `img_to_array`, `array_to_img`, `save_img`
(`keras.utils.*`, also `keras.preprocessing.image.*`) and `smart_resize`, with Pillow."""

from __future__ import annotations

import io
import pathlib
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike
from PIL import Image

from cornu.utils import image_resize

PIL_INTERPOLATION_METHODS: dict[str, Image.Resampling] = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "hamming": Image.Resampling.HAMMING,
    "box": Image.Resampling.BOX,
    "lanczos": Image.Resampling.LANCZOS,
}
"""`load_img`'s interpolations, as Keras maps them to Pillow's filters."""


def standardize_data_format(data_format: str | None) -> str:
    """`"channels_last"` (Keras's default) for None, else the given format, checked.

    Raises:
        ValueError: anything but "channels_first" or "channels_last".
    """
    if data_format is None:
        return "channels_last"
    value = str(data_format).lower()
    if value not in {"channels_first", "channels_last"}:
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={value}"
        )
    return value


def array_to_img(
    x: ArrayLike, data_format: str | None = None, scale: bool = True, dtype: DTypeLike | None = None
) -> Image.Image:
    """A 3-D array `(height, width, channels)` as a Pillow image, as Keras's
    `keras.utils.array_to_img`.

    With `scale`, values are shifted and scaled so that they span 0–255. Four channels
    give an RGBA image, three RGB, one grayscale ("L", or 32-bit "I" when a value
    exceeds 255).

    Raises:
        ValueError: `x` is not rank 3, or has another number of channels.
    """
    data_format = standardize_data_format(data_format)
    array = np.asarray(x, dtype=dtype or "float32")
    if array.ndim != 3:
        raise ValueError(
            f"Expected image array to have rank 3 (single image). Got array with shape: "
            f"{array.shape}"
        )
    if data_format == "channels_first":
        array = array.transpose(1, 2, 0)
    if scale:
        array = array - np.min(array)
        top = np.max(array)
        if top != 0:
            array /= top
        array *= 255
    channels = array.shape[2]
    if channels == 4:
        return Image.fromarray(array.astype("uint8"), "RGBA")
    if channels == 3:
        return Image.fromarray(array.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(array) > 255:
            return Image.fromarray(array[:, :, 0].astype("int32"), "I")
        return Image.fromarray(array[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def img_to_array(
    img: Any, data_format: str | None = None, dtype: DTypeLike | None = None
) -> np.ndarray:
    """A Pillow image as a 3-D array `(height, width, channels)` (float32 by default), as
    Keras's `keras.utils.img_to_array`; grayscale images get a channel axis of 1.

    Raises:
        ValueError: the image is not 2-D or 3-D.
    """
    data_format = standardize_data_format(data_format)
    array = np.asarray(img, dtype=dtype or "float32")
    if array.ndim == 3:
        if data_format == "channels_first":
            array = array.transpose(2, 0, 1)
    elif array.ndim == 2:
        if data_format == "channels_first":
            array = array.reshape((1, array.shape[0], array.shape[1]))
        else:
            array = array.reshape((array.shape[0], array.shape[1], 1))
    else:
        raise ValueError(f"Unsupported image shape: {array.shape}")
    return array


def save_img(
    path: Any,
    x: ArrayLike,
    data_format: str | None = None,
    file_format: str | None = None,
    scale: bool = True,
    **kwargs: Any,
) -> None:
    """Write a 3-D image array to `path` (a path or a file object), as Keras's
    `keras.utils.save_img`; the format comes from the extension unless `file_format`
    says it. An RGBA image saved as JPEG loses its alpha channel (with a warning).
    `kwargs` go to `PIL.Image.Image.save`."""
    data_format = standardize_data_format(data_format)
    if file_format is None and isinstance(path, str | pathlib.Path):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn(
            "The JPEG format does not support RGBA images, converting to RGB.", stacklevel=2
        )
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def _convert(img: Image.Image, color_mode: str) -> Image.Image:
    if color_mode == "grayscale":
        # 8-, 16- and 32-bit grayscale images are kept as they are.
        return img if img.mode in ("L", "I;16", "I") else img.convert("L")
    if color_mode == "rgba":
        return img if img.mode == "RGBA" else img.convert("RGBA")
    if color_mode == "rgb":
        return img if img.mode == "RGB" else img.convert("RGB")
    raise ValueError('color_mode must be "grayscale", "rgb", or "rgba"')


def load_img(
    path: Any,
    color_mode: str = "rgb",
    target_size: Sequence[int] | None = None,
    interpolation: str = "nearest",
    keep_aspect_ratio: bool = False,
) -> Image.Image:
    """Read an image file as a Pillow image, as Keras's `keras.utils.load_img`.

    Args:
        path: a path (str, bytes or `pathlib.Path`) or an `io.BytesIO`.
        color_mode: "grayscale", "rgb" or "rgba".
        target_size: `(height, width)` to resize to (with Pillow), or None.
        interpolation: Pillow's filter for that resize: "nearest", "bilinear",
            "bicubic", "hamming", "box" or "lanczos".
        keep_aspect_ratio: crop the largest centred box of the target's aspect ratio
            before resizing, instead of stretching.

    Raises:
        TypeError: `path` is neither path-like nor a BytesIO.
        ValueError: an unknown `color_mode` or `interpolation`.
    """
    img: Image.Image
    if isinstance(path, io.BytesIO):
        img = Image.open(path)
    elif isinstance(path, pathlib.Path | bytes | str):
        if isinstance(path, pathlib.Path):
            path = str(path.resolve())
        with open(path, "rb") as f:
            img = Image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    img = _convert(img, color_mode)
    if target_size is None:
        return img
    size = (int(target_size[1]), int(target_size[0]))
    if img.size == size:
        return img
    if interpolation not in PIL_INTERPOLATION_METHODS:
        raise ValueError(
            f"Invalid interpolation method {interpolation} specified. Supported methods are "
            f"{', '.join(PIL_INTERPOLATION_METHODS)}"
        )
    resample = PIL_INTERPOLATION_METHODS[interpolation]
    if not keep_aspect_ratio:
        return img.resize(size, resample)
    width, height = img.size
    crop_height = min(height, (width * size[1]) // size[0])
    crop_width = min(width, (height * size[0]) // size[1])
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return img.resize(size, resample, box=(left, top, left + crop_width, top + crop_height))


def smart_resize(
    x: ArrayLike,
    size: Sequence[int],
    interpolation: str = "bilinear",
    data_format: str = "channels_last",
) -> np.ndarray:
    """Resize images to `size` without distorting them, as Keras's
    `keras.preprocessing.image.smart_resize`: take the largest centred crop of the
    target's aspect ratio, then resize it (with TensorFlow's rules, see `image_resize`).

    Args:
        x: `(height, width, channels)` or `(batch, height, width, channels)`
            (channels first with `data_format="channels_first"`).
        size: `(height, width)`.
        interpolation: "bilinear", "nearest", "bicubic", "area", "lanczos3",
            "lanczos5", "gaussian" or "mitchellcubic".

    Returns:
        float32 images of shape `(*size, channels)` (with the batch axis if given).

    Raises:
        ValueError: `size` is not two ints, `x` is not rank 3 or 4, or an unknown
            `interpolation`.
    """
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers, but got: {size}.")
    images = np.asarray(x)
    if images.ndim < 3 or images.ndim > 4:
        raise ValueError(
            "Expected an image array with shape `(height, width, channels)`, or "
            "`(batch_size, height, width, channels)`, but got input with incorrect rank, "
            f"of shape {images.shape}."
        )
    channels_first = data_format == "channels_first"
    if channels_first:
        images = np.moveaxis(images, -3, -1)
    top, left, height, width = image_resize.crop_box(images.shape[-3], images.shape[-2], size)
    cropped = images[..., top : top + height, left : left + width, :]
    resized = image_resize.resize(cropped, size, interpolation)
    return np.moveaxis(resized, -1, -3) if channels_first else resized


__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]
