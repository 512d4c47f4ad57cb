"""A job on several devices of one host (`resources.devices: N`): the worker that claimed
it is rank 0 (it holds the lease, runs the callbacks, writes the checkpoints and the
result) and starts N-1 replica processes, rank r on the host's r-th device after its
own (`cuda:<index + r>`; on a CPU host, a share of the cores each). They meet through a
TCP rendezvous on the loopback and train the job together (`engine.replicas`).

A replica loads the job's datasets itself (through the host's dataset cache when it has
one) and the checkpoint rank 0 resumes from, if any. It dies with the worker (PDEATHSIG)
and ignores the signals meant for the worker: rank 0 stops it by the replicas'
agreement (a cancel, a shutdown, a lost lease). A replica that fails says why on a queue,
so the job fails with its reason rather than with the broken connection rank 0 sees.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import secrets
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from multiprocessing.process import BaseProcess
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from cornu.core.children import die_with
from cornu.core.config import get_settings
from cornu.core.embedded import free_port
from cornu.core.engine import Interrupted, load_state, train_job
from cornu.core.engine.fit import DatasetArrays
from cornu.core.engine.replicas import Replicas
from cornu.core.errors import JobFailed, SpecError
from cornu.core.store import Claim, Store
from cornu.core.store.workercache import DatasetCache, fetch

log = logging.getLogger(__name__)

# How long a replica waits in a collective for the others: rank 0 may spend a while
# between batches (writing a checkpoint, waiting for a client's callbacks). And how long
# rank 0 waits for the replicas to start and join (a fresh interpreter importing torch).
COLLECTIVE_TIMEOUT = timedelta(minutes=15)
JOIN_TIMEOUT = timedelta(minutes=2)


def backend(device: torch.device) -> str:
    """The gradients' backend: NCCL between CUDA devices, gloo on the CPU."""
    return "nccl" if device.type == "cuda" else "gloo"


def replica_device(device: torch.device, rank: int) -> torch.device:
    """Rank `rank`'s device: the r-th CUDA device after rank 0's, or the CPU."""
    if device.type != "cuda":
        return device
    return torch.device("cuda", (device.index or 0) + rank)


def threads_each(size: int) -> int:
    """CPU threads of each of `size` replicas sharing a host's cores."""
    return max(1, (os.cpu_count() or 1) // size)


@dataclass
class Replication:
    """Rank 0's side of a running data-parallel job: its place and its replicas."""

    replicas: Replicas
    processes: Sequence[BaseProcess]
    failures: Any  # a multiprocessing queue of (rank, reason)
    threads: int = field(default_factory=torch.get_num_threads)  # rank 0's, given back

    def failure(self, wait_s: float = 2.0) -> str | None:
        """Why a replica failed, if one said so within `wait_s` seconds."""
        try:
            rank, reason = self.failures.get(timeout=wait_s)
        except queue.Empty:
            return None
        return f"replica {rank}: {reason}"

    def close(self, wait_s: float = 10.0) -> None:
        """Leave the process group; wait up to `wait_s` seconds for the replicas to exit
        (they follow rank 0's stop), then kill those still there."""
        with contextlib.suppress(Exception):
            dist.destroy_process_group()
        for process in self.processes:
            process.join(timeout=wait_s)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)
        torch.set_num_threads(self.threads)


def seeded(claim: Claim) -> Claim:
    """The claim with a `fit.seed` drawn for it when it has none: replicas that drew
    seeds of their own would shuffle differently, each training on its part of a
    different order (a resumed run takes its generators from the checkpoint anyway)."""
    if claim.spec.fit.seed is not None:
        return claim
    fit = claim.spec.fit.model_copy(update={"seed": secrets.randbelow(2**31)})
    return replace(claim, spec=claim.spec.model_copy(update={"fit": fit}))


def start(claim: Claim, device: torch.device, resumed: bool) -> Replication:
    """Start the job's replicas 1…N-1 and join them as rank 0 on `device`."""
    size = claim.spec.resources.devices
    if device.type == "cuda" and (device.index or 0) + size > torch.cuda.device_count():
        raise JobFailed(
            f"devices: {size} GPUs from {device} on, but this host has "
            f"{torch.cuda.device_count()}; the job needs a worker whose device leaves {size}"
        )
    port = free_port()
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked threads
    failures = context.Queue()
    processes = [
        context.Process(
            target=_replica,
            args=(claim, rank, size, port, str(device), resumed, failures, os.getpid()),
            name=f"cornu-replica-{rank}",
        )
        for rank in range(1, size)
    ]
    for process in processes:
        process.start()
    replication = Replication(Replicas(0, size, device), processes, failures)
    torch.set_num_threads(threads_each(size) if device.type == "cpu" else replication.threads)
    try:
        replication.replicas.control = _join(port, 0, size, device)
    except Exception as exc:
        reason = replication.failure(wait_s=0.5)
        replication.close(wait_s=0)
        if reason is not None:  # a replica failed before it joined: say why
            raise JobFailed(reason) from exc
        raise
    return replication


def _join(port: int, rank: int, size: int, device: torch.device) -> dist.ProcessGroup:
    """Join the job's process group (rank 0 serves its rendezvous on the loopback);
    the gloo group of the agreements."""
    if device.type == "cuda":
        torch.cuda.set_device(device)
    rendezvous = dist.TCPStore("127.0.0.1", port, size, rank == 0, timeout=JOIN_TIMEOUT)
    dist.init_process_group(
        backend(device), store=rendezvous, rank=rank, world_size=size, timeout=COLLECTIVE_TIMEOUT
    )
    group = dist.new_group(backend="gloo", timeout=COLLECTIVE_TIMEOUT)
    assert group is not None
    return group


def _replica(
    claim: Claim,
    rank: int,
    size: int,
    port: int,
    device_name: str,
    resumed: bool,
    failures: Any,
    parent: int,
) -> None:
    """Replica `rank` of the job: load, join, train until rank 0 stops or ends it."""
    die_with(parent)()
    for signum in (signal.SIGINT, signal.SIGTERM):  # the worker's to act on, not ours
        signal.signal(signum, signal.SIG_IGN)
    device = replica_device(torch.device(device_name), rank)
    if device.type == "cpu":
        torch.set_num_threads(threads_each(size))
    settings = get_settings()
    store = Store.from_settings(settings)
    try:
        control = _join(port, rank, size, device)  # first: rank 0 hears of a failure below
        cache = None
        if settings.worker_cache_bytes > 0:
            cache = DatasetCache(settings.worker_cache_location, settings.worker_cache_bytes,
                                 settings.worker_resident_bytes)  # fmt: skip

        def load(dataset_id: str) -> np.ndarray:
            return fetch(store.datasets, dataset_id, cache).array

        ids = claim.spec.dataset_ids()
        arrays = DatasetArrays(load, store.datasets.shapes(claim.tenant, ids))
        state = store.runs.checkpoint_blob(claim) if resumed else None
        train_job(
            claim.spec,
            arrays,
            device=device,
            resume=None if state is None else load_state(state),
            replicas=Replicas(rank, size, device, control),
        )
    except Interrupted:
        pass  # rank 0 ended the run and says why
    except (JobFailed, SpecError) as exc:
        failures.put((rank, exc.detail))
    except (torch.cuda.OutOfMemoryError, MemoryError):
        failures.put((rank, f"out of memory on {device}"))
    except Exception as exc:
        log.exception("job %s: replica %d failed", claim.job_id, rank)
        failures.put((rank, f"internal error ({type(exc).__name__}); the worker log has details"))
    finally:
        with contextlib.suppress(Exception):
            dist.destroy_process_group()
        store.close()
