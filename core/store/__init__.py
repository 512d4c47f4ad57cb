"""Redis persistence: the one place that speaks Redis and names its keys."""

from __future__ import annotations

import redis

from core.store.blobs import Blobs
from core.store.datasets import Datasets
from core.store.jobs import Jobs
from core.store.tenants import Tenants

# What a store call raises when Redis does not answer: callers report 503 and retry.
UNAVAILABLE: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
)


class Store:
    """Jobs, datasets and tenants over one Redis connection pool."""

    def __init__(self, client: redis.Redis, *, max_epochs: int = 10_000) -> None:
        self.redis = client
        self.blobs = Blobs(client)
        self.tenants = Tenants(client)
        self.datasets = Datasets(client, self.blobs)
        self.jobs = Jobs(client, self.blobs, max_epochs=max_epochs)

    @classmethod
    def from_url(cls, url: str, *, timeout_s: float = 3.0, max_epochs: int = 10_000) -> Store:
        client = redis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            health_check_interval=30,
        )
        return cls(client, max_epochs=max_epochs)

    def ping(self) -> bool:
        try:
            return bool(self.redis.ping())
        except UNAVAILABLE:
            return False

    def close(self) -> None:
        self.redis.close()


__all__ = ["UNAVAILABLE", "Blobs", "Datasets", "Jobs", "Store", "Tenants"]
