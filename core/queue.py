"""The Celery app shared by the API (which sends) and the workers (which run).

Only the job id travels through the broker; everything else is in the job record.
Settings here follow Celery's guidance for long tasks on Redis (its "Optimizing" and
Redis-transport pages): one job at a time per worker, late acknowledgement, no hoarding
of queued jobs, no result keys, and a broker that cannot hang the API.

Fairness across tenants is Celery's own message priorities (the Redis transport keeps a
list per priority, `<queue>`, `<queue>:1` … `<queue>:9`, and a worker takes from the
lowest number first): a job is sent at the priority of how many jobs its tenant has
queued or running besides it (`Jobs.queue_priority`). A tenant's first job jumps every
queued job of a tenant that has several: it waits only for the other tenants' first jobs
(one each at most) and the jobs workers are running, never for a busy tenant's queue.
Chosen over a dispatcher of our own (a per-tenant round-robin in front of the queue)
because it adds no process and no protocol: leases, redelivery and the reaper's resends
work unchanged. Its limit: among tenants that each have ten or more queued, order is
first come, first served.
"""

from __future__ import annotations

from collections.abc import Callable

from celery import Celery
from kombu.exceptions import OperationalError

from cornu.core.config import Settings
from cornu.core.errors import ServiceUnavailable
from cornu.core.store import UNAVAILABLE

TRAIN_TASK = "cornu.train"
CALL_TASK = "cornu.call"  # evaluate, predict, export (`core.calls`)
STUDY_TASK = "cornu.study"  # a step of a hyperparameter study (`core.studies`)
PRIORITIES = 10  # Celery's Redis transport: 0 (first) … 9


def make_celery(settings: Settings) -> Celery:
    app = Celery("cornu", broker=settings.redis_url, backend=settings.redis_url)
    transport = {
        # A message not acknowledged this long is redelivered even while it runs.
        "visibility_timeout": settings.broker_visibility_timeout_seconds,
        "unacked_restore_interval": settings.broker_restore_interval_seconds,
        "unacked_restore_throttle": settings.broker_restore_throttle,
        "socket_timeout": settings.redis_timeout_seconds,
        "socket_connect_timeout": settings.redis_timeout_seconds,
        "priority_steps": list(range(PRIORITIES)),
        "sep": ":",
        "queue_order_strategy": "priority",
    }
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,  # Cornu keeps its own job records
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_send_task_events=settings.task_events,  # Flower reads these
        task_send_sent_event=settings.task_events,
        task_default_queue=settings.queue,
        broker_transport_options=transport,
        result_backend_transport_options=transport,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker outlives a Redis restart
        worker_cancel_long_running_tasks_on_connection_loss=False,
        broker_connection_timeout=settings.redis_timeout_seconds,
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0.0,
            "interval_step": 0.5,
            "interval_max": 1.0,
        },
        worker_hijack_root_logger=False,
    )
    return app


def accelerator_queue(queue: str, accelerator: str) -> str:
    """The training queue of one accelerator class: only its workers consume it."""
    return f"{queue}.{accelerator}"


def enqueue_training(
    app: Celery,
    job_id: str,
    queue: str,
    priority_of: Callable[[str], int] | None = None,
    accelerator_of: Callable[[str], str | None] | None = None,
) -> None:
    """Send the training task for `job_id`, at the priority `priority_of(job_id)` gives
    (0, the first, without it), to `queue` or, for a job asking for an accelerator class
    (`accelerator_of(job_id)`), to that class's queue; ServiceUnavailable if the broker
    is down."""
    try:
        priority = min(max(priority_of(job_id), 0), PRIORITIES - 1) if priority_of else 0
    except UNAVAILABLE:  # Redis away: the broker (the same Redis) will say so next
        priority = 0
    try:
        accelerator = accelerator_of(job_id) if accelerator_of else None
    except UNAVAILABLE as exc:  # never to the wrong class: the reaper sends it later
        raise ServiceUnavailable(f"job {job_id} was not queued: {exc}") from exc
    if accelerator:
        queue = accelerator_queue(queue, accelerator)
    try:
        app.send_task(TRAIN_TASK, args=[job_id], queue=queue, priority=priority)
    except OperationalError as exc:
        raise ServiceUnavailable(
            f"the job queue (broker) is unreachable, so job {job_id} was not queued: {exc}"
        ) from exc


def enqueue_call(app: Celery, call_id: str, queue: str, priority: int = 0) -> None:
    """Send call `call_id` (evaluate, predict, export) to the inference queue at
    `priority` (0 first, clamped to 9); ServiceUnavailable if the broker is down."""
    try:
        app.send_task(
            CALL_TASK, args=[call_id], queue=queue, priority=min(max(priority, 0), PRIORITIES - 1)
        )
    except OperationalError as exc:
        raise ServiceUnavailable(f"the job queue (broker) is unreachable: {exc}") from exc


def enqueue_study(app: Celery, study_id: str, queue: str) -> None:
    """Send a step of study `study_id` to the inference queue (first priority: a step is
    short and starts trials); ServiceUnavailable if the broker is down. The caller asks
    for the step first (`Studies.want`): a step already running takes it."""
    try:
        app.send_task(STUDY_TASK, args=[study_id], queue=queue, priority=0)
    except OperationalError as exc:
        raise ServiceUnavailable(f"the job queue (broker) is unreachable: {exc}") from exc
