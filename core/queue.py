"""The Celery app shared by the API (which sends) and the workers (which run).

Only the job id travels through the broker; everything else is in the job record.
Settings here follow the facts in KERAS_NOTES.md: one job at a time per worker,
no hoarding of queued jobs, no result keys, and a broker that cannot hang the API.
"""

from __future__ import annotations

from celery import Celery
from kombu.exceptions import OperationalError

from cornu.core.config import Settings
from cornu.core.errors import ServiceUnavailable

TRAIN_TASK = "cornu.train"


def make_celery(settings: Settings) -> Celery:
    app = Celery("cornu", broker=settings.redis_url, backend=settings.redis_url)
    transport = {
        # A message not acknowledged this long is redelivered even while it runs.
        "visibility_timeout": settings.broker_visibility_timeout_s,
        "unacked_restore_interval": settings.broker_restore_interval_s,
        "unacked_restore_throttle": settings.broker_restore_throttle,
        "socket_timeout": settings.redis_timeout_s,
        "socket_connect_timeout": settings.redis_timeout_s,
    }
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,  # Cornu keeps its own job records
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=settings.queue,
        broker_transport_options=transport,
        result_backend_transport_options=transport,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker outlives a Redis restart
        worker_cancel_long_running_tasks_on_connection_loss=False,
        broker_connection_timeout=settings.redis_timeout_s,
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0.0,
            "interval_step": 0.5,
            "interval_max": 1.0,
        },
        worker_hijack_root_logger=False,
    )
    return app


def enqueue_training(app: Celery, job_id: str, queue: str) -> None:
    """Send the training task for `job_id`; ServiceUnavailable if the broker is down."""
    try:
        app.send_task(TRAIN_TASK, args=[job_id], queue=queue)
    except OperationalError as exc:
        raise ServiceUnavailable(
            f"the job queue (broker) is unreachable, so job {job_id} was not queued: {exc}"
        ) from exc
