"""Keras 2's image `Iterator` and the `NumpyArrayIterator` that `ImageDataGenerator.flow`
returns: PyDatasets whose batches are augmented afresh each time they are read and
reshuffled each epoch, drawing from numpy's global generator exactly as Keras's do."""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterator as TypingIterator
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike

from cornu.utils.image_utils import array_to_img
from cornu.utils.py_dataset import PyDataset

if TYPE_CHECKING:
    from cornu.preprocessing.image_data_generator import ImageDataGenerator


class Iterator(PyDataset):
    """Batches of `batch_size` over `n` samples, as Keras's
    `keras.preprocessing.image.Iterator`.

    `it[i]` is batch `i` of the epoch's order (a new permutation after each
    `on_epoch_end` when shuffling); `next(it)` runs through batches endlessly. With a
    `seed`, numpy's global generator is seeded with `seed + batches seen` before each
    batch, so augmentations repeat from run to run.
    """

    white_list_formats = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: int | None) -> None:
        super().__init__()
        self.n, self.batch_size, self.shuffle, self.seed = n, batch_size, shuffle, seed
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array: np.ndarray | None = None
        self.index_generator = self._flow_index()

    def _set_index_array(self) -> None:
        self.index_array = np.random.permutation(self.n) if self.shuffle else np.arange(self.n)

    def __getitem__(self, idx: int) -> Any:
        """Batch `idx` of this epoch.

        Raises:
            ValueError: `idx` is past the last batch.
        """
        if idx >= len(self):
            raise ValueError(
                f"Asked to retrieve element {idx}, but the Sequence has length {len(self)}"
            )
        if self.seed is not None:
            np.random.seed(self.seed + self.total_batches_seen)
        self.total_batches_seen += 1
        if self.index_array is None:
            self._set_index_array()
        assert self.index_array is not None
        rows = self.index_array[self.batch_size * idx : self.batch_size * (idx + 1)]
        return self._get_batches_of_transformed_samples(rows)

    def __len__(self) -> int:
        return (self.n + self.batch_size - 1) // self.batch_size

    def on_epoch_end(self) -> None:
        """Draw the next epoch's order (a permutation from numpy's global generator)."""
        self._set_index_array()

    def reset(self) -> None:
        """Start `next()` over from the first batch."""
        self.batch_index = 0

    def _flow_index(self) -> TypingIterator[np.ndarray]:
        self.reset()
        while True:
            if self.seed is not None:
                np.random.seed(self.seed + self.total_batches_seen)
            if self.batch_index == 0:
                self._set_index_array()
            assert self.index_array is not None
            current = (self.batch_index * self.batch_size) % self.n if self.n else 0
            if self.n > current + self.batch_size:
                self.batch_index += 1
            else:
                self.batch_index = 0
            self.total_batches_seen += 1
            yield self.index_array[current : current + self.batch_size]

    def __iter__(self) -> Iterator:
        """The iterator itself: `for x, y in it` runs endlessly, as in Keras."""
        return self

    def __next__(self) -> Any:
        with self.lock:
            rows = next(self.index_generator)
        return self._get_batches_of_transformed_samples(rows)

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray) -> Any:
        raise NotImplementedError


def save_batch(
    batch: np.ndarray, rows: np.ndarray, data_format: str, folder: str, prefix: str, fmt: str,
    hash_range: int,
) -> None:  # fmt: skip
    """Write augmented images for inspection, named as Keras names them."""
    for i, j in enumerate(rows):
        img = array_to_img(batch[i], data_format, scale=True)
        name = f"{prefix}_{j}_{np.random.randint(hash_range)}.{fmt}"
        img.save(os.path.join(folder, name))


class NumpyArrayIterator(Iterator):
    """Batches of images from arrays, augmented per batch, as Keras's
    `keras.preprocessing.image.NumpyArrayIterator` (what `ImageDataGenerator.flow`
    returns).

    Batches are `x`, `(x, y)` or `(x, y, sample_weight)`, with `x` of
    `(batch, height, width, channels)` in `dtype`. `x` may also be `(images, other)`
    (`other` an array or a list of arrays, passed through unaugmented): `x` is then the
    list `[images, *other]`.

    Raises:
        ValueError: arrays of different lengths, images that are not rank 4, an unknown
            `subset`, or (unless `ignore_class_split`) a validation split whose classes
            differ from the training part's.
    """

    def __init__(
        self,
        x: Any,
        y: Any,
        image_data_generator: ImageDataGenerator,
        batch_size: int = 32,
        shuffle: bool = False,
        sample_weight: Any = None,
        seed: int | None = None,
        data_format: str | None = None,
        save_to_dir: str | None = None,
        save_prefix: str = "",
        save_format: str = "png",
        subset: str | None = None,
        ignore_class_split: bool = False,
        dtype: DTypeLike | None = None,
    ) -> None:
        data_format = data_format or "channels_last"
        self.dtype = dtype or "float32"
        x_misc: list[np.ndarray] = []
        if isinstance(x, tuple | list):
            x_misc = (
                [np.asarray(xx) for xx in x[1]] if isinstance(x[1], list) else [np.asarray(x[1])]
            )
            x = x[0]
            for xx in x_misc:
                if len(x) != len(xx):
                    raise ValueError(
                        "All of the arrays in `x` should have the same length. Found a pair "
                        f"with: len(x[0]) = {len(x)}, len(x[?]) = {len(xx)}"
                    )
        if y is not None and len(x) != len(y):
            raise ValueError(
                "`x` (images tensor) and `y` (labels) should have the same length. Found: "
                f"x.shape = {np.asarray(x).shape}, y.shape = {np.asarray(y).shape}"
            )
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError(
                "`x` (images tensor) and `sample_weight` should have the same length. Found: "
                f"x.shape = {np.asarray(x).shape}, "
                f"sample_weight.shape = {np.asarray(sample_weight).shape}"
            )
        if subset is not None:
            if subset not in {"training", "validation"}:
                raise ValueError(
                    f'Invalid subset name: {subset}; expected "training" or "validation".'
                )
            split = int(len(x) * image_data_generator._validation_split)
            if (
                y is not None
                and not ignore_class_split
                and not np.array_equal(np.unique(y[:split]), np.unique(y[split:]))
            ):
                raise ValueError(
                    "Training and validation subsets have different number of classes after "
                    "the split. If your numpy arrays are sorted by the label, you might want "
                    "to shuffle them."
                )
            part = slice(None, split) if subset == "validation" else slice(split, None)
            x, x_misc = x[part], [np.asarray(xx[part]) for xx in x_misc]
            y = y[part] if y is not None else None
        self.x = np.asarray(x, dtype=self.dtype)
        self.x_misc = x_misc
        if self.x.ndim != 4:
            raise ValueError(
                "Input data in `NumpyArrayIterator` should have rank 4. You passed an array "
                f"with shape {self.x.shape}"
            )
        channels_axis = 3 if data_format == "channels_last" else 1
        if self.x.shape[channels_axis] not in {1, 3, 4}:
            warnings.warn(
                f'NumpyArrayIterator is set to use the data format convention "{data_format}" '
                f"(channels on axis {channels_axis}), i.e. expected either 1, 3, or 4 channels "
                f"on axis {channels_axis}. However, it was passed an array with shape "
                f"{self.x.shape} ({self.x.shape[channels_axis]} channels).",
                stacklevel=2,
            )
        self.y = np.asarray(y) if y is not None else None
        self.sample_weight = np.asarray(sample_weight) if sample_weight is not None else None
        self.image_data_generator = image_data_generator
        self.data_format = data_format
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        super().__init__(self.x.shape[0], batch_size, shuffle, seed)

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray) -> Any:
        batch_x = np.zeros((len(index_array), *self.x.shape[1:]), dtype=self.dtype)
        generator = self.image_data_generator
        for i, j in enumerate(index_array):
            x = self.x[j]
            params = generator.get_random_transform(x.shape)
            x = generator.apply_transform(x.astype(self.dtype), params)
            batch_x[i] = generator.standardize(x)
        if self.save_to_dir:
            save_batch(
                batch_x, index_array, self.data_format, self.save_to_dir, self.save_prefix,
                self.save_format, 10_000,
            )  # fmt: skip
        misc = [xx[index_array] for xx in self.x_misc]
        inputs: Any = [batch_x, *misc] if misc else batch_x
        if self.y is None:
            return inputs
        if self.sample_weight is not None:
            return inputs, self.y[index_array], self.sample_weight[index_array]
        return inputs, self.y[index_array]


__all__ = ["Iterator", "NumpyArrayIterator", "save_batch"]
