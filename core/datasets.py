"""Uploading a dataset: one `.npy` array, streamed into the store and checked on the way.

The header is parsed from the first bytes (numpy's own parser, no pickle), the dtype
must be numeric, and the file must hold exactly the bytes its header promises. Size
limits are checked against the header before the data is read.
"""

from __future__ import annotations

import io
import itertools
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from cornu.core.errors import InvalidDataset, PayloadTooLarge
from cornu.core.ids import new_id
from cornu.core.spec import Dataset
from cornu.core.store import Store
from cornu.core.store.blobs import CHUNK_BYTES, rechunk

MAGIC = b"\x93NUMPY"
MAX_HEADER_BYTES = 64 * 1024
NUMERIC_KINDS = {"b": "bool", "i": "signed integer", "u": "unsigned integer", "f": "float"}


@dataclass(frozen=True)
class NpyHeader:
    shape: tuple[int, ...]
    dtype: np.dtype
    data_offset: int

    @property
    def file_bytes(self) -> int:
        return self.data_offset + math.prod(self.shape) * self.dtype.itemsize


def read_header(prefix: bytes) -> NpyHeader | None:
    """Parse a .npy header from the first bytes of a file; None if more bytes are needed."""
    if len(prefix) < 12:
        return None
    if not prefix.startswith(MAGIC):
        raise InvalidDataset("the file is not a .npy array (save it with numpy.save)")
    major = prefix[6]
    if major == 1:
        (length,), start = struct.unpack("<H", prefix[8:10]), 10
    elif major == 2:
        (length,), start = struct.unpack("<I", prefix[8:12]), 12
    else:
        raise InvalidDataset(f".npy format version {major} is not supported; use numpy.save")
    if length > MAX_HEADER_BYTES:
        raise InvalidDataset(f"the .npy header is {length} bytes; at most {MAX_HEADER_BYTES}")
    if len(prefix) < start + length:
        return None
    stream = io.BytesIO(prefix[8:])
    try:
        if major == 1:
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream, MAX_HEADER_BYTES)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream, MAX_HEADER_BYTES)
    except ValueError as exc:
        raise InvalidDataset(f"the .npy header cannot be read: {exc}") from None
    return NpyHeader(shape=tuple(shape), dtype=dtype, data_offset=start + length)


def check_array(header: NpyHeader) -> None:
    """A training array: numeric, with a leading sample axis that holds samples."""
    dtype = header.dtype
    if dtype.hasobject or dtype.kind not in NUMERIC_KINDS or dtype.fields is not None:
        raise InvalidDataset(
            f"arrays of dtype {dtype} cannot be trained on; use a numeric dtype "
            "(bool, integers or floats)"
        )
    if not header.shape:
        raise InvalidDataset("the array is a scalar; it needs a first axis of samples")
    if header.shape[0] == 0:
        raise InvalidDataset(f"the array of shape {header.shape} holds no samples")


IDEMPOTENCY_SCOPE = "datasets"


def upload_dataset(
    store: Store,
    tenant: str,
    source: BinaryIO,
    max_bytes: int,
    *,
    idempotency_key: str | None = None,
) -> tuple[Dataset, bool]:
    """Check and store the .npy file read from `source`; the dataset and whether it is new.

    With an `idempotency_key` already used for the same file (same SHA-256), the first
    upload's dataset comes back and the new copy is dropped; another file is a Conflict.
    """
    dataset = _store_npy(store, tenant, source, max_bytes)
    if idempotency_key is None:
        return dataset, True
    try:
        answer = store.idempotency.record(
            tenant, IDEMPOTENCY_SCOPE, idempotency_key, dataset.sha256, dataset.id
        )
    except BaseException:
        store.datasets.delete(dataset.id)
        raise
    if answer == dataset.id:
        return dataset, True
    store.datasets.delete(dataset.id)
    return store.datasets.get(tenant, answer), False


def _store_npy(store: Store, tenant: str, source: BinaryIO, max_bytes: int) -> Dataset:
    pieces = iter(lambda: source.read(CHUNK_BYTES), b"")
    head = b""
    header = None
    for piece in pieces:
        head += piece
        header = read_header(head)
        if header is not None or len(head) > MAX_HEADER_BYTES + 16:
            break
    if header is None:
        raise InvalidDataset("the file is empty or too short to be a .npy array")
    check_array(header)
    if header.file_bytes > max_bytes:
        raise PayloadTooLarge(
            f"an array of shape {header.shape} and dtype {header.dtype.name} takes "
            f"{header.file_bytes} bytes; uploads are limited to {max_bytes} bytes"
        )

    expected = header.file_bytes
    promise = f"shape {header.shape} and dtype {header.dtype.name} take {expected} bytes"

    def whole_file() -> Iterator[bytes]:
        seen = 0
        for piece in itertools.chain([head], pieces):
            seen += len(piece)
            if seen > expected:
                raise InvalidDataset(f"the .npy file is longer than its header says ({promise})")
            yield piece
        if seen < expected:
            raise InvalidDataset(f"the .npy file is truncated: {promise}, it holds {seen}")

    return store.datasets.create(
        tenant, new_id("ds"), rechunk(whole_file()), header.shape, header.dtype.name
    )
