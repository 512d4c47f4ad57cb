"""`DirectoryIterator`, what Keras 2's `ImageDataGenerator.flow_from_directory` returns:
images read from class sub-folders per batch, augmented afresh each time."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike

from cornu.preprocessing.image_iterators import Iterator, save_batch
from cornu.utils.image_utils import img_to_array, load_img

if TYPE_CHECKING:
    from cornu.preprocessing.image_data_generator import ImageDataGenerator


def _class_files(
    directory: str, formats: tuple[str, ...], split: tuple[float, float] | None, follow_links: bool
) -> list[str]:
    """Files under `directory` (sorted folder by folder), the `split` fraction of them,
    as paths relative to `directory`'s parent."""
    found = []
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links), key=lambda e: e[0]):
        for fname in sorted(files):
            if fname.lower().endswith(".tiff"):
                warnings.warn(
                    'Using ".tiff" files with multiple bands will cause distortion. '
                    "Please verify your output.",
                    stacklevel=2,
                )
            if fname.lower().endswith(formats):
                found.append((root, fname))
    if split:
        found = found[int(split[0] * len(found)) : int(split[1] * len(found))]
    name = os.path.basename(directory)
    return [os.path.join(name, os.path.relpath(os.path.join(r, f), directory)) for r, f in found]


class DirectoryIterator(Iterator):
    """Images from class sub-folders, loaded and augmented per batch, as Keras's
    `keras.preprocessing.image.DirectoryIterator` (what `flow_from_directory` returns).

    Batches are `(x, y)`: `x` of `(batch, *target_size, channels)` (dtype `dtype`), `y` by
    `class_mode`: "categorical" one-hot `(batch, num_classes)`, "binary" / "sparse"
    class indices `(batch,)`, "input" a copy of `x`; with `class_mode=None`, `x` alone.
    Attributes as Keras's: `classes` (int32 per file), `class_indices`, `filenames`,
    `filepaths`, `samples`, `num_classes`.

    Raises:
        ValueError: an unknown `color_mode`, `class_mode` or `subset`.
    """

    allowed_class_modes = {"categorical", "binary", "sparse", "input", None}

    def __init__(
        self,
        directory: str | os.PathLike[str],
        image_data_generator: ImageDataGenerator | None,
        target_size: Sequence[int] = (256, 256),
        color_mode: str = "rgb",
        classes: Sequence[str] | None = None,
        class_mode: str | None = "categorical",
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        data_format: str | None = None,
        save_to_dir: str | None = None,
        save_prefix: str = "",
        save_format: str = "png",
        follow_links: bool = False,
        subset: str | None = None,
        interpolation: str = "nearest",
        keep_aspect_ratio: bool = False,
        dtype: DTypeLike | None = None,
    ) -> None:
        channels = {"rgba": 4, "rgb": 3, "grayscale": 1}
        if color_mode not in channels:
            raise ValueError(
                f'Invalid color mode: {color_mode}; expected "rgb", "rgba", or "grayscale".'
            )
        self.image_data_generator = image_data_generator
        self.target_size = tuple(int(s) for s in target_size)
        self.color_mode, self.keep_aspect_ratio = color_mode, keep_aspect_ratio
        self.data_format = data_format or "channels_last"
        depth = channels[color_mode]
        self.image_shape = (
            (*self.target_size, depth)
            if self.data_format == "channels_last"
            else (depth, *self.target_size)
        )
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        self.interpolation = interpolation
        split = None
        if subset is not None:
            fraction = image_data_generator._validation_split if image_data_generator else 0.0
            if subset == "validation":
                split = (0.0, fraction)
            elif subset == "training":
                split = (fraction, 1.0)
            else:
                raise ValueError(
                    f'Invalid subset name: {subset};expected "training" or "validation"'
                )
        self.split, self.subset = split, subset
        self.directory = os.fspath(directory)
        if class_mode not in self.allowed_class_modes:
            raise ValueError(
                f"Invalid class_mode: {class_mode}; expected one of: {self.allowed_class_modes}"
            )
        self.class_mode, self.dtype = class_mode, dtype or "float32"
        if not classes:
            classes = [
                d for d in sorted(os.listdir(self.directory))
                if os.path.isdir(os.path.join(self.directory, d))
            ]  # fmt: skip
        self.num_classes = len(classes)
        self.class_indices = {name: i for i, name in enumerate(classes)}
        self.filenames: list[str] = []
        labels: list[int] = []
        for name in classes:
            found = _class_files(
                os.path.join(self.directory, name), self.white_list_formats, split, follow_links
            )
            self.filenames += found
            labels += [self.class_indices[name]] * len(found)
        self.samples = len(self.filenames)
        self.classes = np.array(labels, dtype="int32")
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        self._filepaths = [os.path.join(self.directory, f) for f in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    @property
    def filepaths(self) -> list[str]:
        """Each image's path, in the order of `classes`."""
        return self._filepaths

    @property
    def labels(self) -> np.ndarray:
        """`classes`: each image's class index (int32)."""
        return self.classes

    @property
    def sample_weight(self) -> None:
        """None: a directory gives no sample weights."""
        return None

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray) -> Any:
        batch_x = np.zeros((len(index_array), *self.image_shape), dtype=self.dtype)
        generator = self.image_data_generator
        for i, j in enumerate(index_array):
            img = load_img(
                self._filepaths[j], color_mode=self.color_mode, target_size=self.target_size,
                interpolation=self.interpolation, keep_aspect_ratio=self.keep_aspect_ratio,
            )  # fmt: skip
            x = img_to_array(img, data_format=self.data_format)
            img.close()
            if generator:
                params = generator.get_random_transform(x.shape)
                x = generator.apply_transform(x, params)
                x = generator.standardize(x)
            batch_x[i] = x
        if self.save_to_dir:
            save_batch(
                batch_x, index_array, self.data_format, self.save_to_dir, self.save_prefix,
                self.save_format, 10_000_000,
            )  # fmt: skip
        if self.class_mode == "input":
            batch_y = batch_x.copy()
        elif self.class_mode in {"binary", "sparse"}:
            batch_y = self.classes[index_array].astype(self.dtype)
        elif self.class_mode == "categorical":
            batch_y = np.zeros((len(batch_x), len(self.class_indices)), dtype=self.dtype)
            batch_y[np.arange(len(batch_x)), self.classes[index_array]] = 1.0
        else:
            return batch_x
        return batch_x, batch_y


__all__ = ["DirectoryIterator"]
