"""Reading a job's live feed without holding a thread: the SSE stream's async side.

The feed (`keys.job_feed`) holds progress reports, finished epochs and status events in
order; a reader waits on it with XREAD BLOCK on an asyncio Redis connection, from a
bounded pool that makes a reader wait for a free connection rather than fail. Each open
stream holds a slot of its tenant's (`keys.tenant_streams`): a tenant cannot take every
connection.
"""

from __future__ import annotations

import time
from typing import Any

import redis.asyncio

from cornu.core.store import keys
from cornu.core.store.lua import AsyncScript
from cornu.core.store.values import text

Entry = tuple[str, str, str]  # stream id, event name, JSON data


SLOT_TTL_S = 60.0  # an open stream renews its slot well within this


class Feeds:
    def __init__(self, client: redis.asyncio.Redis) -> None:
        self.redis = client
        self._acquire = AsyncScript(client, "acquire_stream")

    @classmethod
    def from_url(cls, url: str, timeout_s: float, max_connections: int = 512) -> Feeds:
        # The read blocks up to `block_ms`: the socket must wait longer than that. A
        # blocking pool: past `max_connections` a reader waits up to `timeout_s` for one.
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            socket_timeout=timeout_s + 5,
        )
        return cls(redis.asyncio.Redis(connection_pool=pool))

    async def acquire(self, tenant: str, stream: str, limit: int) -> int:
        """A slot for `stream` of `tenant` (a live stream, or a call waiting for its
        answer), if it holds fewer than `limit`: how many it holds with this one, or 0."""
        now = time.time()
        taken = await self._acquire(
            keys={"streams": keys.tenant_streams(tenant)},
            args={"stream": stream, "now": now, "lapse": now + SLOT_TTL_S, "limit": limit},
        )
        return int(taken)

    async def ready(self) -> None:
        """Returns once a connection is free and Redis answers; ConnectionError (a 503)
        when none frees up within the pool's timeout."""
        await self.redis.ping()

    async def renew(self, tenant: str, stream: str) -> None:
        await self.redis.zadd(keys.tenant_streams(tenant), {stream: time.time() + SLOT_TTL_S})

    async def release(self, tenant: str, stream: str) -> None:
        await self.redis.zrem(keys.tenant_streams(tenant), stream)

    async def read(self, job_id: str, after: str, block_ms: int | None) -> list[Entry]:
        """Entries after stream id `after`, waiting up to `block_ms` for one (None: no wait)."""
        return await self.read_stream(keys.job_feed(job_id), after, block_ms)

    async def read_stream(self, key: str, after: str, block_ms: int | None) -> list[Entry]:
        """`read` on any feed (a job's, a study's)."""
        found: Any = await self.redis.xread({key: after}, count=500, block=block_ms)
        if not found:
            return []
        return [
            (str(text(entry_id)), str(text(f[b"event"])), str(text(f[b"data"])))
            for entry_id, f in found[0][1]
        ]

    async def answer(self, call_id: str, timeout_s: float) -> tuple[int, bytes] | None:
        """A call's answer (`core.store.calls`): its HTTP status and body, once a worker
        gives it, or None after `timeout_s`. Waits without a thread, a few seconds per
        BLPOP (the socket's timeout is longer than that)."""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            found: Any = await self.redis.blpop([keys.call_answer(call_id)], timeout=min(left, 2.0))
            if found:
                status, _, body = bytes(found[1]).partition(b"\n")
                return int(status), body
        return None

    async def close(self) -> None:
        await self.redis.aclose()
