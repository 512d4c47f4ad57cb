"""Uploading a dataset: one `.npy` array, streamed into the store and checked on the way.

The body may be compressed (Content-Encoding gzip or zstd); it is stored as it came and
checked as it decodes: the header is parsed from the first bytes (numpy's own parser, no
pickle), the dtype must be numeric, size limits are checked against the header before
the data is read, and the file must hold exactly the bytes its header promises.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from cornu.core.codecs import Encoding, decoded
from cornu.core.errors import InvalidDataset, PayloadTooLarge
from cornu.core.ids import new_id
from cornu.core.npy import MAX_HEADER_BYTES, NpyHeader, check_array, read_header
from cornu.core.spec import Dataset
from cornu.core.store import Store
from cornu.core.store.blobs import CHUNK_BYTES, rechunk

IDEMPOTENCY_SCOPE = "datasets"


def max_wire_bytes(max_bytes: int) -> int:
    """The largest body that may hold a .npy file of `max_bytes`: a compressed body is a
    little larger than what it holds when the data does not compress (zstd, gzip)."""
    return int(max_bytes * 1.01) + 1024 * 1024


def bounded_wire(chunks: Iterable[bytes], max_bytes: int) -> Iterator[bytes]:
    """`chunks` as they arrive, and PayloadTooLarge once they pass what a body holding
    `max_bytes` may take (`max_wire_bytes`)."""
    limit, received = max_wire_bytes(max_bytes), 0
    for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(f"the upload is larger than {max_bytes} bytes")
        yield chunk


class _Check:
    """Follows the decoded .npy bytes: header, limits, length and SHA-256."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.digest = hashlib.sha256()
        self.head = b""
        self.header: NpyHeader | None = None
        self.seen = 0

    def feed(self, piece: bytes) -> None:
        self.digest.update(piece)
        self.seen += len(piece)
        if self.header is None:
            self.head += piece
            self.header = read_header(self.head)
            if self.header is None:
                if len(self.head) > MAX_HEADER_BYTES + 16:
                    raise InvalidDataset("the file does not start with a .npy header")
                return
            check_array(self.header)
            if self.header.file_bytes > self.max_bytes:
                raise PayloadTooLarge(
                    f"an array of shape {self.header.shape} and dtype {self.header.dtype.name} "
                    f"takes {self.header.file_bytes} bytes; uploads are limited to "
                    f"{self.max_bytes} bytes"
                )
            self.head = b""
        if self.seen > self.header.file_bytes:
            raise InvalidDataset(f"the .npy file is longer than its header says ({self._promise})")

    def finish(self) -> NpyHeader:
        if self.header is None:
            raise InvalidDataset("the file is empty or too short to be a .npy array")
        if self.seen < self.header.file_bytes:
            raise InvalidDataset(
                f"the .npy file is truncated: {self._promise}, it holds {self.seen}"
            )
        return self.header

    @property
    def _promise(self) -> str:
        assert self.header is not None
        h = self.header
        return f"shape {h.shape} and dtype {h.dtype.name} take {h.file_bytes} bytes"


def upload_dataset(
    store: Store,
    tenant: str,
    source: BinaryIO | Iterable[bytes],
    max_bytes: int,
    *,
    encoding: Encoding = "identity",
    idempotency_key: str | None = None,
) -> tuple[Dataset, bool]:
    """Check and store the .npy file read from `source` (a file, or the body's chunks)
    in `encoding`; the dataset and whether it is new. `max_bytes` bounds the .npy file.

    With an `idempotency_key` already used for the same file (same SHA-256), the first
    upload's dataset comes back and the new copy is dropped; another file is a Conflict.
    """
    chunks = iter(lambda: source.read(CHUNK_BYTES), b"") if hasattr(source, "read") else source
    dataset = store_npy(store, tenant, chunks, encoding, max_bytes)
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


def store_npy(
    store: Store, tenant: str, wire: Iterable[bytes], encoding: Encoding, max_bytes: int
) -> Dataset:
    """Store one .npy file arriving as `wire` chunks in `encoding`, checked as it decodes
    (header, limits, length), and record it as the tenant's dataset."""
    check = _Check(max_bytes)
    pending: list[bytes] = []  # wire chunks the decoder has read, not yet stored

    def read() -> Iterator[bytes]:
        for chunk in bounded_wire(wire, max_bytes):
            pending.append(chunk)
            yield chunk

    def stored() -> Iterator[bytes]:
        for piece in decoded(read(), encoding):
            check.feed(piece)
            yield from pending
            pending.clear()
        check.finish()
        yield from pending
        pending.clear()

    dataset_id = new_id("ds")
    blob = store.datasets.write_blob(dataset_id, rechunk(stored()), tenant=tenant)
    header = check.finish()  # (checked as the stream ended: this only gives the header)
    dataset = Dataset(
        id=dataset_id,
        shape=list(header.shape),
        dtype=header.dtype.name,
        bytes=check.seen,
        sha256=check.digest.hexdigest(),
    )
    try:
        store.datasets.record(tenant, dataset, encoding, blob)
    except BaseException:
        store.datasets.delete(dataset_id)
        raise
    return dataset
