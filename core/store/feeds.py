"""Reading a job's live feed without holding a thread: the SSE stream's async side.

The feed (`keys.job_feed`) holds progress reports, finished epochs and status events in
order; a reader waits on it with XREAD BLOCK on an asyncio Redis connection.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio

from cornu.core.store import keys
from cornu.core.store.values import text

Entry = tuple[str, str, str]  # stream id, event name, JSON data


class Feeds:
    def __init__(self, client: redis.asyncio.Redis) -> None:
        self.redis = client

    @classmethod
    def from_url(cls, url: str, timeout_s: float) -> Feeds:
        # The read blocks up to `block_ms`: the socket must wait longer than that.
        client = redis.asyncio.Redis.from_url(
            url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s + 5
        )
        return cls(client)

    async def read(self, job_id: str, after: str, block_ms: int | None) -> list[Entry]:
        """Entries after stream id `after`, waiting up to `block_ms` for one (None: no wait)."""
        found: Any = await self.redis.xread(
            {keys.job_feed(job_id): after}, count=500, block=block_ms
        )
        if not found:
            return []
        return [
            (str(text(entry_id)), str(text(f[b"event"])), str(text(f[b"data"])))
            for entry_id, f in found[0][1]
        ]

    async def close(self) -> None:
        await self.redis.aclose()
