"""A job's `max_device_hours` (issue 13, item 6): past it the job stops like a timeout,
failed with that reason and its last checkpoint kept; the job reports the device-seconds
it trained."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from tests.helpers import upload, wait_for_job

pytestmark = pytest.mark.usefixtures("worker")


def test_a_job_stops_at_its_device_hours_and_keeps_its_checkpoint(http: httpx.Client) -> None:
    rng = np.random.default_rng(0)
    x = upload(http, rng.normal(size=(12_000, 64)).astype("float32"))
    y = upload(http, rng.integers(0, 4, 12_000))
    spec = {
        "resources": {"max_device_hours": 2 / 3600},  # two seconds
        "model": {"layers": [
            {"type": "Dense", "units": 256, "activation": "relu", "input_shape": [64]},
            {"type": "Dense", "units": 4, "activation": "softmax"}]},
        "compile": {"loss": "sparse_categorical_crossentropy"},
        "fit": {"epochs": 200, "batch_size": 8},
        "data": {"x": x, "y": y},
    }  # fmt: skip
    job = http.post("/v1/jobs", json=spec).json()
    done = wait_for_job(http, job["id"], timeout_s=180)
    assert done["status"] == "failed", done
    assert done["error"].startswith("max_device_hours") and "checkpoint is kept" in done["error"]
    assert done["epoch"] < 200
    assert 2 <= done["device_seconds"] < 30
    checkpoints = http.get(f"/v1/jobs/{job['id']}/checkpoints").json()["checkpoints"]
    assert checkpoints, "the work done is kept"
    bad = {**spec, "resources": {"max_device_hours": 0}}
    assert http.post("/v1/jobs", json=bad).status_code == 422
