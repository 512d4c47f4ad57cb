"""Server-Sent Events: a job's progress, epochs and status, live.

`GET /v1/jobs/{id}/stream` replays the job's feed and follows it: `progress` events a few
times a second while an epoch runs (epoch, batch, batches, running logs), one `epoch`
event per finished epoch (its logs and wall time), the job's status events (`started`,
`checkpoint`, `requeued`, `succeeded`, …), and a final `end` event with the job. Each
event's `id` is its Redis stream id: reconnecting with `Last-Event-ID` resumes after it,
without repeats.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

import anyio
from fastapi import APIRouter, Header
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from cornu.api.bodies import CheckedJSONRoute
from cornu.api.deps import FeedsDep, JobIdDep, StoreDep, TenantDep
from cornu.api.openapi import event_stream
from cornu.core.errors import SpecError, TooManyStreams
from cornu.core.spec import JobEventType, JobStatus, StreamEventType
from cornu.core.store import Store, keys
from cornu.core.store.feeds import SLOT_TTL_S, Feeds

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], route_class=CheckedJSONRoute)

STREAM_ID = re.compile(r"^(\d{1,20})-(\d{1,20})$")  # Redis: two 64-bit integers
WAIT_MS = 1000  # how long one read waits for news before the job's status is checked
FINAL = frozenset(status.value for status in JobStatus if status.finished)


def _stream_id(value: str) -> bool:
    """Whether `value` can be a Redis stream id (`<ms>-<seq>`, each below 2**64): anything
    else would fail in Redis after the response began."""
    found = STREAM_ID.match(value)
    return found is not None and all(int(part) < 2**64 for part in found.groups())


@router.get(
    "/{job_id}/stream",
    response_class=EventSourceResponse,
    responses=event_stream(JobEventType, StreamEventType),
)
async def stream(
    job_id: JobIdDep,
    tenant: TenantDep,
    store: StoreDep,
    feeds: FeedsDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=40)] = None,
) -> EventSourceResponse:
    """The job's live feed as Server-Sent Events, from `Last-Event-ID` on if given."""
    check_last_event_id(last_event_id)
    await run_in_threadpool(store.jobs.get, tenant, job_id)  # 404 before any event

    async def ended() -> str | None:
        job = await run_in_threadpool(store.jobs.get, tenant, job_id)
        return job.model_dump_json() if job.status.finished else None

    return await feed_response(
        store, feeds, tenant, keys.job_feed(job_id), FINAL, ended, last_event_id
    )


def check_last_event_id(value: str | None) -> None:
    """SpecError unless `value` (a `Last-Event-ID`) is None or a Redis stream id."""
    if value is not None and not _stream_id(value):
        raise SpecError(f"Last-Event-ID {value!r} is not an event id of this stream")


async def feed_response(
    store: Store,
    feeds: Feeds,
    tenant: str,
    feed: str,
    final: frozenset[str],
    ended: Callable[[], Awaitable[str | None]],
    last_event_id: str | None,
) -> EventSourceResponse:
    """A feed (a job's, a study's) as Server-Sent Events, from `last_event_id` on: each
    entry with its stream id as the event's id, then `end` with what `ended()` returns
    once it returns something (asked when the feed is quiet and after an event named in
    `final`). Holds one of the tenant's stream slots while it is open."""
    check_last_event_id(last_event_id)
    slot = secrets.token_hex(8)
    quota = await run_in_threadpool(store.quotas.get, tenant)
    if not await feeds.acquire(tenant, slot, quota.streams):
        raise TooManyStreams(
            f"{quota.streams} live streams of yours are open already (your quota's "
            "`streams`); close one, or retry when one ends"
        )
    try:
        await feeds.ready()  # a connection for it: 503 now, not after the 200
    except BaseException:
        await feeds.release(tenant, slot)
        raise

    async def events() -> AsyncIterator[ServerSentEvent]:
        try:
            async for event in follow():
                yield event
        finally:  # ended, or the client went away (then this task is being cancelled:
            # the release must not be)
            with anyio.CancelScope(shield=True):
                await feeds.release(tenant, slot)

    async def follow() -> AsyncIterator[ServerSentEvent]:
        after = last_event_id or "0-0"
        renewed = time.monotonic()
        while True:
            if time.monotonic() - renewed > SLOT_TTL_S / 3:
                await feeds.renew(tenant, slot)
                renewed = time.monotonic()
            found = await feeds.read_stream(feed, after, WAIT_MS)
            for entry_id, event, data in found:
                after = entry_id
                yield ServerSentEvent(data=data, event=event, id=entry_id)
            # The status is looked at when the feed is quiet, and at once after a final
            # status event (written with the status itself), so `end` follows it directly.
            if found and not any(event in final for _, event, _ in found):
                continue
            end = await ended()
            if end is not None:
                found = await feeds.read_stream(feed, after, None)  # what came meanwhile
                for entry_id, event, data in found:
                    yield ServerSentEvent(data=data, event=event, id=entry_id)
                yield ServerSentEvent(data=end, event=StreamEventType.end)
                return

    return EventSourceResponse(events(), ping=15)
