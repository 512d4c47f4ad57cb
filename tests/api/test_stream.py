"""GET /v1/jobs/{id}/stream: live progress and epochs as Server-Sent Events, resumable."""

from __future__ import annotations

import json
from typing import Any

import httpx
import numpy as np
from httpx_sse import connect_sse

from tests.conftest import Service
from tests.helpers import upload


def test_progress_before_the_end_and_a_resume_without_repeats(
    http: httpx.Client, worker: Service
) -> None:
    rng = np.random.default_rng(0)
    x, y = (
        upload(http, rng.normal(size=(6000, 64)).astype(np.float32)),
        upload(http, rng.integers(0, 4, 6000)),
    )
    layers = [
        {"type": "Dense", "units": 256, "activation": "relu", "input_shape": [64]},
        {"type": "Dense", "units": 4, "activation": "softmax"},
    ]
    spec = {
        "model": {"layers": layers},
        "compile": {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
        "fit": {"epochs": 6, "batch_size": 16, "seed": 0},
        "data": {"x": x, "y": y},
    }
    job = http.post("/v1/jobs", json=spec).json()
    url = f"/v1/jobs/{job['id']}/stream"
    first: list[Any] = []
    with connect_sse(http, "GET", url) as source:
        for event in source.iter_sse():
            first.append(event)
            if sum(e.event == "epoch" for e in first) == 2:
                break  # drop the connection in the middle of the run
    progress = [json.loads(e.data) for e in first if e.event == "progress"]
    assert progress, "progress events arrive while the job runs"
    assert {"epoch", "batch", "batches", "logs", "epochs"} <= set(progress[0])
    assert progress[0]["batches"] == 375 and "loss" in progress[0]["logs"]
    assert http.get(f"/v1/jobs/{job['id']}").json()["status"] == "running"

    rest: list[Any] = []
    headers = {"Last-Event-ID": first[-1].id}
    with connect_sse(http, "GET", url, headers=headers) as source:
        for event in source.iter_sse():
            rest.append(event)
    ids = [e.id for e in first + rest if e.event != "end"]  # `end` carries no id of its own
    assert len(ids) == len(set(ids))  # no duplicates across the reconnect
    epochs = [json.loads(e.data)["epoch"] for e in first + rest if e.event == "epoch"]
    assert epochs == [1, 2, 3, 4, 5, 6]
    assert rest[-1].event == "end" and json.loads(rest[-1].data)["status"] == "succeeded"
    assert any(e.event == "succeeded" for e in rest)


def test_a_finished_job_replays_and_ends(http: httpx.Client, worker: Service) -> None:
    rng = np.random.default_rng(1)
    x, y = upload(http, rng.normal(size=(32, 4))), upload(http, rng.integers(0, 2, 32))
    spec = {
        "model": {
            "layers": [{"type": "Dense", "units": 2, "activation": "softmax", "input_shape": [4]}]
        },
        "compile": {"loss": "sparse_categorical_crossentropy"},
        "fit": {"epochs": 2},
        "data": {"x": x, "y": y},
    }
    job = http.post("/v1/jobs", json=spec).json()
    with connect_sse(http, "GET", f"/v1/jobs/{job['id']}/stream") as source:
        names = [event.event for event in source.iter_sse()]
    assert names[0] == "queued" and names[-1] == "end"
    assert names.count("epoch") == 2


def test_a_bad_last_event_id_and_another_tenants_job(
    http: httpx.Client, api_url: str, new_api_key: Any
) -> None:
    unknown = "job_" + "0" * 26
    response = http.get(f"/v1/jobs/{unknown}/stream", headers={"Last-Event-ID": "nope"})
    assert response.status_code == 422
    assert http.get(f"/v1/jobs/{unknown}/stream").status_code == 404
    assert http.get("/v1/jobs/job_x/stream").status_code == 404  # no id is like that
