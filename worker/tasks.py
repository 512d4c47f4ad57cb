"""Celery tasks: a few lines around one call into core each."""

from __future__ import annotations

import os
import socket

from celery.exceptions import Reject

from cornu.core.calls import run_call
from cornu.core.config import get_settings
from cornu.core.queue import CALL_TASK, STUDY_TASK, TRAIN_TASK
from cornu.core.runner import default_device, run_job
from cornu.core.slots import admitted
from cornu.core.studies import advance
from cornu.worker.app import app, current_job, enqueue, poke_study, shutting_down, store


@app.task(name=TRAIN_TASK)
def train(job_id: str) -> str | None:
    """Train job `job_id` (its record holds the spec); its final status, if this worker ended it."""
    settings = get_settings()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    device = default_device(settings)
    with admitted(store(), settings, job_id, device) as fits:
        if not fits:  # its memory is not free on this device: another slot or worker
            raise Reject(f"job {job_id}: no room on this device", requeue=True)
        current_job["id"] = job_id  # what the fleet heartbeat says it trains
        try:
            status = run_job(
                store(),
                job_id,
                settings,
                worker=worker,
                device=device,
                enqueue=enqueue,
                poke_study=poke_study,
                shutdown=shutting_down,
            )
        finally:
            current_job["id"] = None
    return status.value if status else None


@app.task(name=CALL_TASK, acks_late=False)  # never redelivered: a call runs once at most
def call(call_id: str) -> int | None:
    """Evaluate, predict or export for the API (`core.calls`); the HTTP status answered."""
    return run_call(store(), get_settings(), call_id)


@app.task(name=STUDY_TASK, acks_late=False)  # a lost step is asked for again by the reaper
def study(study_id: str) -> None:
    """Take the steps asked for of a hyperparameter study (`core.studies.advance`)."""
    advance(store(), get_settings(), study_id, enqueue)
