"""What Keras's dataset functions share (`keras.src.utils.dataset_utils`): indexing a
folder of class sub-folders, the training/validation split, label encodings."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from cornu.utils.numerical import to_categorical


def check_validation_split_arg(
    validation_split: float | None, subset: str | None, shuffle: bool, seed: int | None
) -> None:
    """Keras's checks of `validation_split`, `subset`, `shuffle` and `seed`.

    Raises:
        ValueError: a split outside (0, 1), a subset without a split (or the reverse), an
            unknown subset, or a shuffled split without a seed.
    """
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(
            f"`validation_split` must be between 0 and 1, received: {validation_split}"
        )
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(
            f'`subset` must be either "training", "validation" or "both", received: {subset}'
        )
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "If using `validation_split` and shuffling the data, you must provide a `seed` "
            "argument, to make sure that there is no overlap between the training and "
            "validation subset."
        )


def check_label_args(
    labels: Any, label_mode: Any, class_names: Any, files: str, samples: str
) -> None:
    """The `labels`, `label_mode` and `class_names` arguments of Keras's
    `*_dataset_from_directory`, checked with Keras's messages (ValueError); `files` and
    `samples` name what the directory holds ("image files", "images")."""
    if labels not in ("inferred", None):
        if not isinstance(labels, list | tuple):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same "
                f"size as the number of {files} in the target directory. If you wish to "
                "infer the labels from the subdirectory names in the target directory, pass "
                '`labels="inferred"`. If you wish to get a dataset that only contains '
                f"{samples} (no labels), pass `labels=None`. Received: labels={labels}"
            )
        if class_names:
            raise ValueError(
                'You can only pass `class_names` if `labels="inferred"`. '
                f"Received: labels={labels}, and class_names={class_names}"
            )
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError(
            '`label_mode` argument must be one of "int", "categorical", "binary", '
            f"or None. Received: label_mode={label_mode}"
        )


def _class_folders(directory: str) -> list[str]:
    return [
        name
        for name in sorted(os.listdir(directory))
        if os.path.isdir(os.path.join(directory, name)) and not name.startswith(".")
    ]


def _files_under(directory: str, formats: tuple[str, ...], follow_links: bool) -> list[str]:
    """The files under `directory` with an allowed extension, folder by folder in sorted
    order, each as a path relative to `directory`'s parent."""
    found = []
    walk = sorted(os.walk(directory, followlinks=follow_links), key=lambda entry: entry[0])
    name = os.path.basename(directory)
    for root, _, files in walk:
        for fname in sorted(files):
            if fname.lower().endswith(formats):
                found.append(
                    os.path.join(name, os.path.relpath(os.path.join(root, fname), directory))
                )
    return found


def index_directory(
    directory: str,
    labels: Any,
    formats: tuple[str, ...],
    class_names: Sequence[str] | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    follow_links: bool = False,
    verbose: bool = True,
) -> tuple[list[str], np.ndarray | None, list[str] | None]:
    """The files in `directory` with their labels, as Keras's `index_directory`.

    With `labels="inferred"`, each sub-folder (in sorted order, or `class_names`'s) is a
    class and its files, searched recursively, get its index; otherwise every file under
    `directory` is listed, and `labels` gives their labels (in sorted path order) or is
    None. With `shuffle`, paths and labels are put in the order of
    `numpy.random.RandomState(seed).shuffle`, as Keras shuffles them.

    Returns:
        `(file_paths, labels, class_names)`: labels int32 `(num_files,)` or None.

    Raises:
        ValueError: `class_names` that are not sub-folders, `class_names` without
            inferred labels, or a number of labels that is not the number of files.
    """
    directory = os.fspath(directory)
    if labels == "inferred":
        subdirs = _class_folders(directory)
        if class_names is not None:
            if not set(class_names).issubset(set(subdirs)):
                raise ValueError(
                    "The `class_names` passed did not match the names of the subdirectories "
                    f"of the target directory. Expected: {subdirs} (or a subset of it), but "
                    f"received: class_names={class_names}"
                )
            subdirs = list(class_names)
    else:
        subdirs = [""]
        if class_names is not None:
            if labels is None:
                raise ValueError(
                    "When `labels=None` (no labels), argument `class_names` cannot be specified."
                )
            raise ValueError(
                "When argument `labels` is specified, argument `class_names` cannot be "
                "specified (the `class_names` will be the sorted list of labels)."
            )
    filenames: list[str] = []
    inferred: list[int] = []
    for index, subdir in enumerate(subdirs):
        found = _files_under(os.path.join(directory, subdir), formats, follow_links)
        filenames += found
        inferred += [index] * len(found)
    names: list[str] | None = list(subdirs)
    label_array: np.ndarray | None
    if labels == "inferred":
        label_array = np.array(inferred, dtype="int32")
    elif labels is None:
        label_array, names = None, None
    else:
        if len(labels) != len(filenames):
            raise ValueError(
                "Expected the lengths of `labels` to match the number of files in the target "
                f"directory. len(labels) is {len(labels)} while we found {len(filenames)} "
                f"files in directory {directory}."
            )
        label_array = np.asarray(labels)
        names = [str(label) for label in sorted(set(labels))]
    if verbose:
        if label_array is None:
            print(f"Found {len(filenames)} files.")
        else:
            print(f"Found {len(filenames)} files belonging to {len(names or [])} classes.")
    file_paths = [os.path.join(directory, fname) for fname in filenames]
    if shuffle:
        if seed is None:
            seed = np.random.randint(1_000_000)
        order = np.arange(len(file_paths))
        np.random.RandomState(seed).shuffle(order)  # the permutation Keras applies to both
        file_paths = [file_paths[i] for i in order]
        if label_array is not None:
            label_array = label_array[order]
    return file_paths, label_array, names


def get_training_or_validation_split(
    samples: list[str], labels: np.ndarray | None, validation_split: float | None, subset: str
) -> tuple[list[str], np.ndarray | None]:
    """The training part (all but the last `validation_split`) or the validation part (the
    last `int(validation_split * n)` samples), as Keras splits them; everything when
    `validation_split` is unset.

    Raises:
        ValueError: `subset` is neither "training" nor "validation".
    """
    if not validation_split:
        return samples, labels
    num_val = int(validation_split * len(samples))
    # Keras slices `[:-num_val]` and `[-num_val:]`: with num_val 0, training gets nothing
    # and validation everything.
    if subset == "training":
        print(f"Using {len(samples) - num_val} files for training.")
        kept = slice(None, -num_val)
    elif subset == "validation":
        print(f"Using {num_val} files for validation.")
        kept = slice(-num_val, None)
    else:
        raise ValueError(f'`subset` must be either "training" or "validation", received: {subset}')
    return samples[kept], (labels[kept] if labels is not None else None)


def encode_labels(labels: np.ndarray, label_mode: str, num_classes: int) -> np.ndarray:
    """Labels as Keras's datasets yield them: int32 `(n,)` for "int", float32 `(n, 1)`
    for "binary", float32 one-hot `(n, num_classes)` for "categorical"."""
    if label_mode == "binary":
        return labels.astype("float32")[:, None]
    if label_mode == "categorical":
        return to_categorical(labels, num_classes).astype("float32")
    return labels.astype("int32")


__all__ = [
    "check_validation_split_arg",
    "encode_labels",
    "get_training_or_validation_split",
    "index_directory",
]
