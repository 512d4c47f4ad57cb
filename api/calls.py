"""Work on a trained job that runs on a worker (`core.store.calls`, `core.calls`): the
API records the call, queues it, waits for its answer without holding a thread, and
sends the worker's body on unparsed. No dataset or model is loaded in this process."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from cornu.api.errors import PROBLEM_JSON, RETRY_AFTER_S
from cornu.core.config import Settings
from cornu.core.errors import ServiceUnavailable
from cornu.core.queue import enqueue_call
from cornu.core.store import Store
from cornu.core.store.feeds import Feeds


async def on_worker(
    request: Request, tenant: str, job_id: str, kind: str, body: dict[str, Any]
) -> Response:
    """Run `kind` (evaluate, predict, export) of the tenant's job on a worker; its answer
    as the response. NotFound for a job that is not the tenant's (before anything is
    queued); ServiceUnavailable when no worker answers within `call_timeout_seconds`."""
    store: Store = request.app.state.store
    settings: Settings = request.app.state.settings
    feeds: Feeds = request.app.state.feeds
    await run_in_threadpool(store.jobs.get, tenant, job_id)  # 404 before queueing
    call_id = await run_in_threadpool(store.calls.create, tenant, job_id, kind, body)
    await run_in_threadpool(
        enqueue_call, request.app.state.celery, call_id, settings.inference_queue
    )
    answer = await feeds.answer(call_id, settings.call_timeout_seconds)
    if answer is None:
        raise ServiceUnavailable(
            f"no worker answered this {kind} within {settings.call_timeout_seconds:g} s "
            f"(is a worker taking the {settings.inference_queue!r} queue?); retry later"
        )
    status, content = answer
    headers = {"Retry-After": str(RETRY_AFTER_S)} if status in (429, 503) else None
    media_type = "application/json" if status < 400 else PROBLEM_JSON
    return Response(content, status_code=status, media_type=media_type, headers=headers)
