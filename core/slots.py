"""A worker slot's admission onto a device it shares with other slots
(`cornu worker --slots K`): before it claims a job, a slot holds the job's estimated
memory on the device (`store.slots.DeviceMemory`), waiting up to `slot_wait_seconds`
for room; a job that still does not fit goes back to the queue. A job on several devices
(`resources.devices`) never shares: it holds the whole device. The hold is renewed every
heartbeat while the job trains and given back when it ends.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator

import torch

from cornu.core.config import Settings
from cornu.core.fleet import detect
from cornu.core.store import UNAVAILABLE, Store
from cornu.core.store.slots import DeviceMemory

log = logging.getLogger(__name__)

POLL_S = 0.5


def capacity(settings: Settings, device: torch.device) -> int:
    """Bytes the slots of `device` share: `slot_memory_bytes`, or 90% of its memory."""
    if settings.slot_memory_bytes is not None:
        return settings.slot_memory_bytes
    return int(detect(device)[1] * 2**30 * 0.9)


def device_key(device: torch.device) -> str:
    """The device as the holds name it: `host:cpu`, `host:cuda:0`."""
    index = f":{device.index or 0}" if device.type == "cuda" else ""
    return f"{socket.gethostname()}:{device.type}{index}"


@contextlib.contextmanager
def admitted(store: Store, settings: Settings, job_id: str, device: torch.device) -> Iterator[bool]:
    """Whether the job may start on this slot now: always with one slot; with several,
    once its memory is held on the device (held, and renewed, until the block ends)."""
    if settings.worker_slots == 1:
        yield True
        return
    memory = DeviceMemory(store.redis, device_key(device))
    total = capacity(settings, device)
    need, devices = store.jobs.needs(job_id)
    need = total if devices > 1 else need  # data-parallel jobs never share
    ttl_s = 3 * settings.heartbeat_seconds
    deadline = time.monotonic() + settings.slot_wait_seconds
    while not memory.hold(job_id, need, total, ttl_s):
        if time.monotonic() > deadline:
            log.info("job %s: %d bytes do not fit beside %s; back to the queue",
                     job_id, need, memory.held())  # fmt: skip
            yield False
            return
        time.sleep(POLL_S)
    done = threading.Event()

    def renew() -> None:
        while not done.wait(settings.heartbeat_seconds):
            with contextlib.suppress(*UNAVAILABLE):  # it lapses, and is taken again
                memory.hold(job_id, need, total, ttl_s)

    renewing = threading.Thread(target=renew, name="cornu-slot", daemon=True)
    renewing.start()
    try:
        yield True
    finally:
        done.set()
        renewing.join(timeout=5)
        with contextlib.suppress(*UNAVAILABLE):  # it lapses by itself
            memory.release(job_id)
