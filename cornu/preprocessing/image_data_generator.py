"""Keras 2's `ImageDataGenerator` (`keras.preprocessing.image`, kept by Keras 3 under
`keras.src.legacy.preprocessing.image`): real-time augmentation and standardization of
image batches, with the same random draws from numpy's global generator as Keras's."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from cornu.preprocessing import affine
from cornu.preprocessing.directory_iterator import DirectoryIterator
from cornu.preprocessing.image_iterators import NumpyArrayIterator
from cornu.utils.image_utils import standardize_data_format

_NOT_FIT = (
    "This ImageDataGenerator specifies `{0}`, but it hasn't been fit on any training data. "
    "Fit it first by calling `.fit(numpy_data)`."
)


def _shift(shift_range: Any, size: int) -> float:
    """A random shift as Keras draws it: an int or a list picks a value and a sign; a
    float is uniform in ±range; ranges under 1 are fractions of `size`."""
    try:
        value = np.random.choice(shift_range)
        value *= np.random.choice([-1, 1])
    except ValueError:  # a float range
        value = np.random.uniform(-shift_range, shift_range)
    if np.max(shift_range) < 1:
        value *= size
    return float(value)


class ImageDataGenerator:
    """Random transforms and standardization of images, as Keras's
    `keras.preprocessing.image.ImageDataGenerator`.

    Per image: `get_random_transform` draws rotation (`rotation_range` degrees), shifts,
    shear, zoom, flips, channel shift and brightness; `apply_transform` applies them
    (scipy's affine transform, with `fill_mode` and `cval`); `standardize` applies
    `preprocessing_function`, `rescale` and the sample- or feature-wise normalizations
    (the feature-wise ones and ZCA whitening after `fit`).

    Args:
        width_shift_range, height_shift_range: a float (a fraction of the size if < 1,
            else pixels; uniform in ±range), an int (whole pixels in ±range), or a list
            of allowed values.
        zoom_range: a float `z` for `[1 - z, 1 + z]`, or `(low, high)`.
        brightness_range: `(low, high)` factors, or None.
        fill_mode: "constant", "nearest", "reflect" or "wrap".
        rescale: a factor applied to every image (e.g. 1/255), before the rest.
        preprocessing_function: a function of one image (rank 3), applied first.
        data_format: "channels_last" (default) or "channels_first".
        validation_split: the fraction kept for `subset="validation"` (in (0, 1)).
        interpolation_order: the spline order of the affine transforms.
        dtype: the batches' dtype (float32).

    Raises:
        ValueError: a bad `data_format`, `validation_split`, `zoom_range` or
            `brightness_range` (naming the value).
    """

    def __init__(
        self,
        featurewise_center: bool = False,
        samplewise_center: bool = False,
        featurewise_std_normalization: bool = False,
        samplewise_std_normalization: bool = False,
        zca_whitening: bool = False,
        zca_epsilon: float = 1e-6,
        rotation_range: float = 0,
        width_shift_range: Any = 0.0,
        height_shift_range: Any = 0.0,
        brightness_range: Sequence[float] | None = None,
        shear_range: float = 0.0,
        zoom_range: float | Sequence[float] = 0.0,
        channel_shift_range: float = 0.0,
        fill_mode: str = "nearest",
        cval: float = 0.0,
        horizontal_flip: bool = False,
        vertical_flip: bool = False,
        rescale: float | None = None,
        preprocessing_function: Callable[[np.ndarray], np.ndarray] | None = None,
        data_format: str | None = None,
        validation_split: float = 0.0,
        interpolation_order: int = 1,
        dtype: DTypeLike | None = None,
    ) -> None:
        data_format = data_format or "channels_last"
        self.featurewise_center, self.samplewise_center = featurewise_center, samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening, self.zca_epsilon = zca_whitening, zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range, self.height_shift_range = width_shift_range, height_shift_range
        self.shear_range, self.channel_shift_range = shear_range, channel_shift_range
        self.fill_mode, self.cval = fill_mode, cval
        self.horizontal_flip, self.vertical_flip = horizontal_flip, vertical_flip
        self.rescale, self.preprocessing_function = rescale, preprocessing_function
        self.dtype, self.interpolation_order = dtype or "float32", interpolation_order
        if data_format not in {"channels_last", "channels_first"}:
            raise ValueError(
                '`data_format` should be `"channels_last"` (channel after row and column) or '
                '`"channels_first"` (channel before row and column). '
                f"Received: {data_format}"
            )
        self.data_format = standardize_data_format(data_format)
        first = data_format == "channels_first"
        self.channel_axis, self.row_axis, self.col_axis = (1, 2, 3) if first else (3, 1, 2)
        if validation_split and not 0 < validation_split < 1:
            raise ValueError(
                "`validation_split` must be strictly between 0 and 1. "
                f" Received: {validation_split}"
            )
        self._validation_split = validation_split
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.zca_whitening_matrix: np.ndarray | None = None
        if isinstance(zoom_range, float | int):
            self.zoom_range = [1 - zoom_range, 1 + zoom_range]
        elif len(zoom_range) == 2 and all(isinstance(v, float | int) for v in zoom_range):
            self.zoom_range = [zoom_range[0], zoom_range[1]]
        else:
            raise ValueError(
                "`zoom_range` should be a float or a tuple or list of two floats. "
                f"Received: {zoom_range}"
            )
        if zca_whitening:
            if not featurewise_center:
                self.featurewise_center = True
                warnings.warn(
                    "This ImageDataGenerator specifies `zca_whitening`, which overrides "
                    "setting of `featurewise_center`.",
                    stacklevel=2,
                )
            if featurewise_std_normalization:
                self.featurewise_std_normalization = False
                warnings.warn(
                    "This ImageDataGenerator specifies `zca_whitening` which overrides "
                    "setting of`featurewise_std_normalization`.",
                    stacklevel=2,
                )
        if featurewise_std_normalization and not featurewise_center:
            self.featurewise_center = True
            warnings.warn(
                "This ImageDataGenerator specifies `featurewise_std_normalization`, which "
                "overrides setting of `featurewise_center`.",
                stacklevel=2,
            )
        if samplewise_std_normalization and not samplewise_center:
            self.samplewise_center = True
            warnings.warn(
                "This ImageDataGenerator specifies `samplewise_std_normalization`, which "
                "overrides setting of `samplewise_center`.",
                stacklevel=2,
            )
        if brightness_range is not None and (
            not isinstance(brightness_range, tuple | list) or len(brightness_range) != 2
        ):
            raise ValueError(
                "`brightness_range should be tuple or list of two floats. "
                f"Received: {brightness_range}"
            )
        self.brightness_range = brightness_range

    def flow(
        self,
        x: Any,
        y: Any = None,
        batch_size: int = 32,
        shuffle: bool = True,
        sample_weight: Any = None,
        seed: int | None = None,
        save_to_dir: str | None = None,
        save_prefix: str = "",
        save_format: str = "png",
        ignore_class_split: bool = False,
        subset: str | None = None,
    ) -> NumpyArrayIterator:
        """Augmented batches of the images `x` `(samples, height, width, channels)` and
        labels `y` (see `NumpyArrayIterator`)."""
        return NumpyArrayIterator(
            x, y, self, batch_size=batch_size, shuffle=shuffle, sample_weight=sample_weight,
            seed=seed, data_format=self.data_format, save_to_dir=save_to_dir,
            save_prefix=save_prefix, save_format=save_format,
            ignore_class_split=ignore_class_split, subset=subset, dtype=self.dtype,
        )  # fmt: skip

    def flow_from_directory(
        self,
        directory: str | os.PathLike[str],
        target_size: Sequence[int] = (256, 256),
        color_mode: str = "rgb",
        classes: Sequence[str] | None = None,
        class_mode: str | None = "categorical",
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        save_to_dir: str | None = None,
        save_prefix: str = "",
        save_format: str = "png",
        follow_links: bool = False,
        subset: str | None = None,
        interpolation: str = "nearest",
        keep_aspect_ratio: bool = False,
    ) -> DirectoryIterator:
        """Augmented batches of the images in `directory`'s class sub-folders, resized to
        `target_size` with Pillow's `interpolation` (see `DirectoryIterator`)."""
        return DirectoryIterator(
            directory, self, target_size=target_size, color_mode=color_mode,
            keep_aspect_ratio=keep_aspect_ratio, classes=classes, class_mode=class_mode,
            data_format=self.data_format, batch_size=batch_size, shuffle=shuffle, seed=seed,
            save_to_dir=save_to_dir, save_prefix=save_prefix, save_format=save_format,
            follow_links=follow_links, subset=subset, interpolation=interpolation,
            dtype=self.dtype,
        )  # fmt: skip

    def standardize(self, x: np.ndarray) -> np.ndarray:
        """Normalize one image (or a batch), in place where Keras does: the
        preprocessing function, `rescale`, then the sample- and feature-wise options."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, keepdims=True) + 1e-6
        if self.featurewise_center:
            if self.mean is not None:
                x -= self.mean
            else:
                warnings.warn(_NOT_FIT.format("featurewise_center"), stacklevel=2)
        if self.featurewise_std_normalization:
            if self.std is not None:
                x /= self.std + 1e-6
            else:
                warnings.warn(_NOT_FIT.format("featurewise_std_normalization"), stacklevel=2)
        if self.zca_whitening:
            if self.zca_whitening_matrix is not None:
                flat = x.reshape(-1, math.prod(x.shape[-3:]))
                x = np.reshape(flat @ self.zca_whitening_matrix, x.shape)
            else:
                warnings.warn(_NOT_FIT.format("zca_whitening"), stacklevel=2)
        return x

    def get_random_transform(
        self, img_shape: Sequence[int], seed: int | None = None
    ) -> dict[str, Any]:
        """Random transform parameters for one image of `img_shape`, drawn in Keras's
        order (both flips are always drawn, so the stream matches Keras's)."""
        row_axis, col_axis = self.row_axis - 1, self.col_axis - 1
        if seed is not None:
            np.random.seed(seed)
        theta = (
            np.random.uniform(-self.rotation_range, self.rotation_range)
            if self.rotation_range
            else 0
        )
        tx = _shift(self.height_shift_range, img_shape[row_axis]) if self.height_shift_range else 0
        ty = _shift(self.width_shift_range, img_shape[col_axis]) if self.width_shift_range else 0
        shear = np.random.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0
        zx: Any = 1
        zy: Any = 1
        if not (self.zoom_range[0] == 1 and self.zoom_range[1] == 1):
            zx, zy = np.random.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = (np.random.random() < 0.5) * self.horizontal_flip
        flip_vertical = (np.random.random() < 0.5) * self.vertical_flip
        channel_shift = None
        if self.channel_shift_range != 0:
            channel_shift = np.random.uniform(-self.channel_shift_range, self.channel_shift_range)
        brightness = None
        if self.brightness_range is not None:
            brightness = np.random.uniform(self.brightness_range[0], self.brightness_range[1])
        return {
            "theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
            "flip_horizontal": flip_horizontal, "flip_vertical": flip_vertical,
            "channel_shift_intensity": channel_shift, "brightness": brightness,
        }  # fmt: skip

    def apply_transform(self, x: np.ndarray, transform_parameters: dict[str, Any]) -> np.ndarray:
        """Apply `get_random_transform`'s parameters to one image (rank 3)."""
        row_axis, col_axis = self.row_axis - 1, self.col_axis - 1
        channel_axis = self.channel_axis - 1
        p = transform_parameters
        x = affine.apply_affine_transform(
            x, p.get("theta", 0), p.get("tx", 0), p.get("ty", 0), p.get("shear", 0),
            p.get("zx", 1), p.get("zy", 1), row_axis=row_axis, col_axis=col_axis,
            channel_axis=channel_axis, fill_mode=self.fill_mode, cval=self.cval,
            order=self.interpolation_order,
        )  # fmt: skip
        if p.get("channel_shift_intensity") is not None:
            x = affine.apply_channel_shift(x, p["channel_shift_intensity"], channel_axis)
        if p.get("flip_horizontal", False):
            x = affine.flip_axis(x, col_axis)
        if p.get("flip_vertical", False):
            x = affine.flip_axis(x, row_axis)
        if p.get("brightness") is not None:
            x = affine.apply_brightness_shift(x, p["brightness"], False)
        return x

    def random_transform(self, x: np.ndarray, seed: int | None = None) -> np.ndarray:
        """One image (rank 3) randomly transformed."""
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    def fit(self, x: Any, augment: bool = False, rounds: int = 1, seed: int | None = None) -> None:
        """Compute the feature-wise mean, std and ZCA matrix from images `x`
        `(samples, height, width, channels)` (augmented `rounds` times with `augment`).

        Raises:
            ValueError: `x` is not rank 4.
        """
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(
                "Input to `.fit()` should have rank 4. Got array with shape: " + str(x.shape)
            )
        if x.shape[self.channel_axis] not in {1, 3, 4}:
            warnings.warn(
                "Expected input to be images (as Numpy array) following the data format "
                f'convention "{self.data_format}" (channels on axis {self.channel_axis}), '
                f"i.e. expected either 1, 3 or 4 channels on axis {self.channel_axis}. "
                f"However, it was passed an array with shape {x.shape} "
                f"({x.shape[self.channel_axis]} channels).",
                stacklevel=2,
            )
        if seed is not None:
            np.random.seed(seed)
        x = np.copy(x)
        if self.rescale:
            x *= self.rescale
        if augment:
            augmented = np.zeros((rounds * x.shape[0], *x.shape[1:]), dtype=self.dtype)
            for r in range(rounds):
                for i in range(x.shape[0]):
                    augmented[i + r * x.shape[0]] = self.random_transform(x[i])
            x = augmented
        broadcast = [1, 1, 1]
        broadcast[self.channel_axis - 1] = x.shape[self.channel_axis]
        if self.featurewise_center:
            self.mean = np.reshape(np.mean(x, axis=(0, self.row_axis, self.col_axis)), broadcast)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(np.std(x, axis=(0, self.row_axis, self.col_axis)), broadcast)
            x /= self.std + 1e-6
        if self.zca_whitening:
            n = len(x)
            u, s, _ = np.linalg.svd(np.reshape(x, (n, -1)).T, full_matrices=False)
            s_inv = np.sqrt(n) / (s + self.zca_epsilon)
            self.zca_whitening_matrix = (u * s_inv).dot(u.T)


__all__ = ["ImageDataGenerator"]
