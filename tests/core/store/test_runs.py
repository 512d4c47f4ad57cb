"""Leases and fenced writes: a job runs once, and a worker that lost it writes nothing."""

from __future__ import annotations

import time

import pytest

from cornu.core.config import Settings
from cornu.core.engine import dump_state
from cornu.core.engine.trainer import STATE_FORMAT
from cornu.core.errors import Conflict
from cornu.core.ids import new_id
from cornu.core.runner import Heartbeat, _resume_state
from cornu.core.spec import JobSpec, JobStatus
from cornu.core.store import Store, keys
from cornu.core.store.runs import Claim, Controls

SPEC = JobSpec.model_validate(
    {
        "model": {"layers": [{"type": "Dense", "units": 2, "input_shape": [3]}]},
        "compile": {"loss": "mse"},
        "fit": {"epochs": 4},
        "data": {"x": "ds_x", "y": "ds_y"},
    }
)


@pytest.fixture
def short_leases(store_url: str) -> Store:
    return Store.from_url(store_url, Settings(lease_seconds=0.3))


def queued(store: Store) -> tuple[str, str]:
    owner = f"t{time.time_ns()}"
    return owner, store.jobs.create(owner, new_id("job"), SPEC).id


def test_a_job_is_claimed_once(store: Store) -> None:
    _, job_id = queued(store)
    claim = store.runs.claim(job_id, "w1")
    assert claim is not None and claim.spec == SPEC and claim.attempt == 1
    assert store.runs.claim(job_id, "w2") is None  # a redelivered message does not start it again


def test_epochs_commit_once_each_with_their_checkpoint(store: Store) -> None:
    owner, job_id = queued(store)
    claim = store.runs.claim(job_id, "w1")
    assert claim is not None
    assert store.runs.commit_epoch(claim, 1, 0.5, {"loss": 1.0}, b"state-1", 0.5, keep=2)
    with pytest.raises(RuntimeError, match="epoch 1 does not follow the last one"):
        store.runs.commit_epoch(claim, 1, 0.5, {"loss": 1.0}, b"again", 0.5, keep=2)
    assert store.runs.commit_epoch(claim, 2, 0.5, {"loss": 0.5}, b"state-2", 1.0, keep=2)
    assert store.runs.commit_epoch(claim, 3, 0.5, {"loss": 0.2}, b"state-3", 1.5, keep=2)
    assert store.jobs.metrics(owner, job_id).history == {"loss": [1.0, 0.5, 0.2]}
    kept = store.jobs.checkpoints(owner, job_id)
    assert [c.epoch for c in kept] == [2, 3]  # only the newest two are kept
    # The dropped checkpoint's object is gone from the blob store, not just unlinked.
    stored = [key for key, _ in store.blobs.store.objects(keys.job_objects(owner, job_id))]
    assert [key.rsplit("/", 1)[-1] for key in stored] == ["2-0", "3-0"]
    assert store.redis.llen(keys.blob_garbage()) == 0


def test_a_worker_that_lost_its_lease_cannot_write(short_leases: Store, store: Store) -> None:
    owner, job_id = queued(short_leases)
    late = short_leases.runs.claim(job_id, "late-worker")
    assert late is not None
    time.sleep(0.5)  # the lease expires: the worker stalled or died
    assert short_leases.runs.requeue(job_id, max_attempts=3) == "requeued"
    # The new worker's lease is a usual one: the late writes below (blob store round trips
    # each) must not outlast it.
    current = store.runs.claim(job_id, "new-worker")
    assert current is not None and current.attempt == 2
    # Everything the late worker tries is refused, and leaves nothing behind.
    assert store.runs.renew(late) == (False, Controls())
    assert not store.runs.commit_epoch(late, 1, 0.1, {"loss": 9.0}, b"late", 0.1, keep=2)
    assert not store.runs.succeed(late, b"late weights", b"late state")
    assert not store.runs.finish(late, JobStatus.failed, "late")
    assert store.jobs.metrics(owner, job_id).history == {}
    assert store.runs.succeed(current, b"weights", b"state")
    assert b"".join(store.jobs.weights(owner, job_id)) == b"weights"
    # Only the current attempt's objects are left: the late worker's went when refused.
    stored = [key for key, _ in store.blobs.store.objects(keys.job_objects(owner, job_id))]
    prefix = keys.job_objects(owner, job_id) + "attempts/2/"
    assert stored == [prefix + "state.safetensors", prefix + "weights.safetensors"]
    types = [e.type for e in store.jobs.events(owner, job_id)]
    assert types == ["queued", "started", "lease_lost", "requeued", "started", "succeeded"]


def test_a_job_fails_after_too_many_lost_workers(short_leases: Store) -> None:
    store = short_leases
    owner, job_id = queued(store)
    for _ in range(2):
        assert store.runs.claim(job_id, "w") is not None
        time.sleep(0.4)
        outcome = store.runs.requeue(job_id, max_attempts=2)
    assert outcome == "failed"
    job = store.jobs.get(owner, job_id)
    assert job.status is JobStatus.failed and "was lost 2 times" in str(job.error)


def test_a_healthy_lease_is_not_requeued(store: Store) -> None:
    _, job_id = queued(store)
    claim = store.runs.claim(job_id, "w")
    assert claim is not None
    assert store.runs.requeue(job_id, max_attempts=3) == "alive"
    assert store.runs.expired() == [] or job_id not in store.runs.expired()


def test_cancel_queued_at_once_running_by_request(store: Store) -> None:
    owner, job_id = queued(store)
    assert store.jobs.cancel(owner, job_id).status is JobStatus.cancelled
    assert store.runs.claim(job_id, "w") is None  # it never starts
    with pytest.raises(Conflict, match="has already cancelled"):
        store.jobs.cancel(owner, job_id)
    owner, job_id = queued(store)
    claim = store.runs.claim(job_id, "w")
    assert claim is not None
    assert store.jobs.cancel(owner, job_id).status is JobStatus.running
    assert store.runs.renew(claim) == (True, Controls(cancel=True))  # by heartbeat


def test_the_reaper_office_has_one_holder(store: Store) -> None:
    store.redis.delete(keys.reaper())
    assert store.runs.elect("a", 500)
    assert not store.runs.elect("b", 500)
    assert store.runs.elect("a", 500)


def test_idempotency_keys(store: Store) -> None:
    owner = f"t{time.time_ns()}"
    assert store.idempotency.begin(owner, "jobs", "k1", "fp") is None
    with pytest.raises(Conflict, match="still in progress"):
        store.idempotency.begin(owner, "jobs", "k1", "fp")
    store.idempotency.complete(owner, "jobs", "k1", "fp", "job_1")
    assert store.idempotency.begin(owner, "jobs", "k1", "fp") == "job_1"
    with pytest.raises(Conflict, match="already used for a different request"):
        store.idempotency.begin(owner, "jobs", "k1", "other")
    assert store.idempotency.begin("someone-else", "jobs", "k1", "other") is None  # per tenant


def test_the_heartbeat_keeps_the_lease_and_sees_a_cancel_between_renewals(
    store_url: str,
) -> None:
    store = Store.from_url(store_url, Settings(lease_seconds=1.0))
    owner, job_id = queued(store)
    claim = store.runs.claim(job_id, "w1")
    assert claim is not None
    renewing = Heartbeat(store, claim, every_s=0.3, poll_s=0.05)  # polls between renewals
    renewing.start()
    time.sleep(2.5)  # past two leases: only its renewals keep this one
    assert renewing.stop_reason is None
    assert store.redis.get(keys.job_lease(job_id)) == claim.token.encode()
    renewing.close()

    owner, job_id = queued(store)
    claim = store.runs.claim(job_id, "w1")
    assert claim is not None
    polling = Heartbeat(store, claim, every_s=60, poll_s=0.05)  # no renewal in this test
    polling.start()
    store.jobs.cancel(owner, job_id)
    asked = time.monotonic()
    while polling.stop_reason is None and time.monotonic() - asked < 5:
        time.sleep(0.01)
    polling.close()
    assert polling.stop_reason == "cancel" and time.monotonic() - asked < 1


def test_a_checkpoint_of_an_older_state_format_restarts_the_job(store: Store) -> None:
    """A worker of this version does not resume from what an older one wrote (another
    layout of the state); it trains from the start and says so."""
    owner, job_id = queued(store)

    def taken_over(state: dict[str, object], epoch: int) -> Claim:
        claim = store.runs.claim(job_id, "w1")
        assert claim is not None
        assert store.runs.commit_epoch(claim, epoch, 0.5, {"loss": 1.0}, dump_state(state), 0.5, 2)
        assert store.runs.release(claim, "given back")
        again = store.runs.claim(job_id, "w2")
        assert again is not None and again.checkpoint_key
        return again

    outdated = taken_over({"model": {}, "epoch": 1, "batch": 0}, 1)  # format 1: no "format"
    assert _resume_state(store, outdated) is None
    assert [e.type for e in store.jobs.events(owner, job_id)][-1] == "checkpoint_outdated"
    assert store.runs.release(outdated, "given back")
    current = taken_over({"format": STATE_FORMAT, "model": {}, "epoch": 2, "batch": 0}, 2)
    resumed = _resume_state(store, current)
    assert resumed is not None and resumed["epoch"] == 2
