"""Work on a trained job that runs on a worker (`core.store.calls`, `core.calls`): the
API records the call, queues it, waits for its answer without holding a thread, and
sends the worker's body on unparsed. No dataset or model is loaded in this process.

A call waiting for its answer holds one of its tenant's slots, as a live stream does
(the quota's `streams`: past it a 429), and is queued at the priority of how many the
tenant holds: one tenant cannot fill the inference queue, nor make another's call wait
behind all of its own. A call given up on (the wait timed out, the client went away)
is withdrawn: a worker that takes it later skips it.
"""

from __future__ import annotations

import secrets
from typing import Any

import anyio
from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from cornu.api.errors import PROBLEM_JSON, RETRY_AFTER_S
from cornu.core.config import Settings
from cornu.core.errors import ServiceUnavailable, TooManyStreams
from cornu.core.queue import enqueue_call
from cornu.core.store import Store
from cornu.core.store.feeds import SLOT_TTL_S, Feeds


async def on_worker(
    request: Request, tenant: str, job_id: str, kind: str, body: dict[str, Any]
) -> Response:
    """Run `kind` (evaluate, predict, export) of the tenant's job on a worker; its answer
    as the response. NotFound for a job that is not the tenant's (before anything is
    queued); TooManyStreams past the tenant's slots; ServiceUnavailable when no worker
    answers within `call_timeout_seconds`."""
    store: Store = request.app.state.store
    settings: Settings = request.app.state.settings
    feeds: Feeds = request.app.state.feeds
    await request.app.state.reads.job(tenant, job_id)  # 404 before queueing
    quota = await run_in_threadpool(store.quotas.get, tenant)
    slot = f"call-{secrets.token_hex(8)}"
    held = await feeds.acquire(tenant, slot, quota.streams)
    if not held:
        raise TooManyStreams(
            f"{quota.streams} live streams and calls (evaluate, predict, export) of yours are "
            "open already (your quota's `streams`); retry when one ends"
        )
    call_id, answer = None, None
    try:
        call_id = await run_in_threadpool(store.calls.create, tenant, job_id, kind, body)
        await run_in_threadpool(
            enqueue_call, request.app.state.celery, call_id, settings.inference_queue, held - 1
        )
        deadline = anyio.current_time() + settings.call_timeout_seconds
        while answer is None and (left := deadline - anyio.current_time()) > 0:
            answer = await feeds.answer(call_id, min(left, SLOT_TTL_S / 3))
            await feeds.renew(tenant, slot)
    finally:  # answered, timed out, or the client went away (this task cancelled)
        with anyio.CancelScope(shield=True):
            await feeds.release(tenant, slot)
            if call_id is not None and answer is None:
                await run_in_threadpool(store.calls.withdraw, call_id)
    if answer is None:
        raise ServiceUnavailable(
            f"no worker answered this {kind} within {settings.call_timeout_seconds:g} s "
            f"(is a worker taking the {settings.inference_queue!r} queue?); retry later"
        )
    status, content = answer
    headers = {"Retry-After": str(RETRY_AFTER_S)} if status in (429, 503) else None
    media_type = "application/json" if status < 400 else PROBLEM_JSON
    return Response(content, status_code=status, media_type=media_type, headers=headers)
