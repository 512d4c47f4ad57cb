"""The fleet registry: each worker's accelerator and heartbeat, and the accelerator
classes the fleet has had (what a job's `resources` are checked against).

A worker's entry (`keys.fleet_worker`) lapses `ttl_s` after its last heartbeat; its
class (`keys.fleet_classes`) stays, with the largest memory and device count seen for
it, so a job may ask for a class whose workers are all down right now (it waits queued)
but not for one the fleet never had.
"""

from __future__ import annotations

import json
import time

import redis
from pydantic import BaseModel, Field

from cornu.core.store import keys
from cornu.core.store.values import text, text_fields


class AcceleratorClass(BaseModel):
    """A kind of worker: its accelerator's name, memory and device count."""

    name: str
    memory_gb: float = Field(description="memory of one device (RAM for `cpu`), GiB")
    devices: int = Field(description="devices one worker of it has")
    workers: int = Field(default=0, description="workers of it with a live heartbeat")


class FleetWorker(BaseModel):
    """One worker as its heartbeat describes it."""

    id: str = Field(description="host:pid of its training process")
    host: str
    accelerator: str
    memory_gb: float
    devices: int
    job: str | None = Field(default=None, description="the job it trains now")
    last_heartbeat: float = Field(description="Unix time, seconds")


class Fleet:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def beat(self, worker: FleetWorker, ttl_s: float) -> None:
        """Record `worker`'s heartbeat, valid for `ttl_s`, and its class."""
        pipe = self.redis.pipeline()
        pipe.set(keys.fleet_worker(worker.id), worker.model_dump_json(), px=int(ttl_s * 1000))
        pipe.zadd(keys.fleet_workers(), {worker.id: time.time() + ttl_s})
        pipe.hget(keys.fleet_classes(), worker.accelerator)
        known = pipe.execute()[-1]
        seen = AcceleratorClass.model_validate_json(str(text(known))) if known else None
        merged = AcceleratorClass(
            name=worker.accelerator,
            memory_gb=max(worker.memory_gb, seen.memory_gb if seen else 0.0),
            devices=max(worker.devices, seen.devices if seen else 0),
        )
        if merged != seen:
            self.redis.hset(keys.fleet_classes(), worker.accelerator, merged.model_dump_json())

    def leave(self, worker_id: str) -> None:
        """A worker stopping: it leaves the list at once (its class stays)."""
        pipe = self.redis.pipeline()
        pipe.delete(keys.fleet_worker(worker_id))
        pipe.zrem(keys.fleet_workers(), worker_id)
        pipe.execute()

    def workers(self) -> list[FleetWorker]:
        """The workers with a live heartbeat (lapsed ones are dropped from the list)."""
        now = time.time()
        self.redis.zremrangebyscore(keys.fleet_workers(), "-inf", now)
        ids = [str(text(i)) for i in self.redis.zrange(keys.fleet_workers(), 0, -1)]
        found = self.redis.mget([keys.fleet_worker(i) for i in ids]) if ids else []
        return [FleetWorker.model_validate_json(text(f) or "") for f in found if f]

    def classes(self) -> dict[str, AcceleratorClass]:
        """Every class the fleet has had, with how many of its workers are up now."""
        up: dict[str, int] = {}
        for worker in self.workers():
            up[worker.accelerator] = up.get(worker.accelerator, 0) + 1
        found = text_fields(self.redis.hgetall(keys.fleet_classes()))
        return {
            name: AcceleratorClass.model_validate({**json.loads(raw), "workers": up.get(name, 0)})
            for name, raw in sorted(found.items())
        }


def describe(classes: dict[str, AcceleratorClass]) -> str:
    """`nvidia-h200 (141 GiB × 8), cpu (31 GiB × 1)` for an error message."""
    if not classes:
        return "none yet"
    return ", ".join(f"{c.name} ({c.memory_gb:g} GiB × {c.devices})" for c in classes.values())
