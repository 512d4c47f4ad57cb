"""`keras.utils.text_dataset_from_directory`, giving an `ArrayDataset` of strings (Keras
gives a `tf.data.Dataset`): files indexed, labelled, split and shuffled as Keras does."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from cornu.utils import dataset_utils
from cornu.utils.array_dataset import ArrayDataset
from cornu.utils.directory_dataset import from_directory


def _read(path: str, max_length: int | None) -> str:
    with open(path, "rb") as f:
        content = f.read()
    if max_length is not None:
        content = content[:max_length]  # tf.strings.substr counts bytes
    return content.decode("utf-8", errors="ignore" if max_length is not None else "replace")


def text_dataset_from_directory(
    directory: str | os.PathLike[str],
    labels: Any = "inferred",
    label_mode: str | None = "int",
    class_names: Sequence[str] | None = None,
    batch_size: int | None = 32,
    max_length: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    follow_links: bool = False,
    format: str = "tf",
    verbose: bool = True,
) -> ArrayDataset | list[ArrayDataset]:
    """A dataset of the `.txt` files in `directory`, as Keras's
    `keras.utils.text_dataset_from_directory`.

    Labels, class order, shuffling and the validation split are those of
    `image_dataset_from_directory`. The texts are numpy `str` arrays `(batch,)` (tf.data
    yields bytes; here they are decoded as UTF-8).

    Args:
        labels: "inferred", None, or a list of integer labels in sorted path order.
        label_mode: "int" (int32 `(batch,)`), "categorical" (float32 one-hot), "binary"
            (float32 `(batch, 1)`) or None (texts alone).
        batch_size: texts per batch, or None for single texts.
        max_length: keep only the first `max_length` bytes of each file.
        shuffle, seed, validation_split, subset, follow_links, verbose: as in
            `image_dataset_from_directory`.
        format: "tf" or "grain" (Keras's choice of return type; an `ArrayDataset` here).

    Returns:
        An `ArrayDataset` with `class_names` and `file_paths`, or with `subset="both"`
        a list `[training, validation]`.

    Raises:
        ValueError: an argument outside its allowed values (naming it and the value),
            "binary" without exactly two classes, or no text files found.
    """
    dataset_utils.check_label_args(labels, label_mode, class_names, "text files", "text samples")
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    return from_directory(
        directory,
        labels,
        label_mode,
        class_names,
        formats=(".txt",),
        samples=lambda files: np.array([_read(p, max_length) for p in files], dtype=np.str_),
        kind="text files",
        allowed="Allowed format: .txt",
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        validation_split=validation_split,
        subset=subset,
        follow_links=follow_links,
        verbose=verbose,
    )


__all__ = ["text_dataset_from_directory"]
