"""Each tenant's quota and usage, and its request rate.

A tenant's quota is the service's defaults (`Settings.quota_*`, `max_active_jobs`,
`max_streams_per_tenant`) overlaid with what an operator set for it (`keys.tenant_quota`).
Usage is counted where it changes, in the same Lua script as the change, so a count never
drifts from the records: a dataset's record adds its stored bytes (and refuses past the
quota, `Datasets.record`), its delete takes them off; a committed epoch or checkpoint adds
the job's new training time (`Runs`). Jobs kept, active jobs and open streams are the
sizes of their own sets.

Datasets recorded before quotas existed carry no `counted` mark and are not counted (nor
taken off when deleted).

The request rate is GCRA (the generic cell rate algorithm, ITU-T I.371; a token bucket
that needs no timer): one key per tenant holds the time its next request would be due at
the sustained rate; a request more than `request_burst` intervals early is refused with
the wait that would let it through. Times come from Redis's own clock, so API processes
on several hosts agree.
"""

from __future__ import annotations

from typing import Any

import redis

from cornu.core.config import Settings
from cornu.core.spec import Quota, QuotaChange, Usage
from cornu.core.store import keys
from cornu.core.store.values import text_fields

# KEYS: the tenant's rate key, the tenant's quota   ARGV: the default rate (requests per
# second), the default burst → 0 when the request may pass, else the µs to wait until it
# would (and the request is not counted).
THROTTLE = """
local own = redis.call('HMGET', KEYS[2], 'requests_per_second', 'request_burst')
local interval = 1000000 / tonumber(own[1] or ARGV[1])
local tolerance = interval * tonumber(own[2] or ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local due = tonumber(redis.call('GET', KEYS[1]) or '0')
if due < now then due = now end
local wait = due + interval - tolerance - now
if wait > 0 then return math.ceil(wait) end
redis.call('SET', KEYS[1], string.format('%.0f', due + interval),
           'PX', math.ceil((due + interval - now) / 1000) + 1000)
return 0
"""

# Lua shared by the scripts that record or delete a dataset: its usage, counted once.
# `count(usage, record, bytes, limit_bytes, limit_datasets)` marks the record counted and
# adds it, or returns false (nothing changed) past a limit; `uncount(usage, record)` takes
# a counted record off.
USAGE_FN = """
local function count(usage, record, bytes, limit_bytes, limit_datasets)
  local u = redis.call('HMGET', usage, 'stored_bytes', 'datasets')
  local used, held = tonumber(u[1] or '0'), tonumber(u[2] or '0')
  if used + bytes > limit_bytes or held + 1 > limit_datasets then return false end
  redis.call('HINCRBY', usage, 'stored_bytes', bytes)
  redis.call('HINCRBY', usage, 'datasets', 1)
  redis.call('HSET', record, 'counted', bytes)
  return true
end
local function uncount(usage, record)
  local bytes = redis.call('HGET', record, 'counted')
  if not bytes then return end
  redis.call('HINCRBY', usage, 'stored_bytes', -tonumber(bytes))
  redis.call('HINCRBY', usage, 'datasets', -1)
  redis.call('HDEL', record, 'counted')
end
"""

# Lua shared by the scripts that move a job's `run_seconds` on: the tenant's compute.
CHARGE_FN = """
local function charge(job, usage, run_seconds)
  local before = tonumber(redis.call('HGET', job, 'run_seconds') or '0')
  local now = tonumber(run_seconds)
  if now > before then
    redis.call('HINCRBYFLOAT', usage, 'compute_seconds', string.format('%.6f', now - before))
  end
end
"""

_INTS = ("stored_bytes", "datasets", "jobs_kept", "active_jobs", "streams", "request_burst")


def default_quota(settings: Settings) -> Quota:
    """The quota of a tenant nobody set one for. `max_active_jobs` 0 means no limit, as
    it always has."""
    return Quota(
        stored_bytes=settings.quota_stored_bytes,
        datasets=settings.quota_datasets,
        jobs_kept=settings.quota_jobs_kept,
        active_jobs=settings.max_active_jobs or 2**31,
        streams=settings.max_streams_per_tenant,
        requests_per_second=settings.quota_requests_per_second,
        request_burst=settings.quota_request_burst,
    )


class Quotas:
    def __init__(self, client: redis.Redis, defaults: Quota) -> None:
        self.redis = client
        self.defaults = defaults

    def get(self, tenant: str) -> Quota:
        """The tenant's quota: its own values over the defaults."""
        own = text_fields(self.redis.hgetall(keys.tenant_quota(tenant)))
        return self._overlay(own)

    def _overlay(self, own: dict[str, str]) -> Quota:
        values: dict[str, Any] = self.defaults.model_dump()
        for name, value in own.items():
            if name in values:
                values[name] = int(value) if name in _INTS else float(value)
        return Quota.model_validate(values)

    def set(self, tenant: str, change: QuotaChange) -> Quota:
        """Apply `change` to the tenant's own quota (null: back to the default); the
        quota that results. Takes effect from the tenant's next request."""
        given = change.model_dump(exclude_unset=True)
        pipe = self.redis.pipeline(transaction=True)
        for name, value in given.items():
            if value is None:
                pipe.hdel(keys.tenant_quota(tenant), name)
            else:
                pipe.hset(keys.tenant_quota(tenant), name, repr(value))
        pipe.hgetall(keys.tenant_quota(tenant))
        return self._overlay(text_fields(pipe.execute()[-1]))

    def usage(self, tenant: str) -> Usage:
        """What `tenant` holds and has used, with its quota."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(keys.tenant_usage(tenant))
        pipe.zcard(keys.tenant_jobs(tenant))
        pipe.scard(keys.tenant_active(tenant))
        pipe.zcount(keys.tenant_streams(tenant), "(" + repr(self._now()), "+inf")
        pipe.hgetall(keys.tenant_quota(tenant))
        counted, kept, active, streams, own = pipe.execute()
        counted = text_fields(counted)
        return Usage(
            tenant=tenant,
            stored_bytes=int(counted.get("stored_bytes", 0)),
            datasets=int(counted.get("datasets", 0)),
            jobs_kept=kept,
            active_jobs=active,
            streams=streams,
            compute_seconds=round(float(counted.get("compute_seconds", 0.0)), 3),
            quota=self._overlay(text_fields(own)),
        )

    def _now(self) -> float:
        seconds, micros = self.redis.time()
        return float(seconds) + micros / 1e6
