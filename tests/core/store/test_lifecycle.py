"""Deleting datasets and jobs, and the retention sweep, on both blob store backends: each
test reads what the backend itself holds (the directory's files, `list_objects_v2` on the
SeaweedFS bucket) and what Redis holds, not what the store says."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import redis

from cornu.core.config import Settings
from cornu.core.errors import Conflict, InUse, NotFound, SpecError
from cornu.core.ids import new_id
from cornu.core.reaper import Reaper
from cornu.core.spec import Dataset, JobSpec, JobStatus
from cornu.core.store import Store, keys
from cornu.core.store.blobfiles import FileBlobStore
from cornu.core.store.blobs3 import S3BlobStore
from tests.conftest import S3_BUCKET, S3Server
from tests.helpers import npy_bytes, put_dataset


class Backend:
    """A store over one backend, and the object keys that backend really holds."""

    def __init__(self, store: Store, listed: Callable[[], list[str]]) -> None:
        self.store, self.listed = store, listed


@pytest.fixture(params=["file", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path, store_url: str) -> Iterator[Backend]:
    client = redis.Redis.from_url(store_url)
    if request.param == "file":
        root = tmp_path / "blobs"
        store = Store(client, blob_store=FileBlobStore(root))

        def files() -> list[str]:
            return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

        yield Backend(store, files)
    else:
        server: S3Server = request.getfixturevalue("s3_server")
        s3 = server.client()
        prefix = f"lifecycle-{time.time_ns()}"
        store = Store(client, blob_store=S3BlobStore(S3_BUCKET, prefix, client=server.client()))

        def objects() -> list[str]:
            found = s3.list_objects_v2(Bucket=S3_BUCKET, Prefix=prefix + "/").get("Contents", [])
            return sorted(o["Key"][len(prefix) + 1 :] for o in found)

        yield Backend(store, objects)
    store.close()


def spec(x: str, y: str, **fit: object) -> JobSpec:
    return JobSpec.model_validate(
        {
            "model": {"layers": [{"type": "Dense", "units": 2, "input_shape": [3]}]},
            "compile": {"loss": "mse"},
            "fit": {"epochs": 2, **fit},
            "data": {"x": x, "y": y},
        }
    )


def submit(store: Store, tenant: str, job_spec: JobSpec) -> str:
    return store.jobs.create(tenant, new_id("job"), job_spec, verify=True).id


def trained_job(store: Store, tenant: str, x: str, y: str) -> str:
    """A job that ran to the end: a checkpoint, weights, state and an export."""
    job_id = submit(store, tenant, spec(x, y))
    claim = store.runs.claim(job_id, "w1")
    assert claim is not None
    assert store.runs.commit_epoch(claim, 1, 0.1, {"loss": 1.0}, b"checkpoint", 0.1, keep=2)
    assert store.runs.succeed(claim, b"weights", b"state")
    store.jobs.keep_export(tenant, job_id, "model.onnx", b"onnx")
    return job_id


def redis_keys(store: Store, record_id: str) -> list[str]:
    return sorted(k.decode() for k in store.redis.scan_iter(match=f"*{record_id}*"))


def test_deleting_a_dataset_removes_its_record_and_its_bytes(backend: Backend) -> None:
    store, tenant = backend.store, f"t{time.time_ns()}"
    dataset_id = put_dataset(store, tenant, np.arange(12.0).reshape(4, 3))
    assert backend.listed() == [keys.dataset_object(tenant, dataset_id)]
    sha = json.loads(store.redis.hget(keys.dataset(dataset_id), "meta"))["sha256"]  # type: ignore[arg-type]

    with pytest.raises(NotFound, match=f"no dataset '{dataset_id}'"):
        store.lifecycle.delete_dataset("someone-else", dataset_id)
    assert backend.listed() == [keys.dataset_object(tenant, dataset_id)]

    store.lifecycle.delete_dataset(tenant, dataset_id)
    assert backend.listed() == []
    assert redis_keys(store, dataset_id) == []
    assert store.redis.hget(keys.tenant_datasets(tenant), sha) is None
    assert store.redis.llen(keys.blob_garbage()) == 0
    with pytest.raises(NotFound):
        store.lifecycle.delete_dataset(tenant, dataset_id)


def test_a_dataset_a_queued_or_running_job_uses_is_409_naming_the_jobs(
    backend: Backend,
) -> None:
    store, tenant = backend.store, f"t{time.time_ns()}"
    x = put_dataset(store, tenant, np.zeros((4, 3), np.float32))
    y = put_dataset(store, tenant, np.zeros((4, 2), np.float32))
    queued, running = submit(store, tenant, spec(x, y)), submit(store, tenant, spec(x, y))
    claim = store.runs.claim(running, "w1")
    assert claim is not None
    with pytest.raises(InUse) as refused:
        store.lifecycle.delete_dataset(tenant, x)
    assert refused.value.jobs == sorted([queued, running]) and refused.value.status == 409
    assert queued in refused.value.detail and running in refused.value.detail
    assert keys.dataset_object(tenant, x) in backend.listed()

    store.jobs.cancel(tenant, queued)
    assert store.runs.finish(claim, JobStatus.failed, "test")
    store.lifecycle.delete_dataset(tenant, x)  # both ended: the rule lets it go
    assert backend.listed() == [keys.dataset_object(tenant, y)]
    # The jobs that used it keep their records.
    assert store.jobs.get(tenant, running).status is JobStatus.failed


def test_a_submission_after_the_delete_is_refused_in_the_same_step(backend: Backend) -> None:
    """The race a delete and a submission run: the submission checked the dataset
    (`plan_job`) just before the delete; its record step finds it gone → 422."""
    store, tenant = backend.store, f"t{time.time_ns()}"
    x = put_dataset(store, tenant, np.zeros((4, 3), np.float32))
    y = put_dataset(store, tenant, np.zeros((4, 2), np.float32))
    store.lifecycle.delete_dataset(tenant, x)
    with pytest.raises(SpecError, match=f"no dataset '{x}'"):
        submit(store, tenant, spec(x, y))
    assert store.redis.zcard(keys.tenant_jobs(tenant)) == 0  # nothing was recorded
    # Another tenant's dataset is the same as none.
    other = put_dataset(store, "other", np.zeros((4, 3), np.float32))
    with pytest.raises(SpecError, match=f"no dataset '{other}'"):
        submit(store, tenant, spec(other, y))


def test_deleting_a_job_removes_every_record_and_object(backend: Backend) -> None:
    store, tenant = backend.store, f"t{time.time_ns()}"
    x = put_dataset(store, tenant, np.zeros((4, 3), np.float32))
    y = put_dataset(store, tenant, np.zeros((4, 2), np.float32))
    job_id = trained_job(store, tenant, x, y)
    prefix = keys.job_objects(tenant, job_id)
    assert [k for k in backend.listed() if k.startswith(prefix)] == [
        prefix + "attempts/1/state.safetensors",
        prefix + "attempts/1/weights.safetensors",
        prefix + "exports/model.onnx",
    ]
    assert len(redis_keys(store, job_id)) >= 4  # hash, metrics, events, feed

    with pytest.raises(NotFound, match=f"no job '{job_id}'"):
        store.lifecycle.delete_job("someone-else", job_id)
    store.lifecycle.delete_job(tenant, job_id)
    assert [k for k in backend.listed() if k.startswith(prefix)] == []
    assert redis_keys(store, job_id) == []
    assert store.jobs.page(tenant, 10).jobs == []
    assert not store.redis.sismember(keys.dataset_users(x), job_id)
    store.lifecycle.delete_dataset(tenant, x)  # nothing left refers to it


def test_a_queued_or_running_job_cannot_be_deleted(backend: Backend) -> None:
    store, tenant = backend.store, f"t{time.time_ns()}"
    x = put_dataset(store, tenant, np.zeros((4, 3), np.float32))
    y = put_dataset(store, tenant, np.zeros((4, 2), np.float32))
    job_id = submit(store, tenant, spec(x, y))
    with pytest.raises(Conflict, match="is queued; cancel it first"):
        store.lifecycle.delete_job(tenant, job_id)
    claim = store.runs.claim(job_id, "w1")
    assert claim is not None
    assert store.runs.commit_epoch(claim, 1, 0.1, {"loss": 1.0}, b"checkpoint", 0.1, keep=2)
    with pytest.raises(Conflict, match="is running; cancel it first"):
        store.lifecycle.delete_job(tenant, job_id)
    assert store.runs.renew(claim)[0]  # the worker still owns it and goes on
    assert store.runs.finish(claim, JobStatus.cancelled)
    store.lifecycle.delete_job(tenant, job_id)  # a cancelled job's checkpoint goes too
    assert [k for k in backend.listed() if job_id in k] == []


def test_a_deleted_jobs_weights_are_no_initial_weights(backend: Backend) -> None:
    store, tenant = backend.store, f"t{time.time_ns()}"
    x = put_dataset(store, tenant, np.zeros((4, 3), np.float32))
    y = put_dataset(store, tenant, np.zeros((4, 2), np.float32))
    first = trained_job(store, tenant, x, y)
    second = submit(store, tenant, spec(x, y, initial_weights=first))
    with pytest.raises(InUse, match=f"initial_weights of job {second}") as refused:
        store.lifecycle.delete_job(tenant, first)
    assert refused.value.jobs == [second]
    store.jobs.cancel(tenant, second)
    store.lifecycle.delete_job(tenant, first)
    with pytest.raises(SpecError, match=f"job '{first}' has no trained weights any more") as bad:
        submit(store, tenant, spec(x, y, initial_weights=first))
    assert bad.value.errors[0].loc == ("fit", "initial_weights")


def test_an_older_deployments_redis_blobs_go_with_their_records(backend: Backend) -> None:
    store, tenant = backend.store, f"t{time.time_ns()}"
    dataset_id, job_id = new_id("ds"), new_id("job")
    legacy = store.blobs.legacy
    legacy.write(keys.blob("dataset", dataset_id), [npy_bytes(np.arange(3))])
    meta = Dataset(id=dataset_id, shape=[3], dtype="int64", bytes=1, sha256="0")
    store.redis.hset(
        keys.dataset(dataset_id),
        mapping={"tenant": tenant, "meta": meta.model_dump_json(), "encoding": "identity"},
    )
    store.jobs.create(tenant, job_id, spec(dataset_id, dataset_id))
    legacy.write(keys.blob("weights", job_id), [b"weights"])
    legacy.write(keys.blob("state", job_id), [b"state"])
    checkpoint = keys.blob("checkpoint", f"{job_id}:celery@host/ab12:1:0")
    legacy.write(checkpoint, [b"checkpoint"])
    store.redis.rpush(keys.job_checkpoints(job_id), json.dumps({"epoch": 1, "key": checkpoint}))
    store.redis.hset(keys.job(job_id), mapping={"status": "failed", "checkpoint": checkpoint})

    store.lifecycle.delete_job(tenant, job_id)
    store.lifecycle.delete_dataset(tenant, dataset_id)
    assert store.redis.keys(keys.LEGACY_BLOB + "*") == []
    assert redis_keys(store, job_id) == [] and redis_keys(store, dataset_id) == []


def test_the_retention_sweep_lets_old_finished_jobs_and_unused_datasets_go(
    backend: Backend, store_url: str
) -> None:
    store, tenant = backend.store, f"t{time.time_ns()}"
    x = put_dataset(store, tenant, np.zeros((4, 3), np.float32))
    y = put_dataset(store, tenant, np.zeros((4, 2), np.float32))
    unused = put_dataset(store, tenant, np.ones((5,), np.float32))
    old = trained_job(store, tenant, x, y)
    time.sleep(1.6)
    recent = trained_job(store, tenant, x, y)  # uses x and y now: they stay
    queued = submit(store, tenant, spec(unused, y))
    swept = store.lifecycle.sweep(retention_s=1.5)
    assert old in swept.jobs and recent not in swept.jobs and queued not in swept.jobs
    assert not {x, y, unused} & set(swept.datasets)
    assert [k for k in backend.listed() if old in k] == []
    assert [k for k in backend.listed() if recent in k] != []

    store.jobs.cancel(tenant, queued)
    time.sleep(1.6)
    # As the reaper runs it: CORNU_RETENTION_DAYS as a float (here 1.5 s).
    settings = Settings(redis_url=store_url, retention_days=1.5 / 86400)
    Reaper(store, settings, enqueue=lambda _: None).step()
    assert backend.listed() == []
    assert store.jobs.page(tenant, 10).jobs == []
    for dataset_id in (x, y, unused):
        assert redis_keys(store, dataset_id) == []
