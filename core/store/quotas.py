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
on several hosts agree. The scripts are `core/store/lua/throttle.lua` and the shared
functions `lib/usage.lua` (datasets) and `lib/charge.lua` (training time).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import redis

from cornu.core.config import Settings
from cornu.core.spec import Quota, QuotaChange, Usage, UsagePeriod
from cornu.core.spec.resources import DayUsage, DeviceUsage
from cornu.core.store import keys
from cornu.core.store.values import text_fields

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

    def usage(self, tenant: str, period: tuple[date, date] | None = None) -> Usage:
        """What `tenant` holds and has used, with its quota; with `period` (first and last
        UTC day), its device-seconds and cost over those days."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(keys.tenant_usage(tenant))
        pipe.zcard(keys.tenant_jobs(tenant))
        pipe.scard(keys.tenant_active(tenant))
        pipe.zcount(keys.tenant_streams(tenant), "(" + repr(self._now()), "+inf")
        pipe.hgetall(keys.tenant_quota(tenant))
        if period is not None:
            pipe.hgetall(keys.tenant_usage_days(tenant))
        counted, kept, active, streams, own, *days = pipe.execute()
        counted = text_fields(counted)
        return Usage(
            tenant=tenant,
            stored_bytes=int(counted.get("stored_bytes", 0)),
            datasets=int(counted.get("datasets", 0)),
            jobs_kept=kept,
            active_jobs=active,
            streams=streams,
            compute_seconds=round(float(counted.get("compute_seconds", 0.0)), 3),
            device_seconds=round(float(counted.get("device_seconds", 0.0)), 3),
            cost=_money(counted.get("cost")),
            period=None if period is None else _period(text_fields(days[0]), *period),
            quota=self._overlay(text_fields(own)),
        )

    def _now(self) -> float:
        seconds, micros = self.redis.time()
        return float(seconds) + micros / 1e6


def _money(value: str | float | None) -> float | None:
    return None if value is None else round(float(value), 9)


def _period(fields: dict[str, str], start: date, end: date) -> UsagePeriod:
    """The days hash's fields (`<day> <class> device_seconds|cost`) from `start` to `end`
    summed by class and by day."""
    by_class: dict[str, dict[str, float]] = {}
    by_day: dict[str, dict[str, float]] = {}
    first, last = start.isoformat(), end.isoformat()
    for field, value in fields.items():
        day, accelerator, what = field.split(" ")
        if first <= day <= last:
            for bucket in by_class.setdefault(accelerator, {}), by_day.setdefault(day, {}):
                bucket[what] = bucket.get(what, 0.0) + float(value)

    def summed(buckets: Iterable[dict[str, float]]) -> dict[str, Any]:
        buckets = list(buckets)
        costs = [b["cost"] for b in buckets if "cost" in b]
        return {
            "device_seconds": round(sum(b.get("device_seconds", 0.0) for b in buckets), 3),
            "cost": _money(sum(costs)) if costs else None,
        }

    return UsagePeriod(
        start=start,
        end=end,
        **summed(by_class.values()),
        by_accelerator={name: DeviceUsage(**summed([b])) for name, b in sorted(by_class.items())},
        days=[DayUsage(date=day, **summed([b])) for day, b in sorted(by_day.items())],
    )
