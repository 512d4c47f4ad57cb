"""A worker slot's admission onto a device it shares with other slots
(`cornu worker --slots K`): before it claims a job, a slot holds the job's estimated
memory on the device (`store.slots.DeviceMemory`), waiting up to `slot_wait_seconds`
for room; a job that still does not fit goes back to the queue. A job on several devices
(`resources.devices`) never shares: it holds the whole of each device its replicas use.
A hold is this slot's own (a second delivery of the same job holds apart), renewed every
heartbeat while the job trains and given back when it ends.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator

import torch

from cornu.core.config import Settings
from cornu.core.data_parallel import replica_device
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
    once its memory is held (held, and renewed, until the block ends). A data-parallel
    job holds the whole of each device its replicas use."""
    if settings.worker_slots == 1:
        yield True
        return
    total = capacity(settings, device)
    need, devices = store.jobs.needs(job_id)
    used = [device_key(replica_device(device, rank)) for rank in range(devices)]
    holds = [(DeviceMemory(store.redis, key), total if devices > 1 else need) for key in used]
    holder = f"{job_id}@{os.getpid()}"  # this slot's hold: a duplicate delivery's is its own
    ttl_s = 3 * settings.heartbeat_seconds

    def hold_all() -> bool:
        for taken, (memory, bytes_) in enumerate(holds):
            if not memory.hold(holder, bytes_, total, ttl_s):
                for earlier, _ in holds[:taken]:
                    earlier.release(holder)
                return False
        return True

    deadline = time.monotonic() + settings.slot_wait_seconds
    while not hold_all():
        if time.monotonic() > deadline:
            log.info("job %s: %d bytes do not fit beside %s; back to the queue",
                     job_id, need, holds[0][0].held())  # fmt: skip
            yield False
            return
        time.sleep(POLL_S)
    done = threading.Event()

    def renew() -> None:
        while not done.wait(settings.heartbeat_seconds):
            with contextlib.suppress(*UNAVAILABLE):  # it lapses, and is taken again
                for memory, bytes_ in holds:
                    memory.hold(holder, bytes_, total, ttl_s)

    renewing = threading.Thread(target=renew, name="cornu-slot", daemon=True)
    renewing.start()
    try:
        yield True
    finally:
        done.set()
        renewing.join(timeout=5)
        with contextlib.suppress(*UNAVAILABLE):  # they lapse by themselves
            for memory, _ in holds:
                memory.release(holder)
