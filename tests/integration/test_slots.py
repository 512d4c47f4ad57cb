"""Job slots sharing one device (issue 13, item 3): `cornu worker --slots 2` trains two
small jobs at once on its CPU; a job is admitted to a slot only when its estimated memory
fits what the device has left, and a data-parallel job never shares its devices."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import numpy as np

from cornu.core.engine.memory import PROCESS_BYTES
from tests.conftest import Stack, start_worker
from tests.helpers import upload, wait_for_job


def job(http: httpx.Client, data: tuple[str, str], epochs: int = 3, **resources: Any) -> str:
    x, y = data
    spec = {
        "resources": resources,
        "model": {"layers": [
            {"type": "Dense", "units": 64, "activation": "relu", "input_shape": [32]},
            {"type": "Dense", "units": 4, "activation": "softmax"}]},
        "compile": {"loss": "sparse_categorical_crossentropy"},
        "fit": {"epochs": epochs, "batch_size": 8},
        "data": {"x": x, "y": y},
    }  # fmt: skip
    response = http.post("/v1/jobs", json=spec)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def started_at(http: httpx.Client, job_id: str) -> datetime:
    events = http.get(f"/v1/jobs/{job_id}/events").json()["events"]
    return datetime.fromisoformat(next(e for e in events if e["type"] == "started")["time"])


def test_two_slots_share_the_device_and_hold_what_jobs_need(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(workers=0)
    # Room for two small jobs (each about PROCESS_BYTES), not three.
    env = {**stack.env, "CORNU_SLOT_MEMORY_BYTES": str(int(2.5 * PROCESS_BYTES))}
    stack.services.append(start_worker(env, stack.directory / "slots.log", "--slots", "2"))
    with stack.client() as http:
        rng = np.random.default_rng(0)
        data = (upload(http, rng.normal(size=(3_000, 32)).astype(np.float32)),
                upload(http, rng.integers(0, 4, 3_000)))  # fmt: skip
        first, second = job(http, data), job(http, data)
        estimate = http.get(f"/v1/jobs/{first}").json()["memory_bytes"]
        assert PROCESS_BYTES < estimate < 1.1 * PROCESS_BYTES
        deadline, together = time.monotonic() + 60, False
        while not together and time.monotonic() < deadline:
            statuses = [http.get(f"/v1/jobs/{j}").json()["status"] for j in (first, second)]
            together = statuses == ["running", "running"]
            time.sleep(0.05)
        assert together, "the two slots never trained at once"
        for job_id in (first, second):
            assert wait_for_job(http, job_id, 120)["status"] == "succeeded"

        # A two-device job holds the whole device: a small job waits until it ends.
        wide = job(http, data, epochs=4, devices=2)
        deadline = time.monotonic() + 60
        while http.get(f"/v1/jobs/{wide}").json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        small = job(http, data, epochs=1)
        done = wait_for_job(http, wide, 180)
        assert done["status"] == "succeeded", done
        assert wait_for_job(http, small, 120)["status"] == "succeeded"
        assert started_at(http, small) >= datetime.fromisoformat(done["finished_at"])
