"""The service's state as Prometheus metrics, read from Redis when scraped (`/metrics`).

Queue depth per queue — the default training queue, each accelerator class's, the
inference queue — is the autoscaling signal (a class's depth says how many more of its
workers would be busy); the rest says what runs: jobs running, studies running, workers
up per class and each worker's last heartbeat. Counts only: no tenant, job or dataset
name appears.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from cornu.core.config import Settings
from cornu.core.queue import PRIORITIES, accelerator_queue
from cornu.core.store import UNAVAILABLE, Store, keys


def queue_depth(store: Store, queue: str) -> int:
    """Messages waiting in a Celery queue on Redis: its list and its priority lists
    (`queue`, `queue:1` … `queue:9`, as `core.queue` configures the transport)."""
    pipe = store.redis.pipeline(transaction=False)
    pipe.llen(queue)
    for step in range(1, PRIORITIES):
        pipe.llen(f"{queue}:{step}")
    return sum(int(n) for n in pipe.execute())


class ServiceCollector(Collector):
    """Gauges read from the store at each scrape; none when Redis does not answer
    (`cornu_up` 0)."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store, self.settings = store, settings

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("cornu_up", "1 when the store answered this scrape")
        try:
            families = list(self._read())
        except UNAVAILABLE:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> Iterator[GaugeMetricFamily]:
        store, settings = self.store, self.settings
        classes = store.fleet.classes()
        depth = GaugeMetricFamily(
            "cornu_queue_depth",
            "tasks waiting in a queue: training (any class), a class's own, inference",
            labels=["queue", "accelerator"],
        )
        depth.add_metric([settings.queue, "any"], queue_depth(store, settings.queue))
        for name in classes:
            queue = accelerator_queue(settings.queue, name)
            depth.add_metric([queue, name], queue_depth(store, queue))
        inference = settings.inference_queue
        depth.add_metric([inference, "inference"], queue_depth(store, inference))
        yield depth
        running = GaugeMetricFamily("cornu_jobs_running", "jobs a worker is training now")
        running.add_metric([], int(store.redis.scard(keys.running())))
        yield running
        studies = GaugeMetricFamily("cornu_studies_running", "hyperparameter studies running")
        studies.add_metric([], int(store.redis.scard(keys.studies_running())))
        yield studies
        workers = GaugeMetricFamily(
            "cornu_workers", "workers with a live heartbeat, by accelerator class",
            labels=["accelerator"],
        )  # fmt: skip
        for name, found in classes.items():
            workers.add_metric([name], found.workers)
        yield workers
        beats = GaugeMetricFamily(
            "cornu_worker_last_heartbeat_seconds", "Unix time of each worker's last heartbeat",
            labels=["worker", "accelerator"],
        )  # fmt: skip
        busy = GaugeMetricFamily(
            "cornu_worker_busy", "1 while the worker trains a job", labels=["worker", "accelerator"]
        )
        for worker in store.fleet.workers():
            beats.add_metric([worker.id, worker.accelerator], worker.last_heartbeat)
            busy.add_metric([worker.id, worker.accelerator], 1 if worker.job else 0)
        yield beats
        yield busy
