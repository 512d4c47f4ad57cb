"""What `image_dataset_from_directory` and `text_dataset_from_directory` share (Keras
writes the flow out in each): index the files by class folder, check the binary case,
split off the validation subset, and build each subset as an `ArrayDataset` of
(samples, labels) with `class_names` and `file_paths`."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from cornu.utils import dataset_ops as ops
from cornu.utils import dataset_utils
from cornu.utils.array_dataset import ArrayDataset, check_batch_size


def from_directory(
    directory: str | os.PathLike[str],
    labels: Any,
    label_mode: str | None,
    class_names: Sequence[str] | None,
    *,
    formats: tuple[str, ...],
    samples: Callable[[list[str]], Any],
    kind: str,
    allowed: str,
    batch_size: int | None,
    shuffle: bool,
    seed: int | None,
    validation_split: float | None,
    subset: str | None,
    follow_links: bool,
    verbose: bool,
) -> ArrayDataset | list[ArrayDataset]:
    """The dataset (or `[training, validation]` for `subset="both"`) of the files in
    `directory` whose names end in one of `formats`; `samples(paths)` makes the column
    of samples of one subset's files, in order.

    Raises:
        ValueError: a bad batch size or validation split, "binary" without exactly two
            classes, or no files of `kind` (e.g. "images") in a subset, with `allowed`
            (the formats it takes) in the message.
    """
    check_batch_size(batch_size)
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = int(np.random.randint(1_000_000))  # as Keras, even when nothing is shuffled
    paths, label_array, names = dataset_utils.index_directory(
        os.fspath(directory),
        labels,
        formats=formats,
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
            which = {"training": f"training {kind}", "validation": f"validation {kind}"}
            raise ValueError(
                f"No {which.get(part or '', kind)} found in directory {directory}. {allowed}"
            )
        column = samples(list(part_paths))
        data: Any = column
        if label_mode is not None and part_labels is not None:
            data = (column, dataset_utils.encode_labels(part_labels, label_mode, len(names or [])))
        dataset = ArrayDataset.from_node(ops.Source(data, batch_size, reshuffle, seed))
        dataset.class_names = names
        dataset.file_paths = list(part_paths)
        return dataset

    if subset == "both":
        return [build("training", shuffle), build("validation", False)]
    return build(subset, shuffle)
