"""`keras.utils.to_categorical` and `keras.utils.normalize`, on numpy arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def to_categorical(x: ArrayLike, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode class indices, as Keras's `keras.utils.to_categorical`.

    Args:
        x: integer class indices of any shape `(...)`, from 0 to `num_classes - 1`; a
            trailing axis of size 1 (`(n, 1)` labels) is dropped first.
        num_classes: how many classes; None takes `max(x) + 1`.

    Returns:
        A float64 array of shape `(..., num_classes)`: 1 at each index, 0 elsewhere.

    Raises:
        IndexError: an index is `num_classes` or more.
        ValueError: `x` is not integer-like.
    """
    labels = np.array(x, dtype="int64")
    shape: tuple[int, ...] = labels.shape
    if shape and shape[-1] == 1 and len(shape) > 1:  # Keras drops a trailing axis of 1
        shape = shape[:-1]
    labels = labels.reshape(-1)
    if not num_classes:
        num_classes = int(np.max(labels)) + 1
    if labels.size and labels.max() >= num_classes:
        raise IndexError(
            f"to_categorical: class index {int(labels.max())} is out of range for "
            f"num_classes={num_classes}"
        )
    categorical = np.zeros((labels.shape[0], num_classes))
    categorical[np.arange(labels.shape[0]), labels] = 1
    return categorical.reshape((*shape, num_classes))


def normalize(x: ArrayLike, axis: int = -1, order: Any = 2) -> np.ndarray:
    """Scale `x` to unit norm along `axis`, as Keras's `keras.utils.normalize`.

    Vectors of norm 0 are left as they are (divided by 1).

    Args:
        x: an array of any shape.
        axis: the axis along which the norm is taken.
        order: the norm's order, as `numpy.linalg.norm`'s `ord` (2: Euclidean).

    Returns:
        A normalized copy of `x` (float), of `x`'s shape — except that a 1-D `x` of
        shape `(n,)` comes back as `(1, n)`, as in Keras.

    Raises:
        numpy.exceptions.AxisError: `axis` is not an axis of `x`.
    """
    array = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(array, order, axis))
    norm[norm == 0] = 1
    # Keras writes `axis or -1` here, which expands along the last axis when axis=0 and
    # so fails (or, for a square array, divides by the wrong norms): we expand along
    # the axis that was reduced.
    return array / np.expand_dims(norm, axis)


__all__ = ["normalize", "to_categorical"]
