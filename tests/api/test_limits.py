"""Every limit is a clear 4xx before work starts (upload bytes: test_datasets.py; a job's
run time: integration/test_faults.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest

from tests.conftest import Stack
from tests.helpers import mlp_spec, upload


@pytest.fixture
def data(http: httpx.Client) -> dict[str, str]:
    rng = np.random.default_rng(0)
    return {"x": upload(http, rng.normal(size=(20, 8))), "y": upload(http, rng.integers(0, 4, 20))}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fit": {"epochs": 10_001}}, "epochs: 10001 is more than this service allows (10000)"),
        (
            {"fit": {"batch_size": 65_537}},
            "batch_size: 65537 is more than this service allows (65536)",
        ),
        (
            {"layers": [{"type": "Dense", "units": 30_000, "input_shape": [8]},
                        {"type": "Dense", "units": 10_000}]},
            "parameters: 300280000 is more than this service allows (200000000)",
        ),
    ],
)  # fmt: skip
def test_spec_limits_are_422_with_the_limit(
    http: httpx.Client, data: dict[str, str], change: dict[str, Any], message: str
) -> None:
    spec = mlp_spec(data["x"], data["y"], features=8, classes=4)
    if "fit" in change:
        spec["fit"] = {**spec["fit"], **change["fit"]}  # type: ignore[dict-item]
    else:
        spec["model"]["layers"] = change["layers"]  # type: ignore[index]
        spec["compile"]["loss"] = "mse"  # type: ignore[index]
        spec["data"]["y"] = upload(http, np.zeros((20, 10_000), dtype=np.float32))  # type: ignore[index]
    response = http.post("/v1/jobs", json=spec)
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_too_many_active_jobs_is_429_with_retry_after(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=0, CORNU_MAX_ACTIVE_JOBS="2")  # no worker: jobs stay queued
    with stack.client() as client:
        spec = mlp_spec(
            upload(client, np.zeros((4, 8))), upload(client, np.zeros(4)), features=8, classes=4
        )
        assert [client.post("/v1/jobs", json=spec).status_code for _ in range(2)] == [201, 201]
        refused = client.post("/v1/jobs", json=spec)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "5"
        assert refused.json()["type"] == "urn:cornu:problem:too-many-jobs"
        assert "already has 2 jobs queued or running" in refused.json()["detail"]
        first = client.get("/v1/jobs").json()["jobs"][-1]
        assert client.post(f"/v1/jobs/{first['id']}/cancel").status_code == 200
        assert client.post("/v1/jobs", json=spec).status_code == 201  # room again
