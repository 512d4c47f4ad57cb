"""Redis persistence: the one place that speaks Redis and names its keys."""

from __future__ import annotations

import redis

from cornu.core.config import Settings
from cornu.core.store.blobs import Blobs
from cornu.core.store.datasets import Datasets
from cornu.core.store.idempotency import Idempotency
from cornu.core.store.jobs import Jobs
from cornu.core.store.runs import Claim, Runs
from cornu.core.store.tenants import Tenants

# What a store call raises when Redis does not answer: callers report 503 and retry.
UNAVAILABLE: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
)


class Store:
    """Jobs, runs, datasets and tenants over one Redis connection pool."""

    def __init__(self, client: redis.Redis, settings: Settings | None = None) -> None:
        settings = settings or Settings()
        self.redis = client
        self.blobs = Blobs(client)
        self.tenants = Tenants(client)
        self.datasets = Datasets(client, self.blobs)
        self.jobs = Jobs(client, self.blobs, max_epochs=settings.max_epochs)
        self.runs = Runs(
            client,
            self.blobs,
            max_epochs=settings.max_epochs,
            lease_ms=int(settings.lease_seconds * 1000),
        )
        self.idempotency = Idempotency(client, ttl_s=settings.idempotency_ttl_seconds)

    @classmethod
    def from_url(cls, url: str, settings: Settings | None = None) -> Store:
        timeout = settings.redis_timeout_s if settings else 3.0
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

    def close(self) -> None:
        self.redis.close()


__all__ = [
    "UNAVAILABLE",
    "Blobs",
    "Claim",
    "Datasets",
    "Idempotency",
    "Jobs",
    "Runs",
    "Store",
    "Tenants",
]
