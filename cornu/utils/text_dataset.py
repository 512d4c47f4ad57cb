"""`keras.utils.text_dataset_from_directory`, giving an `ArrayDataset` of strings (Keras
gives a `tf.data.Dataset`): files indexed, labelled, split and shuffled as Keras does."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from cornu.utils import dataset_ops as ops
from cornu.utils import dataset_utils
from cornu.utils.array_dataset import ArrayDataset, check_batch_size


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
    check_batch_size(batch_size)
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = int(np.random.randint(1_000_000))  # as Keras, even when nothing is shuffled
    paths, label_array, names = dataset_utils.index_directory(
        os.fspath(directory),
        labels,
        formats=(".txt",),
        class_names=class_names,
        shuffle=shuffle,
        seed=seed,
        follow_links=follow_links,
        verbose=verbose,
    )
    if label_mode == "binary" and len(names or []) != 2:
        raise ValueError(
            'When passing `label_mode="binary"`, there must be exactly 2 class_names. '
            f"Received: class_names={names}"
        )

    def build(part: str | None, reshuffle: bool) -> ArrayDataset:
        part_paths, part_labels = paths, label_array
        if part is not None:
            part_paths, part_labels = dataset_utils.get_training_or_validation_split(
                paths, label_array, validation_split, part
            )
        if not part_paths:
            which = {"training": "training text files", "validation": "validation text files"}
            raise ValueError(
                f"No {which.get(part or '', 'text files')} found in directory {directory}. "
                "Allowed format: .txt"
            )
        texts = np.array([_read(p, max_length) for p in part_paths], dtype=np.str_)
        data: Any = texts
        if label_mode is not None and part_labels is not None:
            data = (texts, dataset_utils.encode_labels(part_labels, label_mode, len(names or [])))
        dataset = ArrayDataset.from_node(ops.Source(data, batch_size, reshuffle, seed))
        dataset.class_names = names
        dataset.file_paths = list(part_paths)
        return dataset

    if subset == "both":
        return [build("training", shuffle), build("validation", False)]
    return build(subset, shuffle)


__all__ = ["text_dataset_from_directory"]
