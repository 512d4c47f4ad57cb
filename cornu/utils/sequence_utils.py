"""`keras.utils.pad_sequences` (also `keras.preprocessing.sequence.pad_sequences`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike


def pad_sequences(
    sequences: Sequence[Any],
    maxlen: int | None = None,
    dtype: DTypeLike = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: Any = 0.0,
) -> np.ndarray:
    """Pad (or cut) sequences to one length, as Keras's `keras.utils.pad_sequences`.

    Args:
        sequences: `num_samples` sequences (lists or arrays), each of shape
            `(length, *sample_shape)`; the first non-empty one sets `sample_shape`.
        maxlen: the length to pad or cut to; None takes the longest sequence's.
        dtype: the result's dtype (`object` for strings of any length).
        padding: `"pre"` or `"post"`: pad before or after each sequence.
        truncating: `"pre"` or `"post"`: cut longer sequences at their start or end.
        value: the padding value.

    Returns:
        An array of shape `(num_samples, maxlen, *sample_shape)` and dtype `dtype`.

    Raises:
        ValueError: `sequences` or one of its items is not iterable, a string `value`
            with a non-string `dtype`, an unknown `padding` or `truncating`, or an item
            whose sample shape differs from the first's.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    lengths = []
    sample_shape: tuple[int, ...] = ()
    found_shape = False
    for item in sequences:
        try:
            lengths.append(len(item))
        except TypeError as exc:
            raise ValueError(
                f"`sequences` must be a list of iterables. Found non-iterable: {item}"
            ) from exc
        if not found_shape and len(item):
            sample_shape = np.asarray(item).shape[1:]
            found_shape = True
    if maxlen is None:
        maxlen = int(np.max(lengths))
    is_str_dtype = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_str_dtype:
        raise ValueError(
            f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\n"
            "You should set `dtype=object` for variable length strings."
        )
    padded = np.full((len(sequences), maxlen, *sample_shape), value, dtype=dtype)
    for index, item in enumerate(sequences):
        if not len(item):
            continue
        if truncating == "pre":
            kept = item[-maxlen:]
        elif truncating == "post":
            kept = item[:maxlen]
        else:
            raise ValueError(f'Truncating type "{truncating}" not understood')
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(
                f"Shape of sample {kept.shape[1:]} of sequence at position {index} "
                f"is different from expected shape {sample_shape}"
            )
        if padding == "post":
            padded[index, : len(kept)] = kept
        elif padding == "pre":
            padded[index, -len(kept) :] = kept
        else:
            raise ValueError(f'Padding type "{padding}" not understood')
    return padded


__all__ = ["pad_sequences"]
