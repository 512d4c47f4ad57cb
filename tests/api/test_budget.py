"""Usage and cost (issue 13, item 6): a job reports the device-seconds it trained and
their cost at its worker's price; `GET /v1/usage` sums them per tenant and per period;
past `max_device_hours` or `max_cost` a job stops like a timeout, failed with that reason
and its last checkpoint kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pytest

from cornu.core.config import Settings
from cornu.core.errors import SpecError
from cornu.core.spec import JobSpec
from cornu.core.store import Store
from cornu.core.submission import check_resources
from tests.conftest import SESSION_PRICES
from tests.cornu.test_cli import cornu_cli
from tests.helpers import upload, wait_for_job

pytestmark = pytest.mark.usefixtures("worker")

PRICE_PER_SECOND = SESSION_PRICES["cpu"] / 3600


def long_job(http: httpx.Client, resources: dict[str, Any]) -> dict[str, Any]:
    """A job that would train for minutes, limited by `resources`."""
    rng = np.random.default_rng(0)
    x = upload(http, rng.normal(size=(12_000, 64)).astype("float32"))
    y = upload(http, rng.integers(0, 4, 12_000))
    return {
        "resources": resources,
        "model": {"layers": [
            {"type": "Dense", "units": 256, "activation": "relu", "input_shape": [64]},
            {"type": "Dense", "units": 4, "activation": "softmax"}]},
        "compile": {"loss": "sparse_categorical_crossentropy"},
        "fit": {"epochs": 200, "batch_size": 8},
        "data": {"x": x, "y": y},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("resources", "reason"),
    [({"max_device_hours": 2 / 3600}, "max_device_hours"), ({"max_cost": 0.002}, "max_cost")],
    ids=["device-hours", "cost"],
)
def test_a_job_stops_at_its_budget_and_keeps_its_checkpoint(
    http: httpx.Client, resources: dict[str, Any], reason: str
) -> None:
    spec = long_job(http, resources)  # two seconds either way
    job = http.post("/v1/jobs", json=spec).json()
    done = wait_for_job(http, job["id"], timeout_s=180)
    assert done["status"] == "failed", done
    assert done["error"].startswith(reason) and "checkpoint is kept" in done["error"]
    assert done["epoch"] < 200
    assert 2 <= done["device_seconds"] < 30
    assert done["cost"] == pytest.approx(done["device_seconds"] * PRICE_PER_SECOND, rel=1e-4)
    checkpoints = http.get(f"/v1/jobs/{job['id']}/checkpoints").json()["checkpoints"]
    assert checkpoints, "the work done is kept"
    bad = {**spec, "resources": dict.fromkeys(resources, 0)}
    assert http.post("/v1/jobs", json=bad).status_code == 422


def test_usage_sums_the_jobs_device_seconds_and_cost(http: httpx.Client) -> None:
    rng = np.random.default_rng(1)
    x = upload(http, rng.normal(size=(2_000, 16)).astype("float32"))
    y = upload(http, rng.normal(size=(2_000, 1)).astype("float32"))
    spec = {
        "model": {"layers": [{"type": "Dense", "units": 32, "input_shape": [16]},
                             {"type": "Dense", "units": 1}]},
        "compile": {"optimizer": "adam", "loss": "mse"},
        "fit": {"epochs": 3, "batch_size": 16},
        "data": {"x": x, "y": y},
    }  # fmt: skip
    ids = [http.post("/v1/jobs", json=spec).json()["id"] for _ in range(2)]
    jobs = [wait_for_job(http, job_id, timeout_s=120) for job_id in ids]
    assert all(job["status"] == "succeeded" for job in jobs), jobs
    seconds = sum(job["device_seconds"] for job in jobs)
    cost = sum(job["cost"] for job in jobs)
    assert seconds > 0

    usage = http.get("/v1/usage").json()
    assert usage["device_seconds"] == pytest.approx(seconds, abs=2e-3)
    assert usage["cost"] == pytest.approx(cost, abs=1e-5)
    assert usage["cost"] == pytest.approx(seconds * PRICE_PER_SECOND, rel=1e-3)
    assert usage["currency"] == "USD"
    period = usage["period"]
    today = datetime.now(UTC).date()
    assert period["start"] == today.replace(day=1).isoformat()
    assert period["end"] == today.isoformat()
    assert period["device_seconds"] == pytest.approx(seconds, abs=2e-3)
    assert period["by_accelerator"]["cpu"]["device_seconds"] == pytest.approx(seconds, abs=2e-3)
    assert [day["date"] for day in period["days"]] == [today.isoformat()]

    earlier = today - timedelta(days=40)
    before = http.get("/v1/usage", params={"start": earlier, "end": earlier}).json()["period"]
    assert before == {"start": earlier.isoformat(), "end": earlier.isoformat(),
                      "device_seconds": 0.0, "cost": None, "by_accelerator": {},
                      "days": []}  # fmt: skip
    backwards = http.get("/v1/usage", params={"start": today, "end": earlier})
    assert backwards.status_code == 422 and "after" in backwards.json()["detail"]
    too_long = http.get("/v1/usage", params={"start": today - timedelta(days=400)})
    assert too_long.status_code == 422 and "366" in too_long.json()["detail"]

    # `cornu usage`: the period by class, as device-hours and money.
    key = http.headers["Authorization"].removeprefix("Bearer ")
    printed = cornu_cli("usage", "--url", str(http.base_url), "--api-key", key,
                        "--start", today.replace(day=1).isoformat())  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    [cpu] = [line.split() for line in printed.stdout.splitlines() if line.startswith("cpu")]
    assert cpu == ["cpu", f"{usage['device_seconds'] / 3600:,.4f}", f"{usage['cost']:.4g}", "USD"]


def test_max_cost_needs_a_price(store: Store) -> None:
    spec = JobSpec.model_validate(
        {
            "model": {"layers": [{"type": "Dense", "units": 1, "input_shape": [1]}]},
            "fit": {"epochs": 0},
            "resources": {"max_cost": 5},
        }  # fmt: skip
    )
    with pytest.raises(SpecError, match="sets no price"):
        check_resources(spec, store, Settings(prices={}))
    assert check_resources(spec, store, Settings(prices={"cpu": 1.0})) is None
