"""DELETE /v1/datasets/{id} and DELETE /v1/jobs/{id} over real HTTP, with the session's
worker, on the session's blob store (CORNU_TEST_BLOB_BACKEND); the SDK's and the CLI's
deletes; and a dataset whose bytes go while its job runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from cornu.client import Client
from cornu.core.errors import InUse
from cornu.core.store import Store, keys
from tests.helpers import mlp_spec, upload, wait_for_job

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(redis_url: str) -> Iterator[Store]:
    """The session's store (database 0, the blob store of CORNU_BLOB_URL), to read it."""
    s = Store.from_url(redis_url)
    yield s
    s.close()


def tenant_of(store: Store, job_id: str) -> str:
    return str(store.redis.hget(keys.job(job_id), "tenant").decode())  # type: ignore[union-attr]


def data(http: httpx.Client, samples: int = 256) -> tuple[str, str]:
    rng = np.random.default_rng(0)
    return upload(http, rng.normal(size=(samples, 8)).astype(np.float32)), upload(
        http, rng.integers(0, 4, samples)
    )


def wait_until_running(
    http: httpx.Client, job_id: str, epochs: int = 0, timeout_s: float = 60
) -> None:
    """Until the job runs (and has `epochs` done: a checkpoint stored)."""
    deadline = time.monotonic() + timeout_s
    while (job := http.get(f"/v1/jobs/{job_id}").json())["status"] != "running" or job[
        "epoch"
    ] < epochs:
        assert time.monotonic() < deadline, f"job {job_id} did not start"
        time.sleep(0.05)


def test_deletes_are_409_while_jobs_need_the_data_then_remove_the_bytes(
    http: httpx.Client, store: Store, worker: object
) -> None:
    x, y = data(http, samples=4096)
    job_id = http.post("/v1/jobs", json=mlp_spec(x, y, features=8, classes=4, epochs=500)).json()[
        "id"
    ]
    wait_until_running(http, job_id, epochs=1)
    tenant = tenant_of(store, job_id)

    busy = http.delete(f"/v1/datasets/{x}")
    assert busy.status_code == 409 and busy.headers["content-type"] == "application/problem+json"
    assert busy.json()["type"] == "urn:cornu:problem:in-use"
    assert busy.json()["jobs"] == [job_id] and job_id in busy.json()["detail"]
    running = http.delete(f"/v1/jobs/{job_id}")
    assert running.status_code == 409
    assert "is running; cancel it first" in running.json()["detail"]

    assert http.post(f"/v1/jobs/{job_id}/cancel").status_code in (200, 202)
    assert wait_for_job(http, job_id)["status"] == "cancelled"
    prefix = keys.job_objects(tenant, job_id)
    assert [k for k, _ in store.blobs.store.objects(prefix)] != []  # its checkpoints
    assert http.delete(f"/v1/jobs/{job_id}").status_code == 204
    assert http.get(f"/v1/jobs/{job_id}").status_code == 404
    assert http.get(f"/v1/jobs/{job_id}/metrics").status_code == 404
    assert list(store.blobs.store.objects(prefix)) == []
    assert store.redis.exists(keys.job_metrics(job_id), keys.job_events(job_id)) == 0

    assert http.delete(f"/v1/datasets/{x}").status_code == 204
    assert http.get(f"/v1/datasets/{x}").status_code == 404
    assert not store.blobs.store.exists(keys.dataset_object(tenant, x))
    assert store.blobs.store.exists(keys.dataset_object(tenant, y))
    assert http.delete(f"/v1/datasets/{x}").status_code == 404


def test_another_tenants_dataset_or_job_is_the_same_404(
    http: httpx.Client, api_url: str, new_api_key: Callable[[], str], store: Store, worker: object
) -> None:
    x, y = data(http)
    job_id = http.post("/v1/jobs", json=mlp_spec(x, y, features=8, classes=4, epochs=1)).json()[
        "id"
    ]
    assert wait_for_job(http, job_id)["status"] == "succeeded"
    with httpx.Client(
        base_url=api_url, headers={"Authorization": f"Bearer {new_api_key()}"}, timeout=30
    ) as other:
        for path, unknown in ((f"/v1/datasets/{x}", "/v1/datasets/ds_nope"),
                              (f"/v1/jobs/{job_id}", "/v1/jobs/job_nope")):  # fmt: skip
            theirs, none = other.delete(path), other.delete(unknown)
            assert theirs.status_code == none.status_code == 404
            assert theirs.json()["type"] == none.json()["type"] == "urn:cornu:problem:not-found"
    assert http.get(f"/v1/datasets/{x}").status_code == 200
    assert http.get(f"/v1/jobs/{job_id}/weights").status_code == 200


def test_a_deleted_jobs_weights_are_422_as_initial_weights(
    http: httpx.Client, worker: object
) -> None:
    x, y = data(http)
    first = http.post("/v1/jobs", json=mlp_spec(x, y, features=8, classes=4, epochs=1)).json()
    assert wait_for_job(http, first["id"])["status"] == "succeeded"
    assert http.delete(f"/v1/jobs/{first['id']}").status_code == 204
    again = mlp_spec(x, y, features=8, classes=4, epochs=1)
    again["fit"]["initial_weights"] = first["id"]  # type: ignore[index]
    refused = http.post("/v1/jobs", json=again)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["fit", "initial_weights"]
    assert first["id"] in refused.json()["detail"]


def test_a_job_whose_dataset_bytes_go_fails_clearly_and_the_worker_goes_on(
    http: httpx.Client, store: Store, worker: object
) -> None:
    """Bytes deleted behind the service's back (the API would refuse): a job that had
    not read them fails with a message that names the dataset; one that had read them
    finishes. Either way the worker trains the next job."""
    x, y = data(http)
    tenant_probe = http.post("/v1/jobs", json=mlp_spec(x, y, features=8, classes=4, epochs=1))
    tenant = tenant_of(store, tenant_probe.json()["id"])
    wait_for_job(http, tenant_probe.json()["id"])

    x2 = upload(http, np.random.default_rng(1).normal(size=(256, 8)).astype(np.float32))
    store.blobs.store.delete(keys.dataset_object(tenant, x2))  # before the worker reads it
    failed = http.post("/v1/jobs", json=mlp_spec(x2, y, features=8, classes=4, epochs=1))
    job = wait_for_job(http, failed.json()["id"])
    assert job["status"] == "failed"
    # The worker's reader (its data cache, or the store) names the dataset and what to do.
    assert x2 in str(job["error"]) and "blob store any more" in str(job["error"])
    assert "upload" in str(job["error"]) and "internal error" not in str(job["error"])

    x3 = upload(http, np.random.default_rng(2).normal(size=(4096, 8)).astype(np.float32))
    y3 = upload(http, np.random.default_rng(3).integers(0, 4, 4096))
    spec = mlp_spec(x3, y3, features=8, classes=4, epochs=30)
    job_id = http.post("/v1/jobs", json=spec).json()["id"]
    wait_until_running(http, job_id)
    time.sleep(0.5)  # it has read its data
    store.blobs.store.delete(keys.dataset_object(tenant, x3))
    assert wait_for_job(http, job_id)["status"] == "succeeded"

    after = http.post("/v1/jobs", json=mlp_spec(x, y, features=8, classes=4, epochs=1))
    assert wait_for_job(http, after.json()["id"])["status"] == "succeeded"


def test_the_sdk_and_the_cli_delete(
    api_url: str, new_api_key: Callable[[], str], store: Store, worker: object
) -> None:
    key = new_api_key()
    with Client(api_url, key) as client:
        array = np.random.default_rng(4).normal(size=(512, 8)).astype(np.float32)
        x = client.upload(array)
        y = client.upload(np.random.default_rng(5).integers(0, 4, 512))
        job = client.submit(mlp_spec(x.id, y.id, features=8, classes=4, epochs=500))
        with pytest.raises(InUse) as refused:
            client.delete_dataset(x.id)
        assert refused.value.jobs == [job.id]
        client.cancel(job.id)
        client.wait(job.id, timeout_s=60)
        client.delete_job(job.id)
        client.delete_dataset(x.id)
        again = client.upload(array)
        assert again.id != x.id  # sent again: the SDK forgot the deleted one
        done = client.submit(mlp_spec(again.id, y.id, features=8, classes=4, epochs=1))
    env = {**os.environ, "CORNU_URL": api_url, "CORNU_API_KEY": key}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cornu", *args],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=90,
        )  # fmt: skip

    with Client(api_url, key) as client:
        client.wait(done.id, timeout_s=60)
    assert cli("rm", done.id).returncode == 0
    gone = cli("rm", done.id)
    assert gone.returncode == 1 and f"error: no job '{done.id}'" in gone.stderr
    removed = cli("datasets", "rm", y.id)
    assert removed.returncode == 0 and f"Dataset {y.id} deleted" in removed.stdout
    assert store.redis.exists(keys.dataset(y.id)) == 0
