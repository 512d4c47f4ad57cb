"""The worker's Celery app, and what a worker process does besides running tasks:
a reaper thread, the graceful-stop flag on SIGTERM, and recycling after many jobs."""

from __future__ import annotations

import logging
import os
import signal
from functools import cache
from typing import Any

from celery.signals import task_postrun, worker_ready, worker_shutting_down

from cornu.core import studies
from cornu.core.config import get_settings
from cornu.core.queue import enqueue_training, make_celery
from cornu.core.reaper import Reaper
from cornu.core.runner import SHUTDOWN
from cornu.core.store import Store

log = logging.getLogger(__name__)

app = make_celery(get_settings())
app.conf.include = ["cornu.worker.tasks"]


@cache
def store() -> Store:
    return Store.from_settings(get_settings())


def enqueue(job_id: str) -> None:
    enqueue_training(
        app, job_id, queue=get_settings().queue, priority_of=store().jobs.queue_priority
    )


def poke_study(study_id: str, force: bool = False) -> None:
    """Ask for a step of a study (after a trial's epoch or end; `force`: the reaper)."""
    studies.poke(store(), app, get_settings().inference_queue, study_id, force=force)


@worker_ready.connect
def _start_reaper(**_: Any) -> None:
    Reaper(store(), get_settings(), enqueue, poke_study).start()


@worker_shutting_down.connect
def _stop_after_this_batch(**_: Any) -> None:
    # Celery's warm shutdown waits for the task; the job checkpoints and goes back now.
    SHUTDOWN.set()


_jobs_done = 0


@task_postrun.connect
def _recycle_after_many_jobs(**_: Any) -> None:
    global _jobs_done
    _jobs_done += 1
    if _jobs_done >= get_settings().worker_max_jobs:
        # A warm shutdown, as SIGTERM starts it; `cornu worker` starts a fresh process.
        log.info("worker ran %d jobs; stopping to be replaced by a fresh process", _jobs_done)
        os.kill(os.getpid(), signal.SIGTERM)
