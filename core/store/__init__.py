"""Persistence: records, metrics, leases, indexes and queues in Redis; bytes (datasets,
weights, checkpoints) in the blob store. The one place that speaks Redis and S3."""

from __future__ import annotations

import redis

from cornu.core.config import Settings
from cornu.core.store.backends import open_blob_store
from cornu.core.store.blobs import Blobs
from cornu.core.store.blobstore import BlobStore, BlobUnavailable
from cornu.core.store.calls import Calls
from cornu.core.store.datasets import Datasets
from cornu.core.store.fleet import Fleet
from cornu.core.store.idempotency import Idempotency
from cornu.core.store.jobs import Jobs
from cornu.core.store.lifecycle import Lifecycle
from cornu.core.store.quotas import Quotas, default_quota
from cornu.core.store.runs import Claim, Runs
from cornu.core.store.studies import Studies
from cornu.core.store.tenants import Tenants
from cornu.core.store.uploads import Uploads

# What a store call raises when Redis or the blob store does not answer, or Redis is at
# its `maxmemory` (noeviction: writes refused with OOM until memory is freed): callers
# report 503 and retry; a worker gives its job back to be retried, never fails it.
UNAVAILABLE: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
    redis.exceptions.OutOfMemoryError,
    BlobUnavailable,
)


class Store:
    """Jobs, runs, datasets and tenants over one Redis connection pool and one blob store
    (`settings.blob_location`, unless `blob_store` is given)."""

    def __init__(
        self,
        client: redis.Redis,
        settings: Settings | None = None,
        blob_store: BlobStore | None = None,
    ) -> None:
        settings = settings or Settings()
        self.redis = client
        self.blobs = Blobs(blob_store or open_blob_store(settings.blob_location), client)
        self.tenants = Tenants(client)
        self.quotas = Quotas(client, default_quota(settings))
        self.datasets = Datasets(client, self.blobs, self.quotas)
        self.uploads = Uploads(client, self.blobs.store)
        self.jobs = Jobs(client, self.blobs, max_epochs=settings.max_epochs)
        self.runs = Runs(
            client,
            self.blobs,
            max_epochs=settings.max_epochs,
            lease_ms=int(settings.lease_seconds * 1000),
        )
        self.calls = Calls(client)  # evaluate, predict and export, run by workers
        self.studies = Studies(client)  # hyperparameter searches (`core.studies`)
        self.fleet = Fleet(client)  # workers, their accelerators and heartbeats
        self.idempotency = Idempotency(client, ttl_s=settings.idempotency_ttl_seconds)
        self.lifecycle = Lifecycle(client, self.blobs)  # deletes, and the retention sweep

    @classmethod
    def from_url(cls, url: str, settings: Settings | None = None) -> Store:
        timeout = settings.redis_timeout_seconds if settings else 3.0
        client = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        return cls(client, settings)

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        return cls.from_url(settings.redis_url, settings)

    def ping(self) -> bool:
        try:
            return bool(self.redis.ping())
        except UNAVAILABLE:
            return False

    def full(self) -> bool:
        """Whether Redis is at its `maxmemory` (so it refuses writes): INFO's own figures."""
        try:
            memory: dict[str, int] = self.redis.info("memory")
        except UNAVAILABLE:
            return False
        limit = int(memory.get("maxmemory", 0))
        return limit > 0 and int(memory.get("used_memory", 0)) >= limit

    def close(self) -> None:
        self.redis.close()
        self.blobs.store.close()


__all__ = [
    "UNAVAILABLE",
    "BlobStore",
    "BlobUnavailable",
    "Blobs",
    "Calls",
    "Claim",
    "Datasets",
    "Fleet",
    "Idempotency",
    "Jobs",
    "Lifecycle",
    "Quotas",
    "Runs",
    "Store",
    "Studies",
    "Tenants",
]
