"""`keras.utils.split_dataset`: a dataset cut in two, as Keras's tf.data path cuts it."""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from cornu.utils import dataset_ops as ops
from cornu.utils.array_dataset import ArrayDataset
from cornu.utils.py_dataset import PyDataset


def split_dataset(
    dataset: Any,
    left_size: int | float | None = None,
    right_size: int | float | None = None,
    shuffle: bool = False,
    seed: int | None = None,
    preferred_backend: str | None = None,
) -> tuple[ArrayDataset, ArrayDataset]:
    """Split a dataset in two (e.g. training and test), as Keras's
    `keras.utils.split_dataset`.

    Args:
        dataset: an array (its rows are the samples), a list or tuple of arrays of equal
            length (the samples are tuples of rows), or an `ArrayDataset` (a batched one
            is split by samples and both halves are batched alike).
        left_size: samples in the left part: an int, or a float fraction in (0, 1); None
            takes the complement of `right_size`.
        right_size: likewise for the right part.
        shuffle: shuffle the samples first (with Python's `random.Random(seed)`, as
            Keras's tf.data path does).
        seed: the shuffle's seed.
        preferred_backend: accepted for Keras's signature; the halves are
            `ArrayDataset`s whatever it says.

    Returns:
        `(left, right)`: the first `left_size` samples and the last `right_size`.

    Raises:
        TypeError: an unsupported `dataset`, or sizes that are not int, float or None.
        ValueError: both sizes None, a size out of range, sizes that sum past the
            dataset, an empty dataset, or arrays of unequal length.
    """
    data, batch_size = _samples(dataset)
    if right_size is None and left_size is None:
        raise ValueError(
            "At least one of the `left_size` or `right_size` must be specified. "
            "Received: left_size=None and right_size=None"
        )
    total = ops.num_rows(data)
    order = list(range(total))
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(1e6))
        random.Random(seed).shuffle(order)
    left, right = rescale_split_sizes(left_size, right_size, total)
    index = np.array(order)
    halves = (index[:left], index[total - right :])
    parts = (ArrayDataset.from_tensor_slices(ops.subset(data, half)) for half in halves)
    batched = tuple(p.batch(batch_size) if batch_size else p for p in parts)
    return batched[0], batched[1]


def _samples(dataset: Any) -> tuple[Any, int | None]:
    """The dataset's samples as arrays of rows, and the batch size it was batched with."""
    if isinstance(dataset, np.ndarray):
        if not len(dataset):
            raise ValueError("Received an empty dataset.")
        return dataset, None
    if isinstance(dataset, list | tuple):
        if len(dataset) == 0:
            raise ValueError(
                "Received an empty list dataset. Please provide a non-empty list of arrays."
            )
        kind = type(dataset).__name__
        for i, element in enumerate(dataset):
            if not isinstance(element, np.ndarray):
                raise ValueError(
                    f"Expected a {kind} of `numpy.ndarray` objects, "
                    f"Received: {type(element)} at index {i}."
                )
            if element.shape[0] != dataset[0].shape[0]:
                raise ValueError(
                    f"Received a {kind} of NumPy arrays with different lengths. Mismatch "
                    f"found at index {i}, Expected shape={dataset[0].shape} Received "
                    f"shape={element.shape}. Please provide a {kind} of NumPy arrays of the "
                    "same length."
                )
        return tuple(dataset), None
    if isinstance(dataset, ArrayDataset):
        arrays = dataset.as_arrays()
        if arrays is not None:
            x, y, weights = arrays
            data = tuple(a for a in (x, y, weights) if a is not None)
            return (data if len(data) > 1 else x), dataset.batch_size
    if isinstance(dataset, PyDataset):
        raise TypeError(
            "split_dataset takes arrays or an ArrayDataset of fixed arrays; "
            f"Received: dataset={dataset} of type {type(dataset)}"
        )
    raise TypeError(
        "The `dataset` argument must be either a `tf.data.Dataset` object, or a "
        f"list/tuple of arrays. Received: dataset={dataset} of type {type(dataset)}"
    )


def rescale_split_sizes(
    left_size: int | float | None, right_size: int | float | None, total: int
) -> tuple[int, int]:
    """The two sizes as sample counts, checked as Keras's `_rescale_dataset_split_sizes`
    checks them (fractions are rounded to the nearest count)."""
    sizes = {"left_size": left_size, "right_size": right_size}
    wrong = [
        name for name, size in sizes.items() if size is not None and type(size) not in (int, float)
    ]
    if len(wrong) == 2:
        raise TypeError(
            "Invalid `left_size` and `right_size` Types. Expected: integer or float or None, "
            f"Received: type(left_size)={type(left_size)} and type(right_size)={type(right_size)}"
        )
    if "left_size" in wrong:
        raise TypeError(
            "Invalid `left_size` Type. Expected: int or float or None, "
            f"Received: type(left_size)={type(left_size)}.  "
        )
    if "right_size" in wrong:
        raise TypeError(
            "Invalid `right_size` Type. Expected: int or float or None,"
            f"Received: type(right_size)={type(right_size)}."
        )
    if left_size == 0 and right_size == 0:
        raise ValueError(
            "Both `left_size` and `right_size` are zero. "
            "At least one of the split sizes must be non-zero."
        )
    for name, size in sizes.items():
        if (type(size) is int and not 0 < size < total) or (
            type(size) is float and not 0 < size < 1
        ):
            raise ValueError(
                f"`{name}` should be either a positive integer smaller than {total}, or a "
                f"float within the range `[0, 1]`. Received: {name}={size}"
            )
    if type(left_size) is float and type(right_size) is float and left_size + right_size > 1:
        raise ValueError(
            "The sum of `left_size` and `right_size` is greater than 1. "
            "It must be less than or equal to 1."
        )
    # Keras turns int sizes into floats here (its messages then show `12.0`).
    counts = {
        name: round(size * total) if type(size) is float else None if size is None else float(size)
        for name, size in sizes.items()
    }
    left = counts["left_size"]
    right = counts["right_size"]
    if left is None:
        left = total - (right or 0)
    if right is None:
        right = total - left
    if left + right > total:
        raise ValueError(
            f"The sum of `left_size` and `right_size` should be smaller than the {total}. "
            f"Received: left_size + right_size = {left + right}and total_length = {total}"
        )
    for split, side in ((left, "left"), (right, "right")):
        if split == 0:
            raise ValueError(
                f"With `dataset` of length={total}, `left_size`={left} and "
                f"`right_size`={right}.Resulting {side} side dataset split will be empty. "
                "Adjust any of the aforementioned parameters"
            )
    return int(left), int(right)


__all__ = ["rescale_split_sizes", "split_dataset"]
