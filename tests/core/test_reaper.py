"""The reaper's round against a real Redis (a database of its own, emptied first): what it
does with a running job that lost its worker, with a queued job whose task may never
have reached the broker, and that only the process holding its office acts."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from cornu.core.config import Settings
from cornu.core.errors import ServiceUnavailable
from cornu.core.ids import new_id
from cornu.core.reaper import Reaper
from cornu.core.spec import JobSpec, JobStatus
from cornu.core.spec.resources import ReaperOutcome
from cornu.core.store import Store
from tests.core.store.test_runs import SPEC

LEASE_S = 0.3


@pytest.fixture
def settings(redis_url: str) -> Settings:
    return Settings(
        redis_url=redis_url.rsplit("/", 1)[0] + "/5",
        lease_seconds=LEASE_S,
        dispatch_grace_seconds=0.2,
        max_attempts=2,
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    store = Store.from_url(settings.redis_url, settings)
    store.redis.flushdb()
    yield store
    store.close()


class Broker:
    """What the reaper sends tasks to: records them, or is down."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.down = False

    def __call__(self, job_id: str) -> None:
        if self.down:
            raise ServiceUnavailable("the broker is not answering")
        self.sent.append(job_id)


def running_then_lost(store: Store, spec: JobSpec = SPEC) -> tuple[str, str]:
    """A job claimed by a worker that then stopped renewing its lease."""
    owner = f"t{time.time_ns()}"
    job_id = store.jobs.create(owner, new_id("job"), spec).id
    store.jobs.dispatched(job_id)  # its task reached the broker
    assert store.runs.claim(job_id, "lost-worker") is not None
    time.sleep(LEASE_S + 0.2)
    return owner, job_id


def test_a_lost_workers_job_is_requeued_and_sent_again(store: Store, settings: Settings) -> None:
    owner, job_id = running_then_lost(store)
    broker = Broker()
    done = Reaper(store, settings, broker).step()
    assert done == {job_id: ReaperOutcome.requeued} and broker.sent == [job_id]
    assert store.jobs.get(owner, job_id).status is JobStatus.queued
    assert Reaper(store, settings, broker).step() == {}  # sent: nothing left to do
    types = [e.type for e in store.jobs.events(owner, job_id)]
    assert types[-2:] == ["lease_lost", "requeued"]


def test_a_job_that_loses_max_attempts_workers_fails(store: Store, settings: Settings) -> None:
    owner, job_id = running_then_lost(store)
    broker = Broker()
    Reaper(store, settings, broker).step()
    assert store.runs.claim(job_id, "second-worker") is not None  # attempt 2 of 2
    time.sleep(LEASE_S + 0.2)
    assert Reaper(store, settings, broker).step() == {job_id: ReaperOutcome.failed}
    assert broker.sent == [job_id]  # sent after the first loss only
    job = store.jobs.get(owner, job_id)
    assert job.status is JobStatus.failed and "was lost 2 times" in str(job.error)


def test_a_job_cancelled_while_its_worker_was_lost_ends_cancelled(
    store: Store, settings: Settings
) -> None:
    owner, job_id = running_then_lost(store)
    store.jobs.cancel(owner, job_id)  # asked of a worker that no longer listens
    broker = Broker()
    assert Reaper(store, settings, broker).step() == {job_id: ReaperOutcome.cancelled}
    assert broker.sent == [] and store.jobs.get(owner, job_id).status is JobStatus.cancelled


def test_a_queued_job_whose_task_never_reached_the_broker_is_sent_once_it_answers(
    store: Store, settings: Settings
) -> None:
    owner = f"t{time.time_ns()}"
    job_id = store.jobs.create(owner, new_id("job"), SPEC).id  # no dispatched(): lost
    broker = Broker()
    assert Reaper(store, settings, broker).step() == {}  # within the grace period
    time.sleep(0.3)
    broker.down = True
    assert Reaper(store, settings, broker).step() == {job_id: ReaperOutcome.dispatched}
    assert broker.sent == []  # not sent: tried again next round
    broker.down = False
    assert Reaper(store, settings, broker).step() == {job_id: ReaperOutcome.dispatched}
    assert broker.sent == [job_id]
    assert Reaper(store, settings, broker).step() == {}


def test_only_the_process_holding_the_office_acts(store: Store, settings: Settings) -> None:
    _, job_id = running_then_lost(store)
    holder, other = Reaper(store, settings, Broker()), Reaper(store, settings, Broker())
    holder.node, other.node = "host-a:1", "host-b:2"
    assert holder.step() == {job_id: ReaperOutcome.requeued}
    assert store.runs.claim(job_id, "w") is not None
    time.sleep(LEASE_S + 0.2)
    assert other.step() == {}  # the office is held (for three intervals) by host-a
    assert holder.step() == {job_id: ReaperOutcome.failed}  # its second lost worker
