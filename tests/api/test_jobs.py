"""POST /v1/jobs refuses what cannot train (422, nothing queued) and isolates tenants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest

from tests.helpers import mlp_spec, upload, wait_for_job


@pytest.fixture
def data(http: httpx.Client) -> dict[str, str]:
    rng = np.random.default_rng(0)
    return {
        "x": upload(http, rng.normal(size=(40, 8)).astype(np.float32)),
        "y": upload(http, rng.integers(0, 4, 40)),
        "onehot7": upload(http, np.eye(7, dtype=np.float32)[rng.integers(0, 7, 40)]),
    }


def refused(http: httpx.Client, spec: dict[str, Any]) -> dict[str, Any]:
    response = http.post("/v1/jobs", json=spec)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert set(problem) >= {"type", "title", "status", "detail"}
    assert http.get("/v1/jobs").json()["jobs"] == []  # nothing was queued
    return problem


def test_unknown_layer_lists_the_valid_ones(http: httpx.Client, data: dict[str, str]) -> None:
    spec = mlp_spec(data["x"], data["y"], features=8, classes=4)
    spec["model"]["layers"][1] = {"type": "Dropuot", "rate": 0.1}  # type: ignore[index]
    problem = refused(http, spec)
    assert problem["errors"][0]["loc"] == ["model", "layers", 1]
    assert "unknown layer type 'Dropuot'; did you mean 'Dropout'?" in problem["detail"]
    assert (
        "valid layer types: Activation, " in problem["detail"] and ", Dense, " in problem["detail"]
    )


def test_a_bad_argument(http: httpx.Client, data: dict[str, str]) -> None:
    spec = mlp_spec(data["x"], data["y"], features=8, classes=4)
    spec["model"]["layers"][0]["units"] = -3  # type: ignore[index]
    problem = refused(http, spec)
    assert problem["detail"] == "model.layers[0].units: Dense: Input should be greater than 0"


def test_one_hot_targets_narrower_than_the_softmax(
    http: httpx.Client, data: dict[str, str]
) -> None:
    spec = mlp_spec(data["x"], data["onehot7"], features=8, classes=10)
    spec["compile"]["loss"] = "categorical_crossentropy"  # type: ignore[index]
    problem = refused(http, spec)
    assert problem["errors"][0]["loc"] == ["data", "y"]
    assert (
        "one-hot targets y have shape (7,) per sample but the model outputs (10,)"
        in problem["detail"]
    )


def test_a_dataset_that_does_not_exist(http: httpx.Client, data: dict[str, str]) -> None:
    problem = refused(http, mlp_spec(data["x"], "ds_missing", features=8, classes=4))
    assert problem["detail"] == (
        "data.y: no dataset 'ds_missing'; upload it first (POST /v1/datasets)"
    )


def test_another_tenants_dataset_cannot_be_used(
    http: httpx.Client, api_url: str, new_api_key: Callable[[], str], data: dict[str, str]
) -> None:
    with httpx.Client(
        base_url=api_url, headers={"Authorization": f"Bearer {new_api_key()}"}
    ) as other:
        response = other.post(
            "/v1/jobs", json=mlp_spec(data["x"], data["y"], features=8, classes=4)
        )
    assert response.status_code == 422 and "no dataset" in response.json()["detail"]


def test_an_input_shape_that_does_not_fit_x(http: httpx.Client, data: dict[str, str]) -> None:
    problem = refused(http, mlp_spec(data["x"], data["y"], features=9, classes=4))
    assert "x holds samples of shape (8,) but the model's input shape is (9,)" in problem["detail"]


def test_limits_are_422_with_the_limit(http: httpx.Client, data: dict[str, str]) -> None:
    spec = mlp_spec(data["x"], data["y"], features=8, classes=4, epochs=10**6)
    assert (
        "epochs: 1000000 is more than this service allows (10000)" in refused(http, spec)["detail"]
    )


def test_malformed_json_is_a_problem_too(http: httpx.Client) -> None:
    response = http.post(
        "/v1/jobs", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert (
        response.status_code == 422
        and response.headers["content-type"] == "application/problem+json"
    )


def test_another_tenants_job_is_404(
    http: httpx.Client,
    api_url: str,
    new_api_key: Callable[[], str],
    data: dict[str, str],
    worker: object,
) -> None:
    job = http.post("/v1/jobs", json=mlp_spec(data["x"], data["y"], features=8, classes=4))
    assert job.status_code == 201
    job_id = job.json()["id"]
    with httpx.Client(
        base_url=api_url, headers={"Authorization": f"Bearer {new_api_key()}"}
    ) as other:
        for path in ("", "/metrics", "/weights"):
            response = other.get(f"/v1/jobs/{job_id}{path}")
            assert response.status_code == 404, path
            assert response.json()["detail"] == f"no job '{job_id}'"
        assert other.get("/v1/jobs").json()["jobs"] == []


def test_listing_is_paginated_newest_first(
    http: httpx.Client, data: dict[str, str], worker: object
) -> None:
    spec = mlp_spec(data["x"], data["y"], features=8, classes=4, epochs=1)
    ids = [http.post("/v1/jobs", json=spec).json()["id"] for _ in range(3)]
    page = http.get("/v1/jobs", params={"limit": 2}).json()
    assert [j["id"] for j in page["jobs"]] == ids[::-1][:2]
    rest = http.get("/v1/jobs", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [j["id"] for j in rest["jobs"]] == ids[:1] and rest["next_cursor"] is None
    assert http.get("/v1/jobs", params={"limit": 1000}).status_code == 422


def test_initial_weights_continue_a_finished_job_and_must_fit_the_model(
    http: httpx.Client, api_url: str, new_api_key: Callable[[], str], worker: object
) -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 400)
    x = upload(http, rng.normal(size=(400, 8)).astype(np.float32) + 2 * np.eye(4, 8)[labels])
    y = upload(http, labels)
    first = http.post("/v1/jobs", json=mlp_spec(x, y, features=8, classes=4, epochs=5)).json()
    assert wait_for_job(http, first["id"])["status"] == "succeeded"

    again = mlp_spec(x, y, features=8, classes=4, epochs=1)
    again["fit"]["initial_weights"] = first["id"]  # type: ignore[index]
    second = http.post("/v1/jobs", json=again)
    assert second.status_code == 201, second.text
    assert wait_for_job(http, second.json()["id"])["status"] == "succeeded"
    losses = [
        http.get(f"/v1/jobs/{job_id}/metrics").json()["history"]["loss"]
        for job_id in (first["id"], second.json()["id"])
    ]
    # Same seed and data: only the starting weights differ, and they are the trained ones.
    assert losses[1][0] < losses[0][-1] * 1.05 and losses[1][0] < losses[0][0] * 0.8

    def refusal(spec: dict[str, Any], client: httpx.Client = http) -> str:
        response = client.post("/v1/jobs", json=spec)
        assert response.status_code == 422, response.text
        (error,) = response.json()["errors"]
        assert error["loc"] == ["fit", "initial_weights"]
        return str(error["msg"])

    wider = mlp_spec(x, y, features=8, classes=4, epochs=1)
    wider["model"]["layers"][0]["units"] = 32  # type: ignore[index]
    wider["fit"]["initial_weights"] = first["id"]  # type: ignore[index]
    assert "layer 'dense' (index 0): kernel is (8, 32) here but (8, 16) in that job" in refusal(
        wider
    )
    unknown = "job_" + "0" * 26
    again["fit"]["initial_weights"] = unknown  # type: ignore[index]
    hint = "; initial_weights names a job of yours that succeeded"
    assert refusal(again) == f"no job {unknown!r}{hint}"
    with httpx.Client(
        base_url=api_url, headers={"Authorization": f"Bearer {new_api_key()}"}
    ) as other:  # another tenant's job is as unknown as one that never was
        theirs = mlp_spec(
            upload(other, np.zeros((4, 8), np.float32)),
            upload(other, np.zeros(4)),
            features=8,
            classes=4,
        )
        theirs["fit"]["initial_weights"] = first["id"]  # type: ignore[index]
        assert refusal(theirs, other) == f"no job {first['id']!r}{hint}"
    again["fit"]["initial_weights"] = "dense_1"  # type: ignore[index]
    assert http.post("/v1/jobs", json=again).status_code == 422
