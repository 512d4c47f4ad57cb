"""`cornu.Client` against the live stack, and the SDK's promise of no torch."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pytest
from safetensors.numpy import load

import cornu
from tests.conftest import Service
from tests.helpers import mlp_spec


@pytest.fixture
def client(api_url: str, new_api_key: Callable[[], str]) -> cornu.Client:
    return cornu.Client(api_url, new_api_key())


def test_upload_submit_wait_and_collect(client: cornu.Client, worker: Service) -> None:
    rng = np.random.default_rng(0)
    x, y = client.upload(rng.normal(size=(80, 6))), client.upload(rng.integers(0, 3, 80))
    assert x.shape == [80, 6] and x.dtype == "float64"
    job = client.submit(mlp_spec(x.id, y.id, features=6, classes=3, epochs=4))
    assert job.status.value == "queued"
    done = client.wait(job.id, timeout_s=120)
    assert done.status.value == "succeeded" and done.epoch == 4
    assert len(client.metrics(job.id).history["accuracy"]) == 4
    assert set(load(client.weights(job.id))) == {
        "dense/kernel",
        "dense/bias",
        "dense_1/kernel",
        "dense_1/bias",
    }
    assert client.jobs(limit=5).jobs[0].id == job.id


def test_errors_arrive_as_cornu_errors(client: cornu.Client, api_url: str) -> None:
    x = client.upload(np.zeros((4, 2)))
    spec = mlp_spec(x.id, "ds_nope", features=2, classes=2)
    with pytest.raises(cornu.SpecError) as info:
        client.submit(spec)
    assert info.value.errors[0].loc == ("data", "y")
    with pytest.raises(cornu.NotFound, match="no job 'job_x'"):
        client.job("job_x")
    with pytest.raises(cornu.Unauthorized, match="else CORNU_API_KEY"):
        cornu.Client(api_url, "cornu_wrong").job("job_x")


def test_importing_the_sdk_imports_no_torch_celery_or_redis() -> None:
    code = (
        "import sys, cornu; cornu.Client('http://127.0.0.1:1', 'k');"
        "heavy = [m for m in ('torch', 'celery', 'redis', 'fastapi') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_public_names() -> None:
    assert "Client" in cornu.__all__ and "SpecError" in cornu.__all__
    assert all(hasattr(cornu, name) for name in cornu.__all__)
