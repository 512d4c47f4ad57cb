"""The Redis store against a real redis-server: records, isolation, atomic blobs."""

from __future__ import annotations

import time

import pytest

from core.errors import NotFound, SpecError
from core.ids import new_id
from core.spec import JobSpec, JobStatus
from core.store import Store, keys

SPEC = JobSpec.model_validate(
    {
        "model": {"layers": [{"type": "Dense", "units": 2, "input_shape": [3]}]},
        "compile": {"loss": "mse"},
        "fit": {"epochs": 4},
        "data": {"x": "ds_x", "y": "ds_y"},
    }
)


def tenant() -> str:
    return f"t{time.time_ns()}"


def test_api_keys_resolve_to_their_tenant_and_are_stored_hashed(store: Store) -> None:
    name = tenant()
    key = store.tenants.create_key(name)
    assert store.tenants.authenticate(key) == name
    assert store.tenants.authenticate(key + "x") is None
    assert store.tenants.authenticate("not-a-key") is None
    assert not any(key.encode() in k for k in store.redis.keys("cornu:apikey:*"))  # type: ignore[union-attr]


def test_tenant_names_are_checked(store: Store) -> None:
    with pytest.raises(SpecError, match="tenant name"):
        store.tenants.create_key("Bad Name!")


def test_a_job_is_visible_only_to_its_tenant(store: Store) -> None:
    owner, other = tenant(), tenant() + "b"
    job = store.jobs.create(owner, new_id("job"), SPEC)
    assert store.jobs.get(owner, job.id).status is JobStatus.queued
    assert job.epochs == 4 and job.epoch == 0
    with pytest.raises(NotFound):
        store.jobs.get(other, job.id)
    assert store.jobs.list(other, 10).jobs == []


def test_listing_is_newest_first_with_a_cursor(store: Store) -> None:
    owner = tenant()
    ids = []
    for _ in range(5):
        ids.append(store.jobs.create(owner, new_id("job"), SPEC).id)
        time.sleep(0.002)  # ids sort by millisecond
    first = store.jobs.list(owner, 2)
    assert [j.id for j in first.jobs] == ids[::-1][:2]
    second = store.jobs.list(owner, 2, first.next_cursor)
    third = store.jobs.list(owner, 2, second.next_cursor)
    assert [j.id for j in second.jobs + third.jobs] == ids[::-1][2:]
    assert third.next_cursor is None


def test_a_job_is_claimed_once_and_finishes_once(store: Store) -> None:
    job = store.jobs.create(tenant(), new_id("job"), SPEC)
    assert store.jobs.claim(job.id) == SPEC
    assert store.jobs.claim(job.id) is None  # a redelivered message does not start it again
    assert store.jobs.record_epoch(job.id, 1, 0.5, {"loss": 1.0})
    assert store.jobs.finish(job.id, JobStatus.succeeded)
    assert not store.jobs.finish(job.id, JobStatus.failed, "late")
    assert not store.jobs.record_epoch(job.id, 2, 0.5, {"loss": 0.5})


def test_metrics_are_keras_history_and_per_epoch_logs(store: Store) -> None:
    owner = tenant()
    job = store.jobs.create(owner, new_id("job"), SPEC)
    store.jobs.claim(job.id)
    store.jobs.record_epoch(job.id, 1, 1.25, {"loss": 2.0, "val_loss": 3.0})
    store.jobs.record_epoch(job.id, 2, 1.5, {"loss": 1.0, "val_loss": 2.5})
    metrics = store.jobs.metrics(owner, job.id)
    assert metrics.history == {"loss": [2.0, 1.0], "val_loss": [3.0, 2.5]}
    assert [(e.epoch, e.seconds) for e in metrics.epochs] == [(1, 1.25), (2, 1.5)]
    record = store.jobs.get(owner, job.id)
    assert record.epoch == 2 and record.metrics == {"loss": 1.0, "val_loss": 2.5}


def test_weights_only_after_success(store: Store) -> None:
    owner = tenant()
    job = store.jobs.create(owner, new_id("job"), SPEC)
    store.jobs.claim(job.id)
    store.jobs.save_weights(job.id, b"w" * 3_000_000, b"state")
    with pytest.raises(NotFound, match="no weights yet"):
        store.jobs.weights(owner, job.id)
    store.jobs.finish(job.id, JobStatus.succeeded)
    assert b"".join(store.jobs.weights(owner, job.id)) == b"w" * 3_000_000


def test_an_aborted_blob_write_leaves_nothing(store: Store) -> None:
    key = keys.blob("test", new_id("b"))

    def chunks() -> object:
        yield b"a" * 100
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError):
        store.blobs.write(key, chunks())  # type: ignore[arg-type]
    assert not store.blobs.exists(key)
    assert store.redis.keys(key + "*") == []
