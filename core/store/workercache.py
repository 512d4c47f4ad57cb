"""A worker's disk cache of datasets, by content: the next job on the same data downloads
nothing.

Each entry is a dataset's decoded `.npy` file named by its SHA-256 (the dataset's content
hash, computed by the API at upload), checked against that hash as it is written. The
directory holds at most `max_bytes` of entries: before a new one goes in, the least
recently used (file modification time, touched on every hit) are deleted. Workers of one
host may share the directory: an entry is written to a temporary file and renamed into
place (a reader sees a whole file or none), and eviction runs under an advisory lock
(`fcntl.flock`) so that two workers account the bound together.

Eviction never breaks a running job: a job opens its entry (reads it whole, or maps it)
before the entry can be chosen, and on POSIX a deleted file lives on while it is mapped.
So an entry in use may be deleted; its disk space comes back when the job ends, and the
bound can be exceeded by the entries running jobs hold. An entry bigger than the whole
bound is not kept: it is written, opened and unlinked at once (the job alone holds it).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cornu.core.codecs import decoded
from cornu.core.errors import DataError
from cornu.core.npy import array_from_chunks
from cornu.core.store.datasets import Datasets

_HASH = re.compile(r"[0-9a-f]{64}")
_PARTIAL = ".partial-"
_STALE_PARTIAL_S = 3600.0  # a crashed writer's temporary file is removed after this


@dataclass(frozen=True)
class Fetched:
    """A dataset as a job got it: from the cache or downloaded (`downloaded`: stored
    bytes read from the blob store), memory-mapped or in memory, kept in the cache or not."""

    array: np.ndarray
    source: str  # "cache" or "download"
    downloaded: int
    mapped: bool
    cached: bool


class DatasetCache:
    """Decoded `.npy` files by SHA-256 in `directory`, at most `max_bytes` of them (LRU).
    An array whose file is bigger than `resident_bytes` is opened memory-mapped
    (`np.memmap`, read-only); a smaller one is read into memory."""

    def __init__(self, directory: Path, max_bytes: int, resident_bytes: int) -> None:
        self.directory, self.max_bytes, self.resident_bytes = directory, max_bytes, resident_bytes
        directory.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        if not _HASH.fullmatch(sha256):
            raise ValueError(f"not a SHA-256 in hex: {sha256!r}")
        return self.directory / f"{sha256}.npy"

    def open(self, sha256: str) -> np.ndarray | None:
        """The cached array (marked as just used), or None when it is not cached."""
        path = self.path(sha256)
        try:
            array = self._open(path)
            os.utime(path)  # most recently used
        except FileNotFoundError:  # never cached, or evicted (by another worker) just now
            return None
        return array

    def put(self, sha256: str, npy: Iterable[bytes]) -> tuple[np.ndarray, bool]:
        """Write the `.npy` file `npy` into the cache, evicting the least recently used
        entries to stay within the bound; the array (opened before anything else can
        evict it) and whether it was kept. DataError if the bytes do not hash to
        `sha256`; nothing partial is left behind."""
        final = self.path(sha256)
        partial = self.directory / f"{_PARTIAL}{os.getpid()}-{os.urandom(6).hex()}"
        try:
            size = _write(partial, npy, sha256)
            array = self._open(partial)
            if size > self.max_bytes:  # never fits: the job's own copy, gone when it ends
                return array, False
            with self._locked():
                self.evict(room=size)
                os.replace(partial, final)
            return array, True
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()

    def evict(self, room: int = 0) -> list[Path]:
        """Delete least recently used entries until `room` more bytes fit in the bound
        (and stale temporary files); the entries deleted. Call under the lock."""
        entries, now = [], time.time()
        for path in self.directory.iterdir():
            with contextlib.suppress(FileNotFoundError):
                stat = path.stat()
                if path.name.startswith(_PARTIAL):
                    if now - stat.st_mtime > _STALE_PARTIAL_S:
                        path.unlink()
                elif path.suffix == ".npy":
                    entries.append((stat.st_mtime, stat.st_size, path))
        entries.sort()
        total = sum(size for _, size, _ in entries)
        gone = []
        for _, size, path in entries:
            if total + room <= self.max_bytes:
                break
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            total -= size
            gone.append(path)
        return gone

    def entries(self) -> dict[str, int]:
        """The cached datasets' SHA-256 and file sizes (bytes)."""
        return {
            p.stem: p.stat().st_size
            for p in self.directory.glob("*.npy")
            if _HASH.fullmatch(p.stem)
        }

    def _open(self, path: Path) -> np.ndarray:
        mapped = path.stat().st_size > self.resident_bytes
        array: np.ndarray = np.load(path, mmap_mode="r" if mapped else None, allow_pickle=False)
        return array

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with (self.directory / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _write(path: Path, chunks: Iterable[bytes], sha256: str) -> int:
    digest, size = hashlib.sha256(), 0
    with path.open("xb") as out:
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    if digest.hexdigest() != sha256:
        raise DataError(
            f"the stored bytes of a dataset do not match its SHA-256 ({sha256}); upload it again"
        )
    return size


class _Counted:
    """Stored chunks, counted as they are read."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks, self.bytes = chunks, 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.bytes += len(chunk)
            yield chunk


def fetch(datasets: Datasets, dataset_id: str, cache: DatasetCache | None) -> Fetched:
    """Dataset `dataset_id`'s array for a job: from `cache` when it holds the content,
    else downloaded (into the cache, when there is one). NotFound, DataError."""
    sha256, coding, stored = datasets.stored(dataset_id)
    counted = _Counted(stored)
    if cache is None or not _HASH.fullmatch(sha256):
        array = array_from_chunks(decoded(counted, coding))
        return Fetched(array, "download", counted.bytes, False, False)
    hit = cache.open(sha256)
    if hit is not None:
        return Fetched(hit, "cache", 0, isinstance(hit, np.memmap), True)
    array, kept = cache.put(sha256, decoded(counted, coding))
    return Fetched(array, "download", counted.bytes, isinstance(array, np.memmap), kept)


__all__ = ["DatasetCache", "Fetched", "fetch"]
