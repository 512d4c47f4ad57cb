"""Records in Redis, bytes in the blob store: pointers, fenced publishing, cleanup, and the
move of an older Cornu's Redis blobs (`cornu migrate-blobs`). Runs on the session's
backend (`CORNU_TEST_BLOB_BACKEND`)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cornu.core.config import Settings
from cornu.core.errors import Conflict
from cornu.core.ids import new_id
from cornu.core.spec import Dataset, JobSpec
from cornu.core.store import Store, keys
from cornu.core.store.migrate import migrate_blobs

ROOT = Path(__file__).resolve().parents[3]
SPEC = JobSpec.model_validate(
    {
        "model": {"layers": [{"type": "Dense", "units": 2, "input_shape": [3]}]},
        "compile": {"loss": "mse"},
        "fit": {"epochs": 4},
        "data": {"x": "ds_x", "y": "ds_y"},
    }
)


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def stored(store: Store, prefix: str) -> list[str]:
    return [key for key, _ in store.blobs.store.objects(prefix)]


def test_a_dataset_record_points_at_its_object_and_delete_removes_the_bytes(
    store: Store,
) -> None:
    owner, dataset_id, array = f"t{time.time_ns()}", new_id("ds"), np.arange(12.0).reshape(3, 4)
    data = npy(array)
    blob = store.datasets.write_blob(dataset_id, [data], tenant=owner)
    sha = hashlib.sha256(data).hexdigest()
    dataset = Dataset(id=dataset_id, shape=[3, 4], dtype="float64", bytes=len(data), sha256=sha)
    store.datasets.record(owner, dataset, "identity", blob)
    key = keys.dataset_object(owner, dataset_id)
    assert json.loads(store.redis.hget(keys.dataset(dataset_id), "blob")) == {  # type: ignore[arg-type]
        "key": key,
        "bytes": len(data),
        "sha256": sha,
    }
    assert store.redis.keys(keys.LEGACY_BLOB + "*") == []  # no bytes in Redis
    np.testing.assert_array_equal(store.datasets.load(dataset_id), array)
    store.datasets.delete(dataset_id)
    assert stored(store, keys.tenant_objects(owner)) == []


@pytest.fixture
def short_leases(store_url: str) -> Store:
    return Store.from_url(store_url, Settings(lease_seconds=0.3))


def test_what_a_crashed_attempt_left_is_swept_when_the_job_succeeds(
    short_leases: Store, store: Store
) -> None:
    owner = f"t{time.time_ns()}"
    job_id = store.jobs.create(owner, new_id("job"), SPEC).id
    crashed = short_leases.runs.claim(job_id, "w1")
    assert crashed is not None
    # The worker wrote a checkpoint's object and died before its script ran.
    store.blobs.write(keys.attempt_object(owner, job_id, 1, "checkpoints/1-0"), [b"orphan"])
    time.sleep(0.5)
    assert store.runs.requeue(job_id, max_attempts=3) == "requeued"
    claim = store.runs.claim(job_id, "w2")  # a usual lease, longer than the writes below
    assert claim is not None
    assert store.runs.commit_epoch(claim, 1, 0.1, {"loss": 1.0}, b"checkpoint", 0.1, keep=2)
    assert store.runs.succeed(claim, b"weights", b"state")
    prefix = keys.job_objects(owner, job_id)
    assert stored(store, prefix) == [
        prefix + "attempts/2/state.safetensors",
        prefix + "attempts/2/weights.safetensors",
    ]
    assert b"".join(store.jobs.weights(owner, job_id)) == b"weights"


def test_dropped_objects_wait_on_the_garbage_list_until_collected(store: Store) -> None:
    key = f"tenants/gc/{new_id('x')}"
    store.blobs.write(key, [b"dropped"])
    store.redis.rpush(keys.blob_garbage(), key)  # a script dropped it; its worker then died
    assert store.blobs.collect() >= 1
    assert not store.blobs.store.exists(key)
    assert store.redis.llen(keys.blob_garbage()) == 0


def test_an_object_whose_writer_died_before_its_record_is_deleted(store: Store) -> None:
    owner = f"t{time.time_ns()}"
    died, kept = new_id("ds"), new_id("ds")
    store.datasets.write_blob(died, [b"an API killed mid-upload"], tenant=owner)
    data = npy(np.arange(3.0))
    blob = store.datasets.write_blob(kept, [data], tenant=owner)
    meta = Dataset(id=kept, shape=[3], dtype="float64", bytes=len(data), sha256="0" * 64)
    store.datasets.record(owner, meta, "identity", blob)
    orphan = keys.dataset_object(owner, died)
    store.blobs.collect(pending_s=3600)  # a writer may still be at work
    assert store.blobs.store.exists(orphan)
    store.blobs.collect(pending_s=0)
    assert not store.blobs.store.exists(orphan)
    assert store.redis.zscore(keys.blob_pending(), orphan) is None
    np.testing.assert_array_equal(store.datasets.load(kept), np.arange(3.0))


def test_a_writer_slower_than_the_pending_time_is_refused_at_its_record(store: Store) -> None:
    owner, dataset_id = f"t{time.time_ns()}", new_id("ds")
    data = npy(np.arange(3.0))
    blob = store.datasets.write_blob(dataset_id, [data], tenant=owner)
    store.blobs.collect(pending_s=0)  # the reaper took it for a dead writer's
    meta = Dataset(id=dataset_id, shape=[3], dtype="float64", bytes=len(data), sha256="1" * 64)
    with pytest.raises(Conflict, match="upload it again"):
        store.datasets.record(owner, meta, "identity", blob)
    assert not store.redis.exists(keys.dataset(dataset_id))
    assert store.redis.hget(keys.tenant_datasets(owner), "1" * 64) is None


def legacy_deployment(store: Store) -> dict[str, object]:
    """What an older Cornu left: every byte in Redis lists, records without pointers."""
    owner, dataset_id, job_id = f"t{time.time_ns()}", new_id("ds"), new_id("job")
    array = np.arange(6, dtype=np.int32)
    legacy = store.blobs.legacy
    legacy.write(keys.blob("dataset", dataset_id), [npy(array)])
    meta = Dataset(id=dataset_id, shape=[6], dtype="int32", bytes=len(npy(array)), sha256="0")
    store.redis.hset(
        keys.dataset(dataset_id),
        mapping={"tenant": owner, "meta": meta.model_dump_json(), "encoding": "identity"},
    )
    store.jobs.create(owner, job_id, SPEC)
    weights = os.urandom(3 * 1024 * 1024 + 5)  # several Redis chunks
    legacy.write(keys.blob("weights", job_id), [weights])
    legacy.write(keys.blob("state", job_id), [b"state"])
    checkpoint = keys.blob("checkpoint", f"{job_id}:celery@host/ab12:3:0")
    legacy.write(checkpoint, [b"checkpoint 3"])
    entry = {"epoch": 3, "batch": 0, "time": "2025-01-01T00:00:00+00:00", "bytes": 12}
    store.redis.rpush(keys.job_checkpoints(job_id), json.dumps({**entry, "key": checkpoint}))
    store.redis.hset(keys.job(job_id), mapping={"status": "succeeded", "checkpoint": checkpoint})
    orphan = keys.blob("checkpoint", f"{new_id('job')}:w/1:1:0")
    legacy.write(orphan, [b"nobody's"])
    return {"owner": owner, "dataset": dataset_id, "job": job_id, "array": array,
            "weights": weights, "orphan": orphan}  # fmt: skip


def reads(store: Store, old: dict[str, object]) -> None:
    owner, job_id = str(old["owner"]), str(old["job"])
    np.testing.assert_array_equal(store.datasets.load(str(old["dataset"])), old["array"])  # type: ignore[arg-type]
    assert b"".join(store.jobs.weights(owner, job_id)) == old["weights"]
    assert store.jobs.trained(owner, job_id)[1] == b"state"
    assert store.jobs.latest_checkpoint(owner, job_id)[1:] == (b"checkpoint 3", 3)


def test_an_older_deployments_redis_blobs_are_read_then_moved(store: Store) -> None:
    old = legacy_deployment(store)
    reads(store, old)  # before the move: read from Redis
    counts = migrate_blobs(store, progress=lambda _: None)
    assert counts["moved"] == 4 and counts["unreferenced"] == 1
    assert counts["bytes"] == len(npy(old["array"])) + len(old["weights"]) + 5 + 12  # type: ignore[arg-type]
    assert store.redis.keys(keys.LEGACY_BLOB + "*") == [str(old["orphan"]).encode()]
    reads(store, old)  # after: from the blob store
    owner, job_id = str(old["owner"]), str(old["job"])
    assert len(stored(store, keys.tenant_objects(owner))) == 4
    checkpoint = json.loads(store.redis.lindex(keys.job_checkpoints(job_id), 0))  # type: ignore[arg-type]
    assert checkpoint["key"].startswith(keys.job_objects(owner, job_id) + "migrated/checkpoints/")
    assert store.redis.hget(keys.job(job_id), "checkpoint") == checkpoint["key"].encode()
    again = migrate_blobs(store, delete_unreferenced=True, progress=lambda _: None)
    assert again == {"unreferenced": 1}
    assert store.redis.keys(keys.LEGACY_BLOB + "*") == []


def test_cornu_migrate_blobs_moves_them(store_url: str, store: Store) -> None:
    old = legacy_deployment(store)
    result = subprocess.run(
        [sys.executable, "-m", "cornu", "migrate-blobs", "--quiet", "--delete-unreferenced"],
        capture_output=True,
        text=True,
        env={**os.environ, "CORNU_REDIS_URL": store_url},
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "4 moved" in result.stdout and "1 unreferenced" in result.stdout
    assert store.redis.keys(keys.LEGACY_BLOB + "*") == []
    reads(store, old)


def test_a_retried_write_whose_first_try_was_published_keeps_its_objects(store: Store) -> None:
    owner = f"t{time.time_ns()}"
    job_id = store.jobs.create(owner, new_id("job"), SPEC).id
    claim = store.runs.claim(job_id, "w")
    assert claim is not None
    assert store.runs.succeed(claim, b"weights", b"state")
    # Redis ran the script but the reply was lost: the worker retries the same write.
    assert store.runs.succeed(claim, b"weights", b"state")
    assert b"".join(store.jobs.weights(owner, job_id)) == b"weights"
    assert store.jobs.trained(owner, job_id)[1] == b"state"
