"""Live streams per tenant: past CORNU_MAX_STREAMS_PER_TENANT a stream is a 429 before its
first byte, another tenant's streams are untouched, and a closed stream frees its slot.
Jobs stay queued (the stack has no worker), so their streams stay open."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import httpx
import numpy as np

from tests.conftest import Stack, wait_until
from tests.helpers import mlp_spec, upload

LIMIT = 3


def queued_job(http: httpx.Client) -> str:
    x = upload(http, np.zeros((8, 2), np.float32))
    y = upload(http, np.zeros(8, np.int64))
    response = http.post("/v1/jobs", json=mlp_spec(x, y, features=2, classes=2))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_a_tenant_at_its_stream_limit_cannot_stop_another_tenants_stream(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(workers=0, CORNU_MAX_STREAMS_PER_TENANT=str(LIMIT))
    with stack.client() as greedy, stack.client() as other, contextlib.ExitStack() as held:
        job = queued_job(greedy)
        path = f"/v1/jobs/{job}/stream"
        opened = [held.enter_context(greedy.stream("GET", path)) for _ in range(LIMIT)]
        assert all(r.status_code == 200 for r in opened)

        refused = greedy.get(path)
        assert refused.status_code == 429, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"]
        assert "live streams of yours are open already" in refused.json()["detail"]

        theirs = queued_job(other)
        with other.stream("GET", f"/v1/jobs/{theirs}/stream") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            first = next(response.iter_lines())
            assert first.startswith(("id:", "event:", "data:", ":")), first

        opened[0].close()  # the client goes away: its slot is freed

        def another_opens() -> bool:
            with greedy.stream("GET", path) as response:
                return response.status_code == 200

        started = time.monotonic()
        wait_until(another_opens, 20, "a closed stream to free its slot")
        print(f"slot freed within {time.monotonic() - started:.1f} s")


def test_two_hundred_streams_of_one_tenant_leave_another_tenants_stream_alone(
    make_stack: Callable[..., Stack],
) -> None:
    """A tenant whose quota allows 200 streams opens 200 at once; past them its next is a
    429, and another tenant's stream opens and carries its first event as usual."""
    import asyncio

    from cornu.core.spec import QuotaChange
    from cornu.core.store import Store

    many = 200
    stack = make_stack(workers=0)
    with stack.client() as greedy, stack.client() as other:
        store = Store.from_url(stack.redis_url)
        store.quotas.set(greedy.get("/v1/usage").json()["tenant"], QuotaChange(streams=many))
        store.close()
        job = queued_job(greedy)
        theirs = queued_job(other)

        async def hold_and_check() -> tuple[list[int], int, int, str]:
            limits = httpx.Limits(max_connections=many + 10)
            async with httpx.AsyncClient(base_url=stack.api_url, headers=greedy.headers,
                                         limits=limits, timeout=30) as client:  # fmt: skip
                async with contextlib.AsyncExitStack() as held:
                    opened = await asyncio.gather(*(
                        held.enter_async_context(client.stream("GET", f"/v1/jobs/{job}/stream"))
                        for _ in range(many)
                    ))  # fmt: skip
                    statuses = [r.status_code for r in opened]
                    extra = (await client.get(f"/v1/jobs/{job}/stream")).status_code
                    usage = greedy.get("/v1/usage").json()["streams"]
                    with other.stream("GET", f"/v1/jobs/{theirs}/stream") as response:
                        first = next(response.iter_lines())
                        return statuses, extra, usage, f"{response.status_code} {first}"

        statuses, extra, open_now, theirs_answer = asyncio.run(hold_and_check())
    assert statuses == [200] * many
    assert extra == 429
    assert open_now == many
    status, first = theirs_answer.split(" ", 1)
    assert status == "200" and first.startswith(("id:", "event:", "data:", ":")), theirs_answer
