"""What a worker host is, for the fleet registry: its accelerator class, memory and
devices, detected from torch (or named with `cornu worker --accelerator`)."""

from __future__ import annotations

import os
import re
import socket
import time

import torch

from cornu.core.store.fleet import FleetWorker


def class_name(device_name: str) -> str:
    """A device's name as a class name: `NVIDIA H200` → `nvidia-h200`."""
    name = re.sub(r"[^a-z0-9._-]+", "-", device_name.lower()).strip("-._")
    return name[:64] or "unknown"


def detect(device: torch.device, override: str | None = None) -> tuple[str, float, int]:
    """(class, memory of one device in GiB, devices) of this host for `device`: a CUDA
    device's name, memory and how many the host has from it on, or `cpu`, the host's RAM and its
    cores (a data-parallel job on a CPU host runs a replica per core at most);
    `override` names the class."""
    if device.type == "cuda":
        index = device.index or 0
        props = torch.cuda.get_device_properties(index)
        name = override or class_name(props.name)
        # A data-parallel job's replicas use the devices from this one on.
        return name, round(props.total_memory / 2**30, 1), torch.cuda.device_count() - index
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return override or "cpu", round(ram, 1), os.cpu_count() or 1  # a CPU replica per core


def this_worker(device: torch.device, override: str | None, job: str | None) -> FleetWorker:
    """This process as the registry lists it."""
    name, memory, devices = detect(device, override)
    host = socket.gethostname()
    return FleetWorker(id=f"{host}:{os.getpid()}", host=host, accelerator=name,
                       memory_gb=memory, devices=devices, job=job,
                       last_heartbeat=time.time())  # fmt: skip
