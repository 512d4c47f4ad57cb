"""Bytes by key, for the records that point at them: objects in the blob store, or (for
data an older Cornu wrote) chunked lists in Redis, read until `cornu migrate-blobs`
moves them. A key that starts with `cornu:blob:` is such a Redis list; any other is a
blob store key.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import time
from collections.abc import Iterable, Iterator

import redis

from cornu.core import codecs
from cornu.core.store import keys
from cornu.core.store.blobstore import (
    CHUNK_BYTES,
    BlobInfo,
    BlobStore,
    BlobUnavailable,
    MissingBlob,
)
from cornu.core.store.values import text

_WINDOW = 16  # chunks per round trip when reading a Redis blob
_PARTIAL_TTL_S = 3600  # a crashed writer's partial Redis blob expires
_COLLECT_BATCH = 256
_COLLECT_ROUNDS = 64  # a collection stops after this many batches; the next goes on
_REDIS_AWAY = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)

log = logging.getLogger(__name__)


def is_legacy(key: str) -> bool:
    return key.startswith(keys.LEGACY_BLOB)


def pointer(info: BlobInfo) -> str:
    """A record's reference to an object: its key, size and SHA-256, as JSON."""
    return json.dumps({"key": info.key, "bytes": info.bytes, "sha256": info.sha256})


def pointed(value: str | bytes | None) -> str | None:
    """The object key a record's pointer names (None when there is no pointer)."""
    return json.loads(value)["key"] if value else None


class Blobs:
    """The blob store, with reads (and deletes) of legacy Redis blobs by their keys."""

    def __init__(self, store: BlobStore, client: redis.Redis) -> None:
        self.store = store
        self.redis = client
        self.legacy = RedisBlobs(client)

    def write(self, key: str, chunks: Iterable[bytes]) -> BlobInfo:
        return self.store.write(key, chunks)

    def begin(self, key: str) -> None:
        """Note that the object `key` is being written for a record not written yet
        (`keys.blob_pending`): should the writer die, `collect` deletes the object."""
        self.redis.zadd(keys.blob_pending(), {key: time.time()})

    def chunks(self, key: str) -> Iterator[bytes]:
        if is_legacy(key):
            if not self.legacy.exists(key):
                raise MissingBlob(key)
            return self.legacy.chunks(key)
        return self.store.chunks(key)

    def read(self, key: str) -> bytes:
        return b"".join(self.chunks(key))

    def head(self, key: str, size: int) -> bytes:
        if is_legacy(key):
            if not self.legacy.exists(key):
                raise MissingBlob(key)
            return self.legacy.head(key, size)
        return self.store.head(key, size)

    def exists(self, key: str) -> bool:
        return self.legacy.exists(key) if is_legacy(key) else self.store.exists(key)

    def delete(self, *found: str | None) -> None:
        for key in found:
            if key is None:
                continue
            if is_legacy(key):
                self.legacy.delete(key)
            else:
                self.store.delete(key)

    def collect(self, pending_s: float = math.inf) -> int:
        """Delete the objects the fenced scripts dropped and the deletes let go
        (`keys.blob_garbage`: keys, legacy Redis blobs, or prefixes ending in `/`), and
        those whose writer began more than `pending_s` seconds ago and never recorded them
        (`keys.blob_pending`); the count of objects and entries. A key leaves a list only
        once its object is gone, so a crash between the two leaves it for the next
        collection (the reaper runs one every round)."""
        done = 0
        try:
            abandoned = self.redis.zrangebyscore(
                keys.blob_pending(), "-inf", time.time() - pending_s, 0, _COLLECT_BATCH
            )
            for raw in abandoned:
                key = str(text(raw))
                self.store.delete(key)
                self.redis.zrem(keys.blob_pending(), key)
                log.warning("deleted %s: its writer began it and never recorded it", key)
                done += 1
            for _ in range(_COLLECT_ROUNDS):
                found: list[bytes] = self.redis.lrange(keys.blob_garbage(), 0, _COLLECT_BATCH - 1)  # type: ignore[assignment]
                for raw in found:
                    self._delete_garbage(str(text(raw)))
                    self.redis.lrem(keys.blob_garbage(), 1, raw)  # type: ignore[arg-type]
                    done += 1
                if len(found) < _COLLECT_BATCH:
                    break
        except (BlobUnavailable, *_REDIS_AWAY) as exc:
            # Not the caller's failure: what was dropped is deleted on the next collection.
            log.warning("%d dropped objects deleted; the rest wait (%s)", done, exc)
        return done

    def _delete_garbage(self, key: str) -> None:
        """One garbage entry: an object's key, a Redis blob an older Cornu wrote (a script
        may not delete a key it was not given), or (ending in `/`) the prefix of a deleted
        job's objects, all of which go."""
        if is_legacy(key):
            self.legacy.delete(key)
            return
        if not key.endswith("/"):
            self.store.delete(key)
            return
        for found, _ in list(self.store.objects(key)):
            self.store.delete(found)


class RedisBlobs:
    """Chunked blobs in Redis lists, as Cornu stored bytes before the blob store."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def write(self, key: str, chunks: Iterable[bytes]) -> int:
        """Store `chunks` under `key`; the byte count. Atomic (a temporary key renamed
        into place). Only the migration's tests still write these."""
        partial = f"{key}:partial:{secrets.token_hex(8)}"
        total = 0
        try:
            pipe = self.redis.pipeline(transaction=False)
            for chunk in rechunk(chunks):
                pipe.rpush(partial, chunk)
                pipe.expire(partial, _PARTIAL_TTL_S)
                total += len(chunk)
                if len(pipe) >= 2 * _WINDOW:
                    pipe.execute()
            pipe.execute()
            if total:
                self.redis.rename(partial, key)
                self.redis.persist(key)
        except BaseException:
            self.redis.delete(partial)
            raise
        return total

    def chunks(self, key: str) -> Iterator[bytes]:
        start = 0
        while True:
            window: list[bytes] = self.redis.lrange(key, start, start + _WINDOW - 1)  # type: ignore[assignment]
            yield from window
            if len(window) < _WINDOW:
                return
            start += _WINDOW

    def head(self, key: str, size: int) -> bytes:
        """The first `size` bytes (fewer if the blob is shorter), a chunk at a time."""
        out = bytearray()
        index = 0
        while len(out) < size:
            chunk: bytes | None = self.redis.lindex(key, index)  # type: ignore[assignment]
            if chunk is None:
                break
            out += chunk
            index += 1
        return bytes(out[:size])

    def exists(self, key: str) -> bool:
        return bool(self.redis.exists(key))

    def delete(self, key: str) -> None:
        self.redis.delete(key)


def rechunk(stream: Iterable[bytes], size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Regroup arbitrary pieces into chunks of `size` bytes (the last may be shorter)."""
    return codecs.rechunk(stream, size)


__all__ = ["CHUNK_BYTES", "Blobs", "RedisBlobs", "is_legacy", "pointed", "pointer", "rechunk"]
