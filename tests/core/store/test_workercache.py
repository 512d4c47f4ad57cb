"""The worker's dataset cache: content-checked entries, bounded by bytes, least recently
used evicted first, nothing partial left behind."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import numpy as np
import pytest

from cornu.core.errors import DataError
from cornu.core.store.workercache import DatasetCache
from tests.helpers import npy_bytes


def entry(value: int, rows: int = 1000) -> tuple[str, bytes]:
    data = npy_bytes(np.full((rows, 10), value, dtype=np.float32))  # 40,128 bytes
    return hashlib.sha256(data).hexdigest(), data


def test_least_recently_used_entries_go_first_and_the_bound_holds(tmp_path: Path) -> None:
    (a, da), (b, db), (c, dc) = entry(1), entry(2), entry(3)
    size = len(da)
    cache = DatasetCache(tmp_path, max_bytes=2 * size + 100, resident_bytes=1 << 30)
    for sha, data in ((a, da), (b, db)):
        array, kept = cache.put(sha, [data[:500], data[500:]])
        assert kept and float(array[0, 0]) in (1.0, 2.0)
    past = time.time() - 60
    os.utime(cache.path(a), (past, past))
    os.utime(cache.path(b), (past + 1, past + 1))
    hit = cache.open(a)  # a is used now: b is the least recently used
    assert hit is not None and float(hit[0, 0]) == 1.0
    cache.put(c, [dc])
    assert set(cache.entries()) == {a, c}
    assert sum(cache.entries().values()) <= cache.max_bytes
    assert cache.open(b) is None


def test_big_arrays_open_memory_mapped_and_stay_readable_after_eviction(tmp_path: Path) -> None:
    (a, da), (b, db) = entry(4), entry(5)
    cache = DatasetCache(tmp_path, max_bytes=len(da) + 100, resident_bytes=1000)
    mapped, _ = cache.put(a, [da])
    assert isinstance(mapped, np.memmap)
    cache.put(b, [db])  # evicts a's file while it is mapped
    assert not cache.path(a).exists()
    assert float(mapped[999, 9]) == 4.0  # the mapping keeps the deleted file's pages


def test_wrong_bytes_and_oversized_entries_are_not_kept(tmp_path: Path) -> None:
    sha, data = entry(6)
    cache = DatasetCache(tmp_path, max_bytes=len(data) - 1, resident_bytes=1 << 30)
    with pytest.raises(DataError, match="do not match its SHA-256"):
        cache.put(sha, [data[:-4] + b"\0\0\0\1"])
    array, kept = cache.put(sha, [data])  # too big for the bound: the job's own copy
    assert not kept and float(array[0, 0]) == 6.0
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".lock")] == []
