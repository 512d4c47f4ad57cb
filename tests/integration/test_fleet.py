"""The fleet (issue 13, item 1): two workers of different accelerator classes; a job
asking for one runs only on that one, a job asking for any runs on either, an impossible
request is a 422 that lists the classes, a class with no worker up queues its jobs with
an event saying so, and `GET /v1/fleet` (admin) lists both workers with heartbeats. A
worker serves its own metrics (epoch and batch times, jobs ended) on `--metrics-port`,
and Celery's task events go out for Flower (item 5)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import redis

from cornu.core.embedded import free_port
from cornu.core.store import Store
from tests.conftest import Stack, start_worker
from tests.helpers import upload, wait_for_job


def spec(x: str, y: str, **resources: Any) -> dict[str, Any]:
    return {
        "resources": resources,
        "model": {"layers": [{"type": "Dense", "units": 2, "input_shape": [4]}]},
        "compile": {"loss": "mse"},
        "fit": {"epochs": 1},
        "data": {"x": x, "y": y},
    }


def ran_on(http: httpx.Client, job_id: str) -> int:
    """The pid of the process that started the job."""
    events = http.get(f"/v1/jobs/{job_id}/events").json()["events"]
    started = [e for e in events if e["type"] == "started"]
    return int(started[-1]["worker"].rsplit(":", 1)[1])


def test_jobs_go_to_the_accelerator_class_they_ask_for(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=0)
    metrics_port = free_port()
    alpha = start_worker(stack.env, stack.directory / "alpha.log", "--accelerator", "alpha",
                         "--metrics-port", str(metrics_port))  # fmt: skip
    beta = start_worker(stack.env, stack.directory / "beta.log", "--accelerator", "beta")
    stack.services += [alpha, beta]
    store = Store.from_url(stack.redis_url)
    admin_key, _ = store.tenants.issue("ops", scope="admin")
    store.close()
    with stack.client() as http:
        deadline = time.monotonic() + 30
        admin = {"Authorization": f"Bearer {admin_key}"}
        while len((fleet := http.get("/v1/fleet", headers=admin).json())["workers"]) < 2:
            assert time.monotonic() < deadline, fleet
            time.sleep(0.2)
        assert {w["accelerator"] for w in fleet["workers"]} == {"alpha", "beta"}
        assert all(time.time() - w["last_heartbeat"] < 30 for w in fleet["workers"])
        assert {c["name"]: c["workers"] for c in fleet["classes"]} == {"alpha": 1, "beta": 1}
        assert http.get("/v1/fleet").status_code == 403  # not an admin key

        rng = np.random.default_rng(0)
        x = upload(http, rng.normal(size=(64, 4)).astype("float32"))
        y = upload(http, rng.normal(size=(64, 2)).astype("float32"))
        pids = {"alpha": set(alpha.training_children()), "beta": set(beta.training_children())}
        events = redis.Redis.from_url(stack.redis_url).pubsub()
        events.psubscribe("*celeryev*")  # Celery's task events, as Flower reads them
        for name in ("alpha", "beta", "alpha", "beta"):
            job = http.post("/v1/jobs", json=spec(x, y, accelerator=name)).json()
            assert wait_for_job(http, job["id"])["status"] == "succeeded"
            assert ran_on(http, job["id"]) in pids[name], name
        channels, deadline = set(), time.monotonic() + 2
        while time.monotonic() < deadline:  # workers' heartbeats arrive too: read a while
            if (message := events.get_message(timeout=0.2)) is not None:
                channels.add(message["channel"].decode())
        assert any("task" in c for c in channels), channels
        events.close()

        # The alpha worker's own metrics: its two jobs' epochs and batches.
        scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
        rows = [line.split(" ") for line in scraped.splitlines() if not line.startswith("#")]
        values = {row[0]: float(row[1]) for row in rows if len(row) == 2}
        assert values["cornu_epoch_seconds_count"] == 2, scraped
        assert values["cornu_batch_seconds_count"] == 4  # 64 samples in batches of 32
        assert values['cornu_worker_jobs_total{status="succeeded"}'] == 2
        anywhere = http.post("/v1/jobs", json=spec(x, y)).json()
        assert wait_for_job(http, anywhere["id"])["status"] == "succeeded"

        impossible = http.post("/v1/jobs", json=spec(x, y, accelerator="gamma"))
        assert impossible.status_code == 422
        detail = impossible.json()["detail"]
        assert "gamma" in detail and "alpha" in detail and "beta" in detail
        assert impossible.json()["errors"][0]["loc"] == ["resources", "accelerator"]
        huge = http.post("/v1/jobs", json=spec(x, y, accelerator="alpha", min_memory_gb=1e5))
        assert huge.status_code == 422 and "min_memory_gb" in huge.json()["detail"]
        cores = os.cpu_count() or 1  # a CPU worker's devices: a replica per core at most
        many = http.post("/v1/jobs", json=spec(x, y, devices=cores + 1))
        assert many.status_code == 422 and f"devices {cores + 1}" in many.json()["detail"]

        beta.stop()  # its class stays known; its jobs wait for one
        stack.services.remove(beta)
        deadline = time.monotonic() + 30
        while any(w["accelerator"] == "beta"
                  for w in http.get("/v1/fleet", headers=admin).json()["workers"]):  # fmt: skip
            assert time.monotonic() < deadline
            time.sleep(0.2)
        waiting = http.post("/v1/jobs", json=spec(x, y, accelerator="beta"))
        assert waiting.status_code == 201, waiting.text
        events = http.get(f"/v1/jobs/{waiting.json()['id']}/events").json()["events"]
        assert any(e["type"] == "waiting_for_worker" for e in events)
        time.sleep(2)
        assert http.get(f"/v1/jobs/{waiting.json()['id']}").json()["status"] == "queued"
