"""Arrays as the service takes them: Keras's dtypes, the .npy format, sent compressed.

What Keras's data adapters take as an array is taken here the same way (keras/src/
trainers/data_adapters/array_slicing.py): a numpy array, a pandas DataFrame (its values)
or Series (a column: `(n, 1)`), a torch tensor, anything with `__array__`. pandas is
never imported here: a user who passes a DataFrame has it already.

Before training, Keras converts floating-point arrays to its float type (`floatx`,
float32) and feeds integer ids to an Embedding as integers. Narrow data stays narrow on
the wire and in storage — bool, uint8, int8, int16, int32, float16 travel as they are
and the worker casts them to what Keras feeds the model — and float64 becomes float32,
as Keras trains it. Floats that are all small whole numbers (the book's multi-hot and
one-hot matrices, 0/1 as float64) travel as uint8: the same numbers reach the model,
at an eighth of the bytes. The .npy bytes are produced in chunks of about CHUNK_BYTES,
hashed and compressed as they go, and never held whole — the only full copy of the
data in memory is the user's own array.
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
# Data whose first CHUNK_BYTES zstd shrinks by less than this (random floats: by 7%) is
# sent as it is: compressing it would cost both ends a pass over every byte for nothing.
MIN_SAVING = 0.10


def keras_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype an array of `dtype` travels as: float64 (any float wider than float32)
    becomes float32, as Keras trains it; narrower data is kept as it is."""
    return FLOATX if dtype.kind == "f" and dtype.itemsize > FLOATX.itemsize else dtype


def as_array(value: Any) -> np.ndarray:
    """`value` as Keras's data adapters take one array: a DataFrame's values (floats as
    float32 if any column is another float, as Keras casts them), a Series as a column
    `(n, 1)`, a tensor's values on the CPU, anything else through numpy.asarray."""
    if isinstance(value, np.ndarray):
        return value
    kind = type(value).__name__
    if type(value).__module__.startswith("pandas") and kind in ("DataFrame", "Series"):
        return _from_pandas(value, kind == "Series")
    if all(hasattr(value, a) for a in ("detach", "cpu", "numpy")):  # a torch tensor
        return np.asarray(value.detach().cpu().numpy())
    return np.asarray(value)


def _from_pandas(frame: Any, series: bool) -> np.ndarray:
    dtypes = [frame.dtype] if series else list(frame.dtypes)
    if any(d.kind == "f" and d.itemsize != FLOATX.itemsize for d in dtypes):
        frame = frame.astype(FLOATX)  # Keras: one non-floatx float column casts them all
        dtypes = [FLOATX]
    values = np.asarray(frame.to_numpy())
    if values.dtype == object and all(d.kind in "biuf" for d in dtypes):
        # pandas gives objects for mixed nullable or bool columns; their common numpy type
        common = np.result_type(*(getattr(d, "numpy_dtype", d) for d in dtypes))
        values = frame.to_numpy(dtype=np.result_type(common, np.float32), na_value=np.nan)
    if values.dtype == object:
        names = [str(n) for n, d in zip(frame.columns, dtypes, strict=True) if d.kind not in "biuf"]
        where = f" (column {', '.join(names)})" if names and not series else ""
        raise TypeError(
            f"a {'Series' if series else 'DataFrame'} of non-numeric values{where} cannot be "
            "sent for training: Keras trains on numbers; encode or drop those columns first"
        )
    return values[:, None] if series else values


def small_integers(array: np.ndarray, chunk_bytes: int = CHUNK_BYTES) -> bool:
    """Whether a float array holds only whole numbers from 0 to 255 (exactly uint8's).
    Read a chunk at a time, stopping at the first that does not (real-valued data
    stops in its first chunk)."""
    if array.dtype.kind != "f" or array.size == 0:
        return False
    rows = np.atleast_1d(array)  # slices along the sample axis: views, never a full copy
    step = max(1, chunk_bytes // max(1, rows[0].nbytes))
    for start in range(0, len(rows), step):
        part = rows[start : start + step]
        low, high = part.min(), part.max()  # NaN makes both NaN: the test below fails
        if not (low >= 0 and high <= 255) or not np.array_equal(part, part.astype(np.uint8)):
            return False
    return True


class NpyStream:
    """The .npy file of `array` — with `keras_dtypes`, in the dtype it travels as (see
    the module) — produced chunk by chunk.

    `array` is anything Keras takes as an array (`as_array`; an array is used as it is,
    not copied). Raises TypeError for data that is not numeric (strings, objects).
    """

    def __init__(
        self, array: Any, chunk_bytes: int = CHUNK_BYTES, *, keras_dtypes: bool = True
    ) -> None:
        self.array = as_array(array)
        source = self.array.dtype
        if source.kind not in "biuf" or source.fields is not None:
            raise TypeError(
                f"arrays of dtype {source} cannot be sent for training: Keras trains on "
                "numbers (bool, integers, floats); convert or encode the values first"
            )
        self.shape: tuple[int, ...] = tuple(self.array.shape)
        self.dtype = source
        if keras_dtypes:
            self.dtype = np.dtype(np.uint8) if small_integers(self.array) else keras_dtype(source)
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

    def encoding(self) -> str:
        """The content coding the file is best sent in: "zstd", or "identity" when zstd
        shrinks the first CHUNK_BYTES of its data by less than MIN_SAVING. Decided from
        the data alone, so a resumed upload of the same array decides the same."""
        chunks = self.chunks()
        next(chunks)  # the header
        sample = next(chunks, b"")
        if len(sample) < 64 * 1024:
            return "zstd"  # small: one request whatever happens, and zstd costs nothing
        compressed = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(sample)
        return "zstd" if len(compressed) < (1 - MIN_SAVING) * len(sample) else "identity"

    def encoded(
        self, encoding: str, advance: Callable[[int], None] | None = None
    ) -> Iterator[bytes | memoryview]:
        """The file in `encoding` ("zstd": `compressed`; "identity": `chunks`)."""
        if encoding == "zstd":
            yield from self.compressed(advance)
            return
        for chunk in self.chunks():
            if advance is not None:
                advance(len(chunk))
            yield chunk

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
