"""Where bytes live: datasets, weights, checkpoints and exports as objects in a blob store.

One setting, `CORNU_BLOB_URL`, picks the backend: `file:///abs/path` (the default, under
`CORNU_HOME`: one host, or a volume several share) or `s3://bucket/prefix` (any
S3-compatible store, with endpoint and credentials from the standard AWS variables).
Redis keeps only the records that point at these objects.

Every backend writes atomically (a reader sees the whole object or none), streams in
and out in chunks, reads a prefix of an object without fetching the rest (a
safetensors header), and lists what it holds (tests, cleanup, migration).
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

CHUNK_BYTES = 1024 * 1024  # the size of the pieces a read yields


class MissingBlob(LookupError):
    """No object under this key (never written, deleted, or its write did not finish)."""


class BlobUnavailable(ConnectionError):
    """The blob store does not answer; like Redis being away, callers report 503 or retry."""


@dataclass(frozen=True)
class BlobInfo:
    """What a record keeps of an object: its key, size and SHA-256 (of the stored bytes)."""

    key: str
    bytes: int
    sha256: str


class BlobStore(ABC):
    """Objects by key: `tenants/<tenant>/datasets/<id>`, `tenants/<tenant>/jobs/<id>/…`.
    Keys are `/`-separated segments of letters, digits and `._%~-`, none starting
    with a dot (see `check_key`)."""

    url: str

    @abstractmethod
    def write(self, key: str, chunks: Iterable[bytes]) -> BlobInfo:
        """Store `chunks` under `key`, replacing what was there. Atomic: an exception
        from `chunks` (or the store) leaves the previous object, or none, in place."""

    @abstractmethod
    def chunks(self, key: str) -> Iterator[bytes]:
        """The object's bytes, a chunk at a time; MissingBlob when there is none (raised
        before the first chunk)."""

    @abstractmethod
    def read_range(self, key: str, offset: int, size: int) -> bytes:
        """`size` bytes from `offset` (fewer past the end), without reading the rest (a
        ranged GET on S3); MissingBlob when there is no object."""

    def head(self, key: str, size: int) -> bytes:
        """The first `size` bytes (fewer if the object is shorter): a header."""
        return self.read_range(key, 0, size)

    @abstractmethod
    def size(self, key: str) -> int | None:
        """The object's size in bytes; None when there is no object."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object and its bytes; nothing happens when there is none."""

    @abstractmethod
    def objects(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        """(key, size) of every object whose key starts with `prefix`, in key order."""

    def read(self, key: str) -> bytes:
        return b"".join(self.chunks(key))

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def close(self) -> None:  # noqa: B027 (a backend with nothing to release keeps this)
        """Release connections."""


def check_key(key: str) -> str:
    """The key if it is a safe relative path on every backend; ValueError otherwise."""
    segments = key.split("/")
    for segment in segments:
        if not segment or segment.startswith(".") or not _SAFE.issuperset(segment):
            raise ValueError(f"not a blob key: {key!r}")
    return key


_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%~-")


class Hashing:
    """Follows written chunks: their count of bytes and SHA-256."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.bytes = 0

    def __call__(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            if chunk:
                self.digest.update(chunk)
                self.bytes += len(chunk)
                yield chunk

    def info(self, key: str) -> BlobInfo:
        return BlobInfo(key, self.bytes, self.digest.hexdigest())
