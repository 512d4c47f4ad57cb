"""One job end to end through real processes: HTTP → Redis/Celery → torch → results."""

from __future__ import annotations

import re
import time

import httpx
import numpy as np
from safetensors.numpy import load

from tests.conftest import Service
from tests.helpers import mlp_spec, upload, wait_for_job


def classification_data(http: httpx.Client, n: int = 600) -> tuple[str, str]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, n)
    x = rng.normal(size=(n, 8)).astype(np.float32) + 2 * np.eye(4, 8, dtype=np.float32)[y]
    return upload(http, x), upload(http, y)


def test_a_job_goes_queued_running_succeeded(http: httpx.Client, worker: Service) -> None:
    x, y = classification_data(http)
    spec = mlp_spec(x, y, features=8, classes=4, epochs=30)
    created = http.post("/v1/jobs", json=spec)
    assert created.status_code == 201, created.text
    job = created.json()
    assert job["status"] == "queued" and job["epochs"] == 30 and job["epoch"] == 0
    seen = ["queued"]
    deadline = time.monotonic() + 120
    while seen[-1] not in ("succeeded", "failed") and time.monotonic() < deadline:
        status = http.get(f"/v1/jobs/{job['id']}").json()["status"]
        if status != seen[-1]:
            seen.append(status)
        time.sleep(0.02)
    assert seen == ["queued", "running", "succeeded"]

    final = http.get(f"/v1/jobs/{job['id']}").json()
    assert final["epoch"] == 30 and final["error"] is None
    assert final["created_at"] <= final["started_at"] <= final["finished_at"]
    assert set(final["metrics"]) == {"loss", "accuracy"}

    metrics = http.get(f"/v1/jobs/{job['id']}/metrics").json()
    assert [e["epoch"] for e in metrics["epochs"]] == list(range(1, 31))
    assert all(e["seconds"] > 0 for e in metrics["epochs"])
    assert len(metrics["history"]["loss"]) == len(metrics["history"]["accuracy"]) == 30
    assert metrics["history"]["loss"][-1] < metrics["history"]["loss"][0]
    assert metrics["history"]["accuracy"][-1] > 0.8

    weights = http.get(f"/v1/jobs/{job['id']}/weights")
    assert weights.status_code == 200
    tensors = load(weights.content)
    # Dense(16) on 8 features, Dropout, Dense(4): (8*16 + 16) + (16*4 + 4) = 212
    assert sum(t.size for t in tensors.values()) == 212
    assert tensors["dense/kernel"].shape == (8, 16) and tensors["dense_1/bias"].shape == (4,)


def test_validation_data_is_reported_as_val_metrics(http: httpx.Client, worker: Service) -> None:
    x, y = classification_data(http)
    vx, vy = classification_data(http, n=100)
    spec = mlp_spec(x, y, features=8, classes=4, epochs=2)
    spec["fit"]["validation_data"] = {"x": vx, "y": vy}  # type: ignore[index]
    job = http.post("/v1/jobs", json=spec).json()
    assert wait_for_job(http, job["id"])["status"] == "succeeded"
    history = http.get(f"/v1/jobs/{job['id']}/metrics").json()["history"]
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 2 for v in history.values())


def test_a_nan_job_fails_readably_and_the_worker_trains_the_next(
    http: httpx.Client, worker: Service
) -> None:
    rng = np.random.default_rng(1)
    bad_x = rng.normal(size=(64, 8)).astype(np.float32)
    bad_x[9, 3] = np.nan
    y = upload(http, rng.integers(0, 4, 64))
    failed = http.post(
        "/v1/jobs", json=mlp_spec(upload(http, bad_x), y, features=8, classes=4)
    ).json()
    x_ok, y_ok = classification_data(http, n=64)
    after = http.post("/v1/jobs", json=mlp_spec(x_ok, y_ok, features=8, classes=4)).json()

    failed = wait_for_job(http, failed["id"])
    assert failed["status"] == "failed"
    assert failed["error"] == (
        "x contains NaN or infinite values (the first in sample 9); "
        "remove or impute them before training"
    )
    assert http.get(f"/v1/jobs/{failed['id']}/weights").status_code == 404
    assert wait_for_job(http, after["id"])["status"] == "succeeded"
    assert worker.process.poll() is None  # the same worker process, still serving


def test_a_loss_that_becomes_nan_fails_the_job(http: httpx.Client, worker: Service) -> None:
    x, y = classification_data(http, n=64)
    spec = mlp_spec(x, y, features=8, classes=4)
    spec["compile"] = {"optimizer": {"type": "SGD", "learning_rate": 1e38}, "loss": "mse"}
    spec["data"]["y"] = upload(http, np.eye(4, dtype=np.float32)[np.arange(64) % 4])  # type: ignore[index]
    job = wait_for_job(http, http.post("/v1/jobs", json=spec).json()["id"])
    assert job["status"] == "failed"
    assert re.search(
        r"the training loss became (nan|inf) in epoch 1; lower the learning rate", job["error"]
    )
