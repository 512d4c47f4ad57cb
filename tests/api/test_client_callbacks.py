"""What the SDK's client-side Keras features need from a job, over real HTTP with a real
worker: waiting between epochs for the client's callbacks, Keras's stop_training from
the client, weights given as Keras's arrays, and jobs that train nothing (epochs 0)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest
import safetensors.numpy

from tests.conftest import Stack
from tests.helpers import mlp_spec, upload, wait_for_job


@pytest.fixture
def data(http: httpx.Client) -> dict[str, str]:
    rng = np.random.default_rng(0)
    return {
        "x": upload(http, rng.normal(size=(64, 8)).astype(np.float32)),
        "y": upload(http, rng.integers(0, 4, 64)),
    }


def _epochs_done(http: httpx.Client, job_id: str) -> int:
    done: int = http.get(f"/v1/jobs/{job_id}").json()["epoch"]
    return done


def _wait_epoch(http: httpx.Client, job_id: str, epoch: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while _epochs_done(http, job_id) < epoch:
        assert time.monotonic() < deadline, f"epoch {epoch} did not end in {timeout_s}s"
        time.sleep(0.05)


def test_a_job_waits_between_epochs_for_the_clients_callbacks(
    http: httpx.Client, data: dict[str, str], worker: object
) -> None:
    spec: dict[str, Any] = mlp_spec(data["x"], data["y"], features=8, classes=4, epochs=4)
    spec["fit"]["client_callbacks"] = True
    job_id = http.post("/v1/jobs", json=spec).json()["id"]
    _wait_epoch(http, job_id, 1)
    time.sleep(1.5)  # epochs take milliseconds here: without an ack, none follows
    assert _epochs_done(http, job_id) == 1
    for epoch in (1, 2):
        assert http.post(f"/v1/jobs/{job_id}/epochs/{epoch}/ack").status_code == 204
        _wait_epoch(http, job_id, epoch + 1)
    # The client's callbacks set stop_training after epoch 3: the job ends there, a success.
    assert http.post(f"/v1/jobs/{job_id}/stop").status_code == 202
    job = wait_for_job(http, job_id)
    assert job["status"] == "succeeded" and job["epoch"] == 3
    assert len(http.get(f"/v1/jobs/{job_id}/metrics").json()["history"]["loss"]) == 3
    weights = safetensors.numpy.load(http.get(f"/v1/jobs/{job_id}/weights").content)
    assert {name: w.shape for name, w in weights.items()} == {
        "dense/kernel": (8, 16), "dense/bias": (16,), "dense_1/kernel": (16, 4),
        "dense_1/bias": (4,),
    }  # fmt: skip
    kinds = [e["type"] for e in http.get(f"/v1/jobs/{job_id}/events").json()["events"]]
    assert "stop_training_requested" in kinds and kinds[-1] == "succeeded"
    late = http.post(f"/v1/jobs/{job_id}/epochs/3/ack")
    assert late.status_code == 409 and "already succeeded" in late.json()["detail"]


def test_a_rate_that_follows_a_schedule_cannot_be_set(
    http: httpx.Client, data: dict[str, str]
) -> None:
    spec: dict[str, Any] = mlp_spec(data["x"], data["y"], features=8, classes=4, epochs=4)
    spec["compile"]["optimizer"] = {
        "type": "SGD",
        "learning_rate": {
            "type": "ExponentialDecay",
            "initial_learning_rate": 0.1,
            "decay_steps": 10,
            "decay_rate": 0.9,
        },
    }
    spec["fit"]["client_callbacks"] = True
    job_id = http.post("/v1/jobs", json=spec).json()["id"]
    refused = http.post(f"/v1/jobs/{job_id}/epochs/1/ack", json={"learning_rate": 0.01})
    assert refused.status_code == 422 and "follows a learning-rate schedule" in refused.text
    assert http.post(f"/v1/jobs/{job_id}/epochs/1/ack").status_code == 204
    http.post(f"/v1/jobs/{job_id}/cancel")


def test_stop_training_ends_a_running_job_after_its_current_batch(
    http: httpx.Client, data: dict[str, str], worker: object
) -> None:
    big = upload(http, np.random.default_rng(1).normal(size=(20_000, 8)).astype(np.float32))
    labels = upload(http, np.random.default_rng(2).integers(0, 4, 20_000))
    spec: dict[str, Any] = mlp_spec(big, labels, features=8, classes=4, epochs=500)
    spec["fit"]["batch_size"] = 8
    job_id = http.post("/v1/jobs", json=spec).json()["id"]
    _wait_epoch(http, job_id, 1)
    http.post(f"/v1/jobs/{job_id}/stop")
    job = wait_for_job(http, job_id, timeout_s=30)
    assert job["status"] == "succeeded" and 1 <= job["epoch"] < 500  # Keras: epoch cut short
    assert http.post(f"/v1/jobs/{job_id}/stop").status_code == 409


def test_keras_weights_from_the_client_start_a_job_that_trains_nothing(
    http: httpx.Client,
) -> None:
    """No worker runs here: a job of epochs 0 runs in the API and comes back finished."""
    kernel = np.arange(6, dtype=np.float32).reshape(3, 2)
    bias = np.array([0.5, -0.5], dtype=np.float32)
    spec = {
        "model": {"layers": [{"type": "Dense", "units": 2, "input_shape": [3]}]},
        "fit": {
            "epochs": 0,
            "initial_weights": {
                "dense/kernel": upload(http, kernel),
                "dense/bias": upload(http, bias),
            },
        },
    }
    created = http.post("/v1/jobs", json=spec)
    assert created.status_code == 201, created.text
    job = created.json()
    assert job["status"] == "succeeded" and job["epoch"] == 0
    x = [[1.0, 2.0, 3.0]]
    predicted = http.post(f"/v1/jobs/{job['id']}/predict", json={"inputs": x}).json()
    np.testing.assert_allclose(predicted["predictions"], np.array(x) @ kernel + bias, rtol=1e-6)
    refused = http.post(f"/v1/jobs/{job['id']}/evaluate", json={"x": "a", "y": "b"})
    assert refused.status_code == 422 and "never compiled" in refused.json()["detail"]


def test_a_model_past_the_inline_bound_gets_its_first_weights_on_a_worker(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(workers=0, CORNU_MAX_INLINE_PARAMS="5")  # a Dense(2) on 3 has 8
    spec = {"model": {"layers": [{"type": "Dense", "units": 2, "input_shape": [3]}]},
            "fit": {"epochs": 0}}  # fmt: skip
    with stack.client() as http:
        created = http.post("/v1/jobs", json=spec)
        assert created.status_code == 201 and created.json()["status"] == "queued"
        stack.start_worker()
        assert wait_for_job(http, created.json()["id"])["status"] == "succeeded"


def test_weights_that_do_not_fit_the_model_are_refused_before_queueing(
    http: httpx.Client,
) -> None:
    spec = {
        "model": {"layers": [{"type": "Dense", "units": 2, "input_shape": [3]}]},
        "fit": {
            "epochs": 0,
            "initial_weights": {"dense/kernel": upload(http, np.zeros((2, 3), np.float32))},
        },
    }
    response = http.post("/v1/jobs", json=spec)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "'dense/kernel' is (3, 2) here but (2, 3) in what you gave" in detail
    assert "'dense/bias' is missing" in detail


def test_a_job_that_trains_needs_compile_and_data(http: httpx.Client) -> None:
    spec = {"model": {"layers": [{"type": "Dense", "units": 2, "input_shape": [3]}]}}
    response = http.post("/v1/jobs", json=spec)
    assert response.status_code == 422
    assert sorted(e["loc"][0] for e in response.json()["errors"]) == ["compile", "data"]
