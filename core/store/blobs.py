"""Large byte strings in Redis as lists of chunks, written atomically.

A blob is written under a temporary key and renamed into place only when complete,
so a reader never sees half an upload and an aborted write leaves nothing behind.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator

import redis

CHUNK_BYTES = 1024 * 1024
_WINDOW = 16  # chunks per round trip when reading
_PARTIAL_TTL_S = 3600  # a crashed writer's partial blob expires


class Blobs:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def write(self, key: str, chunks: Iterable[bytes]) -> int:
        """Store `chunks` under `key`; returns the byte count. Atomic: all or nothing."""
        partial = f"{key}:partial:{secrets.token_hex(8)}"
        total = 0
        try:
            pipe = self.redis.pipeline(transaction=False)
            pending = 0
            for chunk in chunks:
                if not chunk:
                    continue
                pipe.rpush(partial, chunk)
                total += len(chunk)
                pending += 1
                if pending == _WINDOW:
                    pipe.expire(partial, _PARTIAL_TTL_S)
                    pipe.execute()
                    pending = 0
            pipe.expire(partial, _PARTIAL_TTL_S)
            pipe.execute()
            if total == 0:
                self.redis.delete(key)
                return 0
            publish = self.redis.pipeline(transaction=True)
            publish.rename(partial, key)
            publish.persist(key)
            publish.execute()
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

    def read(self, key: str) -> bytes:
        return b"".join(self.chunks(key))

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
    buffer = bytearray()
    for piece in stream:
        buffer += piece
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)
