"""The service's state as Prometheus metrics, read from Redis when scraped (`/metrics`).

Queue depth per queue — the default training queue, each accelerator class's, the
inference queue — is the autoscaling signal (a class's depth says how many more of its
workers would be busy); the rest says what runs: jobs running, studies running, workers
up per class and each worker's last heartbeat. Counts only: no tenant, job or dataset
name appears.

A training worker serves metrics of its own (`cornu worker --metrics-port`): epoch and
batch times, jobs ended by status, and its GPUs' utilisation and memory from NVML.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
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


# -- a worker's own metrics (`cornu worker --metrics-port`) ------------------------------

WORKER_REGISTRY = CollectorRegistry(auto_describe=False)
"""What a training worker serves on its metrics port: its own timings and device."""

EPOCH_SECONDS = Histogram(
    "cornu_epoch_seconds",
    "wall time of each epoch this worker trained (validation included)",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800, 3600),
    registry=WORKER_REGISTRY,
)
BATCH_SECONDS = Histogram(
    "cornu_batch_seconds",
    "wall time between batch ends (the training step, its callbacks included)",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5),
    registry=WORKER_REGISTRY,
)
JOBS_ENDED = Counter(
    "cornu_worker_jobs",
    "jobs this worker ended, by status (succeeded, failed, cancelled, pruned)",
    labelnames=["status"],
    registry=WORKER_REGISTRY,
)


class DeviceCollector(Collector):
    """GPU utilisation and memory from NVML (`nvidia-ml-py`, imported as `pynvml`) at each
    scrape, one series per GPU; nothing where NVML or a GPU is missing."""

    def __init__(self) -> None:
        try:
            import pynvml  # type: ignore[import-not-found]

            pynvml.nvmlInit()
        except Exception:  # noqa: BLE001  (not installed, no driver, no GPU)
            self.nvml = None
        else:
            self.nvml = pynvml

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self.nvml is None:
            return
        nvml = self.nvml
        busy = GaugeMetricFamily(
            "cornu_gpu_utilization_ratio",
            "share of the last sample period a kernel ran",
            labels=["gpu"],
        )
        used = GaugeMetricFamily("cornu_gpu_memory_used_bytes", "GPU memory in use", labels=["gpu"])
        total = GaugeMetricFamily("cornu_gpu_memory_total_bytes", "GPU memory", labels=["gpu"])
        for index in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            rates = nvml.nvmlDeviceGetUtilizationRates(handle)
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            busy.add_metric([str(index)], rates.gpu / 100)
            used.add_metric([str(index)], memory.used)
            total.add_metric([str(index)], memory.total)
        yield from (busy, used, total)


def serve_worker_metrics(port: int) -> None:
    """This worker's metrics, and its GPUs', on `port` (all interfaces: keep it internal)."""
    WORKER_REGISTRY.register(DeviceCollector())
    start_http_server(port, registry=WORKER_REGISTRY)
