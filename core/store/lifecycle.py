"""Deleting datasets and jobs, by their owner or by the retention policy: the records leave
Redis and the bytes leave the blob store.

The rule: a dataset that a queued or running job was submitted on, or a job whose
weights a queued or running job starts from (`fit.initial_weights`), cannot be deleted
(`InUse`, naming those jobs); a queued or running job cannot be deleted (cancel it
first). Each check and its delete are one Lua script, and so is a job's submission
(`Jobs.create` checks that its datasets and initial-weights job exist and adds itself
to their `users` sets in the same step), so a delete and a submission never both
succeed on the same data: whichever runs first wins, and the other gets 409 or 422.

The script removes the records and puts the objects' keys (and the job's whole object
prefix, ending in `/`) on the garbage list; `Blobs.collect` then deletes the bytes, and
the reaper does it again should this process die in between. Bytes an older Cornu kept
in Redis under keys known before the script runs (a dataset's, a job's weights and
state) are deleted by the script itself; its checkpoints' Redis blobs, named in its
record, go on the garbage list too.

A users set's members are read before the script, which is given their records as keys
(every key a script touches is declared, `core.store.lua`) and answers `retry` should
the set have changed meanwhile; the delete then reads it again.

A running job never loses its data to a delete (the rule); should its bytes go behind
the service's back (by hand, in the bucket), a job that has not read them yet fails with
an error naming the dataset (`DataError` from the reader), one that has read them
finishes, and the worker goes on. A download streaming while its job is deleted may be
cut short (a file already open stays readable; S3 finishes or breaks the GET).

Times are compared as ISO 8601 strings (`now_iso()`: UTC, one format), which sort as
the times they name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from cornu.core.errors import Conflict, InUse, NotFound
from cornu.core.spec import JobSpec
from cornu.core.store import keys
from cornu.core.store.blobs import Blobs
from cornu.core.store.datasets import BLOB_KIND
from cornu.core.store.jobs import STATE, WEIGHTS, now_iso
from cornu.core.store.lua import Script
from cornu.core.store.values import text

log = logging.getLogger(__name__)

_SCAN_COUNT = 500
# A delete reads the users set it checks before its script runs, which refuses (and the
# delete reads it again) should the set change in between: a submission that slipped in.
_RETRIES = 5


@dataclass(frozen=True)
class Swept:
    """What one retention sweep deleted: job ids and dataset ids."""

    jobs: list[str]
    datasets: list[str]


class Lifecycle:
    """Deletes datasets and jobs (`DELETE /v1/datasets/{id}`, `DELETE /v1/jobs/{id}`)
    and sweeps what the retention policy lets go."""

    def __init__(self, client: redis.Redis, blobs: Blobs) -> None:
        self.redis = client
        self.blobs = blobs
        self._delete_dataset = Script(client, "delete_dataset")
        self._delete_job = Script(client, "delete_job")

    def delete_dataset(self, tenant: str, dataset_id: str) -> None:
        """Delete the tenant's dataset: its record, its content index entry and its bytes.
        NotFound if it is not the tenant's; InUse (409) while a queued or running job
        was submitted on it."""
        outcome = self._dataset(tenant, dataset_id, unused_since="")
        _raise_if_retry(outcome, f"dataset {dataset_id}")
        if outcome[0] == "missing":
            raise NotFound(f"no dataset {dataset_id!r}")
        if outcome[0] == "in_use":
            jobs = outcome[1:]
            raise InUse(
                f"dataset {dataset_id} is used by {_jobs(jobs)}, queued or running; delete it "
                "when they have ended, or cancel them first",
                jobs,
            )
        self.blobs.collect()

    def delete_job(self, tenant: str, job_id: str) -> None:
        """Delete the tenant's finished job: its record, metrics, events, checkpoints,
        weights and exports. NotFound if it is not the tenant's; Conflict (409) while it
        is queued or running (cancel it first); InUse while a queued or running job
        starts from its weights."""
        outcome = self._job(tenant, job_id, finished_before="")
        _raise_if_retry(outcome, f"job {job_id}")
        if outcome[0] == "missing":
            raise NotFound(f"no job {job_id!r}")
        if outcome[0] == "active":
            raise Conflict(
                f"job {job_id} is {outcome[1]}; cancel it first (POST /v1/jobs/{job_id}/cancel "
                "or `cornu cancel`), then delete it once it has stopped"
            )
        if outcome[0] == "in_use":
            jobs = outcome[1:]
            raise InUse(
                f"job {job_id}'s weights are the initial_weights of {_jobs(jobs)}, queued or "
                "running; delete it when they have ended, or cancel them first",
                jobs,
            )
        self.blobs.collect()

    # -- retention ---------------------------------------------------------------------

    def sweep(self, retention_s: float, limit: int = 1000) -> Swept:
        """Delete finished jobs that ended more than `retention_s` ago, then datasets no
        job was submitted on or ran on for that long (at most `limit` of each per call;
        the next sweep goes on). What is in use stays, as with a delete."""
        cutoff = (datetime.now(UTC) - timedelta(seconds=retention_s)).isoformat()
        jobs: list[str] = []
        for job_id, tenant, finished in self._records(keys.JOB, ["tenant", "finished_at"]):
            if len(jobs) >= limit:
                break
            if finished and finished < cutoff and self._job(tenant, job_id, cutoff) == ["deleted"]:
                jobs.append(job_id)
        datasets: list[str] = []
        for dataset_id, tenant, _ in self._records(keys.dataset(""), ["tenant", "used_at"]):
            if len(datasets) >= limit:
                break
            if self._dataset(tenant, dataset_id, cutoff) == ["deleted"]:
                datasets.append(dataset_id)
        self.blobs.collect()
        if jobs or datasets:
            log.info("retention: deleted %d jobs and %d datasets", len(jobs), len(datasets))
        return Swept(jobs, datasets)

    def _records(self, prefix: str, fields: list[str]) -> Iterator[tuple[str, str, str | None]]:
        """(id, tenant, second field) of each record hash whose key is `prefix` + an id."""
        for raw in self.redis.scan_iter(match=prefix + "*", count=_SCAN_COUNT, _type="hash"):
            key = str(text(raw))
            record_id = key.removeprefix(prefix)
            if ":" in record_id:
                continue
            tenant, second = (text(v) for v in self.redis.hmget(key, fields))
            if tenant is not None:
                yield record_id, tenant, second

    # -- the scripts -------------------------------------------------------------------

    def _dataset(self, tenant: str, dataset_id: str, unused_since: str) -> list[str]:
        def run(records: list[str]) -> Any:
            return self._delete_dataset(
                keys={"dataset": keys.dataset(dataset_id), "users": keys.dataset_users(dataset_id),
                      "datasets": keys.tenant_datasets(tenant), "garbage": keys.blob_garbage(),
                      "usage": keys.tenant_usage(tenant),
                      "legacy": keys.blob(BLOB_KIND, dataset_id), "records": records},
                args={"tenant": tenant, "dataset_id": dataset_id, "job_prefix": keys.JOB,
                      "object": keys.dataset_object(tenant, dataset_id),
                      "since": unused_since, "now": now_iso()},
            )  # fmt: skip

        return self._retried(keys.dataset_users(dataset_id), run)

    def _job(self, tenant: str, job_id: str, finished_before: str) -> list[str]:
        sets, tags = self._references(tenant, job_id)

        def run(records: list[str]) -> Any:
            return self._delete_job(
                keys={"job": keys.job(job_id), "jobs": keys.tenant_jobs(tenant),
                      "users": keys.job_users(job_id), "checkpoints": keys.job_checkpoints(job_id),
                      "garbage": keys.blob_garbage(), "metrics": keys.job_metrics(job_id),
                      "events": keys.job_events(job_id), "feed": keys.job_feed(job_id),
                      "acks": keys.job_acks(job_id), "lease": keys.job_lease(job_id),
                      "weights": keys.blob(WEIGHTS, job_id), "state": keys.blob(STATE, job_id),
                      "rest": [*records, *sets, *tags]},
                args={"tenant": tenant, "job_id": job_id, "job_prefix": keys.JOB,
                      "objects": keys.job_objects(tenant, job_id),
                      "finished_before": finished_before, "users_count": len(records),
                      "tags": len(tags)},
            )  # fmt: skip

        return self._retried(keys.job_users(job_id), run)

    def _retried(self, users: str, run: Callable[[list[str]], Any]) -> list[str]:
        """A delete's outcome: `run` with the records of the jobs in the users set
        `users`, again while the set changes under it (`['retry']` once it gave up)."""
        found = ["retry"]
        for _ in range(_RETRIES):
            members = sorted(str(text(i)) for i in self.redis.smembers(users))
            found = _strings(run([keys.job(i) for i in members]))
            if found != ["retry"]:
                break
        return found

    def _references(self, tenant: str, job_id: str) -> tuple[list[str], list[str]]:
        """The users sets a job is in (its datasets', its initial-weights job's), and the
        tenant's indexes of its tags."""
        raw = self.redis.hget(keys.job(job_id), "spec")
        if raw is None:
            return [], []
        spec = JobSpec.model_validate_json(raw)
        sets = [keys.dataset_users(d) for d in sorted(spec.dataset_ids())]
        if isinstance(spec.fit.initial_weights, str):
            sets.append(keys.job_users(spec.fit.initial_weights))
        return sets, [keys.tenant_tag(tenant, tag) for tag in spec.tags]


def _raise_if_retry(outcome: list[str], what: str) -> None:
    """Conflict when the jobs using `what` kept changing while the delete checked them."""
    if outcome == ["retry"]:
        raise Conflict(
            f"the jobs using {what} kept changing while it was being deleted; try the delete again"
        )


def _strings(found: Any) -> list[str]:
    return [str(text(v)) for v in found]


def _jobs(ids: list[str]) -> str:
    shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
    return f"job{'s' if len(ids) > 1 else ''} {shown}"
