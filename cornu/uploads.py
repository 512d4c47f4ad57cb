"""Arrays as the service takes them: Keras's dtypes, the .npy format, sent compressed.

Before training, Keras converts floating-point arrays to its float type (`floatx`,
float32): a float64 array trains as float32 (keras/src/trainers/data_adapters/
array_slicing.py, "Normalize floats to floatx"). The SDK does the same before sending,
a slice at a time: the .npy bytes of the converted array are produced in chunks of
about CHUNK_BYTES, hashed and compressed as they go, and never held whole — the only
full copy of the data in memory is the user's own array.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import zstandard

from cornu.core.npy import header_bytes

FLOATX = np.dtype(np.float32)
CHUNK_BYTES = 8 * 1024 * 1024
ZSTD_LEVEL = 3  # zstd's default: fast, and sparse or repetitive data shrinks a lot


def keras_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype Keras trains an array of `dtype` as: floats become float32."""
    return FLOATX if dtype.kind == "f" and dtype != FLOATX else dtype


class NpyStream:
    """The .npy file of `array` — as Keras would train it, with `keras_dtypes` —
    produced chunk by chunk.

    `array` is anything numpy.asarray takes (an array is used as it is, not copied).
    Raises TypeError for data that is not numeric (strings, objects), naming the dtype.
    """

    def __init__(
        self, array: Any, chunk_bytes: int = CHUNK_BYTES, *, keras_dtypes: bool = True
    ) -> None:
        self.array = np.asarray(array)
        source = self.array.dtype
        if source.kind not in "biuf" or source.fields is not None:
            raise TypeError(
                f"arrays of dtype {source} cannot be sent for training: Keras trains on "
                "numbers (bool, integers, floats); convert or encode the values first"
            )
        self.shape: tuple[int, ...] = tuple(self.array.shape)
        self.dtype = keras_dtype(source) if keras_dtypes else source
        self.header = header_bytes(self.shape, self.dtype)
        row = math.prod(self.shape[1:]) * self.dtype.itemsize if self.shape else 1
        self.rows_per_chunk = max(1, chunk_bytes // max(1, row))

    @property
    def nbytes(self) -> int:
        """Size of the .npy file, in bytes."""
        return len(self.header) + self.array.size * self.dtype.itemsize

    def chunks(self) -> Iterator[bytes | memoryview]:
        """The file's bytes: the header, then the data a slice of rows at a time."""
        yield self.header
        if not self.shape:
            yield memoryview(np.asarray(self.array, dtype=self.dtype).tobytes())
            return
        for start in range(0, self.shape[0], self.rows_per_chunk):
            part = self.array[start : start + self.rows_per_chunk]
            # A view when the rows are already contiguous in the right dtype; else one slice.
            yield np.ascontiguousarray(part, dtype=self.dtype).data.cast("B")

    def sha256(self) -> str:
        """The SHA-256 of the .npy file: the content address the service indexes."""
        digest = hashlib.sha256()
        for chunk in self.chunks():
            digest.update(chunk)
        return digest.hexdigest()

    def compressed(self, advance: Callable[[int], None] | None = None) -> Iterator[bytes]:
        """The file as one zstd frame, in pieces; `advance` (if given) is told how many
        bytes of the .npy file each piece consumed (for a progress bar)."""
        compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=-1).compressobj()
        for chunk in self.chunks():
            piece = compressor.compress(chunk)
            if advance is not None:
                advance(len(chunk))
            if piece:
                yield piece
        yield compressor.flush()
