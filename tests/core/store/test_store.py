"""The Redis store against a real redis-server: records, isolation, atomic blobs."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

import pytest

from cornu.core.errors import NotFound, SpecError, TooManyJobs
from cornu.core.ids import new_id
from cornu.core.spec import Dataset, JobSpec, JobStatus
from cornu.core.store import Store, keys

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
    assert job.epochs == 4 and job.epoch == 0 and job.attempts == 0
    with pytest.raises(NotFound):
        store.jobs.get(other, job.id)
    assert store.jobs.page(other, 10).jobs == []


def test_listing_is_newest_first_with_a_cursor(store: Store) -> None:
    owner = tenant()
    ids = []
    for _ in range(5):
        ids.append(store.jobs.create(owner, new_id("job"), SPEC).id)
        time.sleep(0.002)  # ids sort by millisecond
    first = store.jobs.page(owner, 2)
    assert [j.id for j in first.jobs] == ids[::-1][:2]
    second = store.jobs.page(owner, 2, first.next_cursor)
    third = store.jobs.page(owner, 2, second.next_cursor)
    assert [j.id for j in second.jobs + third.jobs] == ids[::-1][2:]
    assert third.next_cursor is None


def test_the_number_of_active_jobs_per_tenant_is_bounded(store: Store) -> None:
    owner = tenant()
    first = store.jobs.create(owner, new_id("job"), SPEC, max_active=2)
    store.jobs.create(owner, new_id("job"), SPEC, max_active=2)
    with pytest.raises(TooManyJobs, match="already has 2 jobs queued or running"):
        store.jobs.create(owner, new_id("job"), SPEC, max_active=2)
    store.jobs.cancel(owner, first.id)  # a finished job no longer counts
    store.jobs.create(owner, new_id("job"), SPEC, max_active=2)


def test_an_aborted_dataset_write_leaves_nothing(store: Store) -> None:
    owner, dataset_id = tenant(), new_id("ds")

    def chunks() -> Iterator[bytes]:
        yield b"a" * 100
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError):
        store.datasets.write_blob(dataset_id, chunks(), tenant=owner)
    assert list(store.blobs.store.objects(keys.tenant_objects(owner))) == []


def test_datasets_are_found_by_content_within_their_tenant(store: Store) -> None:
    def create(tenant: str) -> str:
        dataset_id = new_id("ds")
        store.datasets.write_blob(dataset_id, [b"same bytes"], tenant=tenant)
        sha256 = hashlib.sha256(b"same bytes").hexdigest()
        dataset = Dataset(id=dataset_id, shape=[10], dtype="uint8", bytes=10, sha256=sha256)
        store.datasets.record(tenant, dataset)
        return dataset_id

    first, duplicate, other = create("acme"), create("acme"), create("globex")
    digest = store.datasets.get("acme", first).sha256
    assert store.datasets.by_sha256("acme", digest).id == first  # the first upload stays
    assert store.datasets.by_sha256("globex", digest).id == other  # never another tenant's
    store.datasets.delete(duplicate)
    assert store.datasets.by_sha256("acme", digest).id == first
    store.datasets.delete(first)
    with pytest.raises(NotFound):
        store.datasets.by_sha256("acme", digest)
