"""Celery tasks: a few lines around one call into core each."""

from __future__ import annotations

import logging
from functools import cache

from core.config import get_settings
from core.jobs import default_device, run_job
from core.queue import TRAIN_TASK
from core.store import Store
from worker.app import app

log = logging.getLogger(__name__)


@cache
def _store() -> Store:
    settings = get_settings()
    return Store.from_url(
        settings.redis_url, timeout_s=settings.redis_timeout_s, max_epochs=settings.max_epochs
    )


@app.task(name=TRAIN_TASK)
def train(job_id: str) -> str | None:
    """Train job `job_id` (its record holds the spec); returns the final status."""
    status = run_job(_store(), job_id, default_device(get_settings()))
    return status.value if status else None
