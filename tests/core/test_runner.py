"""A run's stop reasons (`core/runner.py`'s JobRun), in the order the runner reads them:
the controls the heartbeat brought (cancel, lease lost), the worker's shutdown, then the
job's limits on time, device-hours and cost, each counted over all attempts."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from cornu.core.config import Settings
from cornu.core.runner import JobRun, _limit_reached
from cornu.core.spec import StopReason
from cornu.core.store import Store
from cornu.core.store.runs import Claim
from tests.core.store.test_runs import SPEC


def claim(**earlier: Any) -> Claim:
    """An attempt at SPEC with `earlier` attempts' figures and `resources` changes."""
    resources = earlier.pop("resources", {})
    spec = SPEC.model_copy(update={"resources": SPEC.resources.model_copy(update=resources)})
    figures = {"run_seconds": 0.0, "device_seconds": 0.0, "cost": None, "price": None}
    return Claim("job_x", "t", "token", 2, spec, None, epoch=0, **{**figures, **earlier})


def test_shutdown_stops_a_run_only_once_set(store: Store) -> None:
    shutdown = threading.Event()
    run = JobRun(store, claim(), Settings(), shutdown)
    assert run.stop_reason() is None
    shutdown.set()
    assert run.stop_reason() is StopReason.shutdown
    assert JobRun(store, claim(), Settings()).stop_reason() is None  # no event: never


def test_the_heartbeats_control_comes_first(store: Store) -> None:
    shutdown = threading.Event()
    shutdown.set()
    run = JobRun(store, claim(run_seconds=10**9), Settings(), shutdown)
    run.heartbeat.stop_reason = StopReason.cancel
    assert run.stop_reason() is StopReason.cancel


@pytest.mark.parametrize(
    ("earlier", "settings", "reason"),
    [
        ({"run_seconds": 3601.0}, {"max_job_seconds": 3600}, StopReason.timeout),
        ({"run_seconds": 3599.0}, {"max_job_seconds": 3600}, None),
        # 2 devices: 1.5 h of training is 3 device-hours, past max_device_hours 2.9
        ({"run_seconds": 5400.0, "resources": {"devices": 2, "max_device_hours": 2.9}}, {},
         StopReason.budget),
        ({"device_seconds": 7200.0, "resources": {"max_device_hours": 2.1}}, {}, None),
        ({"cost": 5.01, "resources": {"max_cost": 5.0}}, {}, StopReason.cost),
        ({"cost": 4.99, "resources": {"max_cost": 5.0}}, {}, None),
    ],
)  # fmt: skip
def test_limits_count_every_attempt(
    store: Store, earlier: dict[str, Any], settings: dict[str, Any], reason: StopReason | None
) -> None:
    run = JobRun(store, claim(**earlier), Settings(**settings))
    assert run.stop_reason() is reason


def test_a_limit_reached_names_the_limit_in_the_jobs_error(store: Store) -> None:
    settings = Settings(max_job_seconds=2.5, currency="EUR")
    run = JobRun(store, claim(resources={"max_device_hours": 1.5, "max_cost": 4.0}), settings)
    assert _limit_reached(run, StopReason.timeout) == (
        "timeout: the job trained for longer than 2.5 s, this service's limit"
    )
    assert _limit_reached(run, StopReason.budget) == (
        "max_device_hours: the job trained its 1.5 device-hours"
    )
    assert _limit_reached(run, StopReason.cost) == "max_cost: the job's device-hours cost 4 EUR"
    assert _limit_reached(run, StopReason.shutdown) is None
