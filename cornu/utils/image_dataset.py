"""`keras.utils.image_dataset_from_directory`, giving an `ArrayDataset` (Keras gives a
`tf.data.Dataset`): the files are indexed, labelled, split and shuffled exactly as Keras
does it; the images are decoded with Pillow and resized with TensorFlow's rules when a
batch is read."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from cornu.utils import dataset_ops as ops
from cornu.utils import dataset_utils, image_resize
from cornu.utils.array_dataset import ArrayDataset
from cornu.utils.directory_dataset import from_directory
from cornu.utils.image_utils import standardize_data_format

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")

_MODES = {"grayscale": ("L", 1), "rgb": ("RGB", 3), "rgba": ("RGBA", 4)}


class ImageColumn(ops.LazyColumn):
    """Images read from `paths` when a batch asks for them: decoded to `channels`
    channels (the first frame of an animated GIF), resized to `image_size`, float32."""

    def __init__(
        self,
        paths: Sequence[str],
        image_size: tuple[int, int],
        color_mode: str,
        interpolation: str,
        crop_to_aspect_ratio: bool,
        pad_to_aspect_ratio: bool,
        data_format: str,
    ) -> None:
        self.paths = list(paths)
        self.image_size, self.mode = image_size, _MODES[color_mode][0]
        self.interpolation, self.data_format = interpolation, data_format
        self.crop, self.pad = crop_to_aspect_ratio, pad_to_aspect_ratio

    def __len__(self) -> int:
        return len(self.paths)

    def load(self, path: str) -> np.ndarray:
        with Image.open(path) as img:
            img.seek(0)
            pixels = np.asarray(img.convert(self.mode), dtype=np.float32)
        if pixels.ndim == 2:
            pixels = pixels[:, :, None]
        if self.crop:
            top, left, height, width = image_resize.crop_box(
                pixels.shape[0], pixels.shape[1], self.image_size
            )
            pixels = pixels[top : top + height, left : left + width]
            resized = image_resize.resize(pixels, self.image_size, self.interpolation)
        elif self.pad:
            resized = image_resize.resize_with_pad(pixels, self.image_size, self.interpolation)
        else:
            resized = image_resize.resize(pixels, self.image_size, self.interpolation)
        return resized.transpose(2, 0, 1) if self.data_format == "channels_first" else resized

    def rows(self, index: np.ndarray) -> np.ndarray:
        return np.stack([self.load(self.paths[int(i)]) for i in index]).astype(np.float32)


def image_dataset_from_directory(
    directory: str | os.PathLike[str],
    labels: Any = "inferred",
    label_mode: str | None = "int",
    class_names: Sequence[str] | None = None,
    color_mode: str = "rgb",
    batch_size: int | None = 32,
    image_size: int | Sequence[int] = (256, 256),
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    interpolation: str = "bilinear",
    follow_links: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    data_format: str | None = None,
    format: str = "tf",
    verbose: bool = True,
) -> ArrayDataset | list[ArrayDataset]:
    """A dataset of the images in `directory`, as Keras's
    `keras.utils.image_dataset_from_directory`.

    With `labels="inferred"`, each sub-folder is a class (sorted by name, or in
    `class_names`'s order) whose images, found recursively, get its index. Allowed
    files: .bmp, .gif, .jpeg, .jpg, .png.

    Args:
        labels: "inferred", None, or a list of integer labels, one per file in sorted
            path order.
        label_mode: "int" (int32 `(batch,)`), "categorical" (float32 one-hot
            `(batch, num_classes)`), "binary" (float32 `(batch, 1)`, two classes only) or
            None (images alone).
        color_mode: "grayscale", "rgb" or "rgba" (1, 3 or 4 channels). Color images are
            made grayscale with Pillow's luma (0.299 R + 0.587 G + 0.114 B).
        batch_size: images per batch, or None for single images.
        image_size: `(height, width)` every image is resized to (or an int for both).
        shuffle: shuffle the files (with `numpy.random.RandomState(seed)`, as Keras),
            and reshuffle them each later epoch; False keeps sorted order.
        seed: the shuffle's seed; needed with `validation_split` and shuffling.
        validation_split: the fraction (the last files of the shuffled order) kept for
            validation.
        subset: "training", "validation" or "both" (a list `[training, validation]`).
        interpolation: "bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5",
            "gaussian" or "mitchellcubic", with TensorFlow's resize rules.
        follow_links: follow symbolic links to folders.
        crop_to_aspect_ratio: crop the largest centred box of the target's aspect ratio
            before resizing (as `smart_resize`).
        pad_to_aspect_ratio: resize without distortion and pad with zeros instead.
        data_format: "channels_last" (default: `(batch, height, width, channels)`) or
            "channels_first".
        format: "tf" or "grain" — Keras's choice of return type; both give an
            `ArrayDataset` here.
        verbose: print how many files and classes were found.

    Returns:
        An `ArrayDataset` of float32 images (0–255) and labels, with `class_names` and
        `file_paths`; with `subset="both"`, a list of two (the validation one is not
        shuffled).

    Raises:
        ValueError: any argument outside the values above (naming it and the value),
            `class_names` that are not sub-folders, "binary" without exactly two
            classes, both aspect-ratio options, or no images found.
    """
    dataset_utils.check_label_args(labels, label_mode, class_names, "image files", "images")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if color_mode not in _MODES:
        raise ValueError(
            '`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
            f"Received: color_mode={color_mode}"
        )
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, list | tuple) or len(image_size) != 2:
        raise ValueError(
            "Invalid `image_size` value. Expected a tuple of 2 integers. "
            f"Received: image_size={image_size}"
        )
    interpolation = interpolation.lower()
    if interpolation not in image_resize.INTERPOLATIONS:
        raise ValueError(
            f"Argument `interpolation` should be one of {image_resize.INTERPOLATIONS}. "
            f"Received: interpolation={interpolation}"
        )
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(
            "Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to `True`."
        )
    size = (int(image_size[0]), int(image_size[1]))
    settings = (size, color_mode, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio)
    image_format = standardize_data_format(data_format)
    return from_directory(
        directory,
        labels,
        label_mode,
        class_names,
        formats=ALLOWLIST_FORMATS,
        samples=lambda files: ImageColumn(files, *settings, image_format),
        kind="images",
        allowed=f"Allowed formats: {ALLOWLIST_FORMATS}",
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        validation_split=validation_split,
        subset=subset,
        follow_links=follow_links,
        verbose=verbose,
    )


__all__ = ["ALLOWLIST_FORMATS", "image_dataset_from_directory"]
