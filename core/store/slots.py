"""Memory held on a shared device: what lets several job slots of one worker host train
on the same GPU (`cornu worker --slots K`) without running it out of memory.

A slot holds a job's estimated bytes (`engine.memory`) on its device before it claims the
job, and gives them back when the job ends. A hold lapses unless renewed (a slot killed
mid-job frees its memory after a few heartbeats). Taking one is one Lua script: it drops
lapsed holds, and admits the job only when what the others hold plus what it needs fits
the device — or when the device holds nothing at all, so a job bigger than the device's
share still runs, alone.
"""

from __future__ import annotations

import redis

from cornu.core.store import keys
from cornu.core.store.lua import Script
from cornu.core.store.values import text_fields


class DeviceMemory:
    """The holds on one device, named `host:device`."""

    def __init__(self, client: redis.Redis, device: str) -> None:
        self.redis = client
        self.device = device
        self._hold = Script(client, "hold_memory")

    def hold(self, job_id: str, need: int, capacity: int, ttl_s: float) -> bool:
        """Hold `need` bytes of the device's `capacity` for `job_id` for `ttl_s` (again:
        renew the hold); False when they do not fit beside the others' right now."""
        seconds, micros = self.redis.time()
        now_ms = seconds * 1000 + micros // 1000
        done = self._hold(
            keys={"holds": keys.device_reservations(self.device),
                  "held": keys.device_reserved_bytes(self.device)},
            args={"job": job_id, "bytes": need, "capacity": capacity, "now_ms": now_ms,
                  "ttl_ms": int(ttl_s * 1000)},
        )  # fmt: skip
        return bool(done)

    def release(self, job_id: str) -> None:
        """The job's bytes go back to the device."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(keys.device_reservations(self.device), job_id)
        pipe.hdel(keys.device_reserved_bytes(self.device), job_id)
        pipe.execute()

    def held(self) -> dict[str, int]:
        """Bytes held per job (lapsed holds included until the next `hold`)."""
        found = text_fields(self.redis.hgetall(keys.device_reserved_bytes(self.device)))
        return {job: int(value) for job, value in found.items()}
