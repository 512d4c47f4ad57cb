"""The .npy reader and writer pieces: headers byte for byte as numpy.save writes them,
arrays filled from pieces of any size, and the content codings."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import zstandard

from cornu.core.codecs import decoded
from cornu.core.errors import InvalidDataset
from cornu.core.npy import array_from_chunks, header_bytes, read_header
from tests.helpers import npy_bytes


@pytest.mark.parametrize(
    "array",
    [
        np.zeros((3, 4), np.float32),
        np.arange(7, dtype=np.int64),
        np.ones((2, 3, 5), bool),
        np.zeros((1,) * 30, np.uint8),  # a long shape literal
    ],
)
def test_the_header_is_the_one_numpy_save_writes(array: np.ndarray) -> None:
    header = header_bytes(array.shape, array.dtype)
    assert npy_bytes(array).startswith(header)
    parsed = read_header(header)
    assert parsed is not None and parsed.data_offset == len(header)


@pytest.mark.parametrize("piece", [1, 5, 64, 100_000])
@pytest.mark.parametrize("order", ["C", "F"])
def test_arrays_fill_from_pieces_of_any_size(piece: int, order: str) -> None:
    array = np.asarray(np.arange(60, dtype=">f8").reshape(3, 4, 5), order=order)
    data = npy_bytes(array)
    loaded = array_from_chunks(data[i : i + piece] for i in range(0, len(data), piece))
    np.testing.assert_array_equal(loaded, array)


def test_short_and_long_files_are_refused() -> None:
    data = npy_bytes(np.zeros(10, np.float32))
    with pytest.raises(InvalidDataset, match="truncated"):
        array_from_chunks([data[:-1]])
    with pytest.raises(InvalidDataset, match="longer than its header"):
        array_from_chunks([data, b"\0"])


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("identity", lambda b: b),
        ("gzip", gzip.compress),
        ("zstd", lambda b: zstandard.ZstdCompressor().compress(b)),
    ],
)
def test_codings_decode_in_bounded_pieces(encoding: str, encode: object) -> None:
    data = bytes(range(256)) * 40_000  # 10 MB
    body: bytes = encode(data)  # type: ignore[operator]
    pieces = list(decoded((body[i : i + 4096] for i in range(0, len(body), 4096)), encoding))  # type: ignore[arg-type]
    assert b"".join(pieces) == data
    assert max(len(p) for p in pieces) <= 1024 * 1024
