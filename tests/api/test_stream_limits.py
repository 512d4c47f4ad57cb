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
