"""The API's hot paths on redis.asyncio: the caller's key and request rate, a job, a page
of jobs, a job's metrics. Every request reads a key; polling clients read jobs and
metrics many times a second. Done here on the event loop, these hold no thread and
wait on no thread pool; what they read is parsed by the same functions as the sync
store's (`tenants.key_info`, `jobs.job_from`, `jobs.metrics_from`), so both agree.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio

from cornu.core.errors import NotFound
from cornu.core.spec import Job, JobPage, Metrics, Quota
from cornu.core.store import keys
from cornu.core.store.jobs import job_from, metrics_from, page_from, page_range
from cornu.core.store.lua import AsyncScript
from cornu.core.store.tenants import KeyInfo, digest, key_info, may_be_key
from cornu.core.store.values import text, text_fields


class Reads:
    def __init__(self, client: redis.asyncio.Redis, defaults: Quota) -> None:
        self.redis = client
        self.defaults = defaults
        self._throttle = AsyncScript(client, "throttle")

    async def principal(self, api_key: str) -> KeyInfo | None:
        """What is kept of `api_key` if it is valid (not revoked, not expired), else None
        (as `Tenants.principal`)."""
        if not may_be_key(api_key):
            return None
        fields: Any = await self.redis.hgetall(keys.api_key(digest(api_key)))
        info = key_info(fields)
        return info if info is not None and not info.expired() else None

    async def admit(self, tenant: str) -> float:
        """Count one request of `tenant` against its quota's rate (`lua/throttle.lua`):
        0.0 if it may pass, else the seconds until it would (the request is then not
        counted)."""
        try:
            wait_us = await self._throttle(
                keys={"rate": keys.tenant_rate(tenant), "quota": keys.tenant_quota(tenant)},
                args={
                    "rate_default": repr(self.defaults.requests_per_second),
                    "burst_default": self.defaults.request_burst,
                },
            )
        except redis.exceptions.OutOfMemoryError:
            # Redis at its maxmemory refuses the count (a write): the request passes
            # uncounted, so that reads still answer; its writes are refused anyway.
            return 0.0
        return int(str(text(wait_us))) / 1e6

    async def job(self, tenant: str, job_id: str) -> Job:
        """The tenant's job; NotFound for any other (as `Jobs.get`)."""
        fields = text_fields(await self.redis.hgetall(keys.job(job_id)))
        if fields.get("tenant") != tenant:
            raise NotFound(f"no job {job_id!r}")
        return job_from(job_id, fields)

    async def page(
        self, tenant: str, limit: int, cursor: str | None = None, tag: str | None = None
    ) -> JobPage:
        """The tenant's jobs (with `tag`, if given), newest first (as `Jobs.page`)."""
        index = keys.tenant_tag(tenant, tag) if tag is not None else keys.tenant_jobs(tenant)
        found = await self.redis.zrevrangebylex(index, *page_range(cursor, limit))
        ids = [str(text(i)) for i in found][:limit]
        pipe = self.redis.pipeline(transaction=False)
        for job_id in ids:
            pipe.hgetall(keys.job(job_id))
        return page_from(ids, await pipe.execute(), more=len(found) > limit)

    async def metrics(self, tenant: str, job_id: str) -> Metrics:
        """The job's History and epoch logs (as `Jobs.metrics`)."""
        await self.job(tenant, job_id)
        entries: Any = await self.redis.xrange(keys.job_metrics(job_id))
        return metrics_from(entries)
