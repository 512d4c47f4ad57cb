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
in Redis are deleted by the script itself.

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
from collections.abc import Iterator
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
from cornu.core.store.quotas import USAGE_FN
from cornu.core.store.values import text

log = logging.getLogger(__name__)

_SCAN_COUNT = 500

# The queued or running jobs in the set KEYS-named `users` (ids of jobs, whose hashes are
# `prefix .. id`); ids of deleted jobs leave the set. With `since`, also whether any of
# them (or the set's owner, by `used_at`) was in use at or after that time.
_USERS_FN = """
local function users(set, prefix)
  local busy = {}
  for _, id in ipairs(redis.call('SMEMBERS', set)) do
    local status = redis.call('HGET', prefix .. id, 'status')
    if status == 'queued' or status == 'running' then
      table.insert(busy, id)
    elseif not status then
      redis.call('SREM', set, id)
    end
  end
  table.sort(busy)
  return busy
end
local function used_since(set, prefix, since)
  for _, id in ipairs(redis.call('SMEMBERS', set)) do
    local finished = redis.call('HGET', prefix .. id, 'finished_at')
    if finished and finished >= since then return true end
  end
  return false
end
"""

# KEYS: dataset, its users, tenant's content index, garbage, tenant's usage
# ARGV: tenant, dataset id, job key prefix, object key, legacy key, unused since ('' : now),
#       now
_DELETE_DATASET = (
    _USERS_FN
    + USAGE_FN
    + """
if redis.call('HGET', KEYS[1], 'tenant') ~= ARGV[1] then return {'missing'} end
local busy = users(KEYS[2], ARGV[3])
if #busy > 0 then return {'in_use', unpack(busy)} end
if ARGV[6] ~= '' then
  local used = redis.call('HGET', KEYS[1], 'used_at')
  if not used then  -- recorded before retention: its period starts now
    redis.call('HSET', KEYS[1], 'used_at', ARGV[7])
    return {'recent'}
  end
  if used >= ARGV[6] or used_since(KEYS[2], ARGV[3], ARGV[6]) then return {'recent'} end
end
local meta = redis.call('HGET', KEYS[1], 'meta')
if meta then
  local sha = cjson.decode(meta)['sha256']
  if redis.call('HGET', KEYS[3], sha) == ARGV[2] then redis.call('HDEL', KEYS[3], sha) end
end
local blob = redis.call('HGET', KEYS[1], 'blob')
if blob then redis.call('RPUSH', KEYS[4], cjson.decode(blob)['key']) end
redis.call('RPUSH', KEYS[4], ARGV[4])
uncount(KEYS[5], KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2], ARGV[5])
return {'deleted'}
"""
)

# KEYS: job, tenant's jobs, its users, checkpoints, garbage, then the keys to delete
#       (metrics, events, feed, acks, lease, legacy weights, legacy state), then the users
#       sets (of its datasets, of its initial-weights job) it leaves, then the tenant's
#       indexes of its tags
# ARGV: tenant, job id, job key prefix, object prefix, finished before ('' : any time),
#       count of keys to delete, length of the legacy blob prefix, that prefix, count of
#       tag indexes
_DELETE_JOB = (
    _USERS_FN
    + """
if redis.call('HGET', KEYS[1], 'tenant') ~= ARGV[1] then return {'missing'} end
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'queued' or status == 'running' then return {'active', status} end
local busy = users(KEYS[3], ARGV[3])
if #busy > 0 then return {'in_use', unpack(busy)} end
if ARGV[5] ~= '' then
  local finished = redis.call('HGET', KEYS[1], 'finished_at')
  if not finished or finished >= ARGV[5] then return {'recent'} end
end
redis.call('RPUSH', KEYS[5], ARGV[4])  -- every object of the job is under its prefix
local legacy = {redis.call('HGET', KEYS[1], 'checkpoint')}
for _, meta in ipairs(redis.call('LRANGE', KEYS[4], 0, -1)) do
  table.insert(legacy, cjson.decode(meta)['key'])
end
for _, key in pairs(legacy) do
  if key and string.sub(key, 1, tonumber(ARGV[7])) == ARGV[8] then redis.call('DEL', key) end
end
local remove = 5 + tonumber(ARGV[6])
for i = 6, remove do redis.call('DEL', KEYS[i]) end
redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[2], ARGV[2])
local tags = tonumber(ARGV[9])
for i = remove + 1, #KEYS - tags do redis.call('SREM', KEYS[i], ARGV[2]) end
for i = #KEYS - tags + 1, #KEYS do redis.call('ZREM', KEYS[i], ARGV[2]) end
return {'deleted'}
"""
)


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
        self._delete_dataset = client.register_script(_DELETE_DATASET)
        self._delete_job = client.register_script(_DELETE_JOB)

    def delete_dataset(self, tenant: str, dataset_id: str) -> None:
        """Delete the tenant's dataset: its record, its content index entry and its bytes.
        NotFound if it is not the tenant's; InUse (409) while a queued or running job
        was submitted on it."""
        outcome = self._dataset(tenant, dataset_id, unused_since="")
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
        found = self._delete_dataset(
            keys=[keys.dataset(dataset_id), keys.dataset_users(dataset_id),
                  keys.tenant_datasets(tenant), keys.blob_garbage(), keys.tenant_usage(tenant)],
            args=[tenant, dataset_id, keys.JOB, keys.dataset_object(tenant, dataset_id),
                  keys.blob(BLOB_KIND, dataset_id), unused_since, now_iso()],
        )  # fmt: skip
        return _strings(found)

    def _job(self, tenant: str, job_id: str, finished_before: str) -> list[str]:
        removed = [
            keys.job_metrics(job_id), keys.job_events(job_id), keys.job_feed(job_id),
            keys.job_acks(job_id), keys.job_lease(job_id), keys.blob(WEIGHTS, job_id),
            keys.blob(STATE, job_id),
        ]  # fmt: skip
        users, tags = self._references(tenant, job_id)
        found = self._delete_job(
            keys=[keys.job(job_id), keys.tenant_jobs(tenant), keys.job_users(job_id),
                  keys.job_checkpoints(job_id), keys.blob_garbage(), *removed, *users, *tags],
            args=[tenant, job_id, keys.JOB, keys.job_objects(tenant, job_id), finished_before,
                  len(removed), len(keys.LEGACY_BLOB), keys.LEGACY_BLOB, len(tags)],
        )  # fmt: skip
        return _strings(found)

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


def _strings(found: Any) -> list[str]:
    return [str(text(v)) for v in found]


def _jobs(ids: list[str]) -> str:
    shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
    return f"job{'s' if len(ids) > 1 else ''} {shown}"
