"""The worker's Celery app, and what a worker process does besides running tasks:
a reaper thread, the fleet heartbeat of a training process (its accelerator and the job
it trains) and its metrics port, the graceful-stop flag on SIGTERM, and recycling after
many jobs."""

from __future__ import annotations

import logging
import os
import signal
import threading
from functools import cache
from typing import Any

import torch
from celery.signals import task_postrun, worker_ready, worker_shutting_down

from cornu.core import studies
from cornu.core.config import get_settings
from cornu.core.observe import serve_worker_metrics
from cornu.core.queue import enqueue_training, make_celery
from cornu.core.reaper import Reaper
from cornu.core.runner import default_device
from cornu.core.store import UNAVAILABLE, Store

log = logging.getLogger(__name__)

app = make_celery(get_settings())
app.conf.include = ["cornu.worker.tasks"]


@cache
def store() -> Store:
    return Store.from_settings(get_settings())


def enqueue(job_id: str) -> None:
    enqueue_training(
        app,
        job_id,
        queue=get_settings().queue,
        priority_of=store().jobs.queue_priority,
        accelerator_of=store().jobs.accelerator,
    )


def poke_study(study_id: str, force: bool = False) -> None:
    """Ask for a step of a study (after a trial's epoch or end; `force`: the reaper)."""
    studies.poke(store(), app, get_settings().inference_queue, study_id, force=force)


# Set when this worker process is asked to stop (SIGTERM, Celery's warm shutdown): the job
# it trains checkpoints after its current batch and goes back to the queue.
shutting_down = threading.Event()
TRAINING = get_settings().worker_role == "training"
current_job: dict[str, str | None] = {"id": None}  # the job this process trains now
_beating = threading.Event()  # set: the heartbeat stops


def _heartbeat() -> None:
    """This training process in the fleet registry, every `heartbeat_seconds` (it lapses
    three beats after the last)."""
    from cornu.core.fleet import this_worker

    settings = get_settings()
    device = default_device(settings)
    while True:
        try:
            worker = this_worker(device, settings.accelerator, current_job["id"])
            store().fleet.beat(worker, ttl_s=3 * settings.heartbeat_seconds)
        except UNAVAILABLE:
            pass  # the next beat says it again
        except Exception:
            log.exception("fleet heartbeat failed")
        if _beating.wait(settings.heartbeat_seconds):
            with_id = this_worker(device, settings.accelerator, None).id
            try:
                store().fleet.leave(with_id)
            except UNAVAILABLE:
                pass  # it lapses by itself
            return


@worker_ready.connect
def _start_reaper(**_: Any) -> None:
    settings = get_settings()
    Reaper(store(), settings, enqueue, poke_study).start()
    if TRAINING:
        if settings.worker_slots > 1 and default_device(settings).type == "cpu":
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // settings.worker_slots))
        threading.Thread(target=_heartbeat, name="cornu-fleet", daemon=True).start()
        if settings.worker_metrics_port is not None:
            serve_worker_metrics(settings.worker_metrics_port + settings.worker_slot)


@worker_shutting_down.connect
def _stop_after_this_batch(**_: Any) -> None:
    # Celery's warm shutdown waits for the task; the job checkpoints and goes back now.
    shutting_down.set()
    _beating.set()


_jobs_done = 0


@task_postrun.connect
def _recycle_after_many_jobs(**_: Any) -> None:
    global _jobs_done
    _jobs_done += 1
    if _jobs_done >= get_settings().worker_max_jobs:
        # A warm shutdown, as SIGTERM starts it; `cornu worker` starts a fresh process.
        log.info("worker ran %d jobs; stopping to be replaced by a fresh process", _jobs_done)
        os.kill(os.getpid(), signal.SIGTERM)
