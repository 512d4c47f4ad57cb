"""Settings for every Cornu role, read from `CORNU_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, StringConstraints
from pydantic_settings import BaseSettings, SettingsConfigDict

MiB = 1024 * 1024
GiB = 1024 * MiB


def _renamed(name: str) -> AliasChoices:
    """The environment variables of a setting once called `CORNU_<name>_S`: its own
    (`CORNU_<name>_SECONDS`) first, the old name still read. Every duration is `_seconds`."""
    return AliasChoices(f"CORNU_{name}_SECONDS", f"CORNU_{name}_S")


class Settings(BaseSettings):
    """One place for addresses, limits and timeouts; each is `CORNU_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="CORNU_", extra="ignore", populate_by_name=True)

    redis_url: str = "redis://127.0.0.1:6379/0"
    # The Redis `cornu up` starts holds at most this (Redis's own syntax: 512mb, 2gb);
    # compose sets its own from CORNU_REDIS_MAXMEMORY too.
    redis_maxmemory: str = "1gb"
    home: Path = Field(default=Path("~/.cornu"), description="data of the embedded stack")
    # Datasets, weights and checkpoints: file:///abs/path or s3://bucket/prefix (endpoint,
    # credentials and region from the standard AWS variables); default <home>/blobs.
    blob_url: str = ""
    queue: str = "cornu"
    # Evaluate, predict and export run on workers too, from a queue of their own (a
    # worker takes both queues unless told otherwise: `cornu worker --queues`); the API
    # waits this long for the answer, then says 503.
    inference_queue: str = "cornu.inference"
    call_timeout_seconds: float = Field(default=600.0, gt=0)
    device: str | None = Field(default=None, description="torch device; default cuda if any")
    accelerator: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$",
        description="this worker's accelerator class (`cornu worker --accelerator`); "
        "default: its device's name (`cpu`, `nvidia-h200`, …)",
    )
    # Job slots sharing one device (`cornu worker --slots K`): each slot holds a job's
    # estimated memory before it takes the job, out of `slot_memory_bytes` (default: 90%
    # of the device's memory, the host's RAM for a CPU); a job that does not fit waits
    # this long for memory to free, then goes back to the queue for another worker.
    worker_slots: int = Field(default=1, ge=1, le=64)
    slot_memory_bytes: int | None = Field(default=None, ge=1)
    slot_wait_seconds: float = Field(default=30.0, gt=0, le=3600)
    # A training worker's own Prometheus metrics (epoch and batch times, jobs ended, its
    # GPUs from NVML) on this port (`cornu worker --metrics-port`); off by default.
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    worker_slot: int = Field(default=0, ge=0, le=63)  # set by `cornu worker`: port + slot
    # What a worker process does, set by `cornu worker` for each process it starts: a
    # training process joins the fleet registry and trains; an inference one answers calls.
    worker_role: Literal["training", "inference"] = "training"
    # Celery's task events (task-sent, -started, -succeeded…), for Flower or `celery
    # events` against the same broker.
    task_events: bool = True
    # What a device-hour costs, by accelerator class (`CORNU_PRICES='{"nvidia-h200": 3.5,
    # "cpu": 0.05}'`): a worker charges each job it trains at its own class's price, so a
    # job, `GET /v1/usage` and `max_cost` show money; a class with no price costs nothing.
    prices: dict[Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")],
                 Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]] = {}  # fmt: skip
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$", description="ISO 4217")

    # Limits: every size and time a request can ask for is bounded.
    max_upload_bytes: int = 4 * GiB  # a .npy file, decoded (its body may be compressed)
    max_archive_arrays: int = 64  # arrays of one .npz upload (they share max_upload_bytes)
    max_request_bytes: int = 1 * MiB
    # Resumable multipart uploads (`/v1/uploads`): the .npy file one may hold (decoded),
    # each part's bytes (S3 takes 5 MiB to 5 GiB, all but the last at least 5 MiB), the
    # parts of one upload, and how long an unfinished one lives before its parts go.
    max_dataset_bytes: int = 32 * GiB
    upload_min_part_bytes: int = 5 * MiB
    upload_max_part_bytes: int = 64 * MiB
    upload_max_parts: int = 10_000
    upload_ttl_seconds: float = 24 * 3600
    # With the S3 backend, hand clients presigned part URLs (bytes never pass the API),
    # signed for `s3_public_endpoint` where clients reach the store at another address
    # than the API and workers do (compose: http://s3:8333 inside, localhost:8333 outside).
    upload_presign: bool = True
    s3_public_endpoint: str | None = None
    max_epochs: int = 10_000
    max_batch_size: int = 65_536
    max_params: int = 200_000_000
    # A job of epochs 0 (a model's first weights) this small runs in the API at once; a
    # bigger one goes to a worker like any job, so the API process stays small.
    max_inline_params: int = 5_000_000
    max_layers: int = 1_000
    max_predict_samples: int = 1_024  # inline `inputs` of one predict request
    max_predict_values: int = 2_000_000  # numbers one predict response may hold (JSON)
    # A predict answered as a file (`"answer": "npy"`, float32): its bytes, at most.
    max_predict_bytes: int = Field(default=4 * GiB, ge=1)

    # Quotas: what each tenant may hold and do at once, by default (a tenant's own, set
    # with `cornu quota set`, replaces these). Storage past a quota is a 413; work past
    # one is a 429 with Retry-After. Requests: a sustained rate per tenant and a burst
    # above it (GCRA, a token bucket without a timer).
    # (Bounds as `core.spec.Quota`'s.)
    quota_stored_bytes: int = Field(default=256 * GiB, ge=0, le=2**62)  # datasets, as stored
    quota_datasets: int = Field(default=10_000, ge=0, le=2**31)
    quota_jobs_kept: int = Field(default=10_000, ge=0, le=2**31)
    quota_requests_per_second: float = Field(default=100.0, gt=0, le=1e6)
    quota_request_burst: int = Field(default=500, ge=1, le=2**20)
    # Queued + running, per tenant (429 past it); 0: no limit.
    max_active_jobs: int = Field(default=100, ge=0, le=2**31)
    # Live streams (SSE) open at once, per tenant (429 past it, before the first byte), and
    # the Redis connections one API process keeps for them (each open stream holds one
    # while it waits on its feed; a stream that finds none free waits up to
    # redis_timeout_seconds, then is a 503, never a 200 that dies).
    max_streams_per_tenant: int = Field(default=16, ge=1, le=2**20)
    max_running_studies: int = Field(
        default=8, ge=1, le=2**20, description="hyperparameter studies one tenant runs at once"
    )
    stream_connections: int = Field(default=512, ge=8)
    # Redis connections one API process keeps for its hot reads (keys, rates, jobs,
    # metrics) on the event loop; past them a request waits up to redis_timeout_seconds.
    api_connections: int = Field(default=64, ge=4)
    max_job_seconds: float = 48 * 3600  # a job's training time, over all its attempts
    idempotency_ttl_seconds: int = 24 * 3600

    # Redis answers in milliseconds; past this the API reports 503 instead of hanging.
    redis_timeout_seconds: float = Field(default=3.0, validation_alias=_renamed("REDIS_TIMEOUT"))
    # A worker keeps retrying a write this long while Redis is away, then gives the job up.
    redis_retry_seconds: float = 30.0
    # Broker visibility timeout: a message unacknowledged this long goes back to the queue.
    # Leases decide who runs a job, so a message redelivered while its job runs is refused;
    # what this bounds is a job whose message died with a worker before the worker claimed
    # the job (no lease for the reaper to see): it runs after this plus one restore scan.
    broker_visibility_timeout_seconds: int = Field(
        default=300, validation_alias=_renamed("BROKER_VISIBILITY_TIMEOUT")
    )
    # How often (seconds, and every how many of those a Redis scan runs) kombu looks for
    # messages past their visibility timeout: a scan every ~30 s.
    broker_restore_interval_seconds: float = Field(
        default=10.0, validation_alias=_renamed("BROKER_RESTORE_INTERVAL")
    )
    broker_restore_throttle: int = 3

    # Leases: a running job's worker renews its lease every heartbeat; a lease not renewed
    # for `lease_seconds` expires and the reaper (checking every interval) requeues the job.
    lease_seconds: float = 30.0
    heartbeat_seconds: float = 5.0
    control_poll_seconds: float = 0.5  # how often a worker looks for a cancel request
    # A fit whose client runs callbacks of its own waits this long between epochs for
    # the client's word, then goes on without it.
    client_callback_timeout_seconds: float = 60.0
    reaper_interval_seconds: float = 5.0
    dispatch_grace_seconds: float = 30.0  # a queued job's task unsent this long is resent
    max_attempts: int = 3  # lost workers before a job fails
    # Checkpoints: after every epoch, and every this many seconds within one.
    checkpoint_interval_seconds: float = 600.0
    checkpoints_kept: int = 2
    progress_interval_seconds: float = 0.25  # live progress reports (SSE) per running job
    worker_max_jobs: int = 200  # a worker process is replaced after this many jobs
    # After SIGTERM, how long `cornu worker` lets its children checkpoint and give their
    # jobs back before it kills them (a Redis that does not answer would hold them).
    worker_stop_seconds: float = Field(default=8.0, gt=0, le=3600)
    # Retention (off by default): finished jobs that ended this many days ago are deleted
    # (record, metrics, weights, checkpoints, exports), and datasets no job was submitted on
    # or ran on for as long; what a queued or running job needs stays. A float: 0.5 is 12 h.
    retention_days: float | None = Field(default=None, gt=0)
    # A dataset object written this long ago with no record yet is a writer that died
    # (an API killed mid-upload): the reaper deletes it; a writer still alive past it
    # (slower than any bounded upload should be) is refused at its record instead.
    blob_pending_seconds: float = Field(default=6 * 3600, gt=0)
    # A worker's disk cache of datasets by content (SHA-256), least recently used evicted
    # past this many bytes; 0 turns it off (each job downloads its data into memory).
    # Workers of one host may share the directory (default <home>/worker-cache).
    worker_cache_bytes: int = 0
    worker_cache_dir: Path | None = None
    # A cached array bigger than this (bytes of the .npy file) stays on disk, memory-mapped,
    # and training gathers each batch from it; a smaller one is read into memory whole.
    worker_resident_bytes: int = 1 * GiB

    def price(self, accelerator: str) -> float | None:
        """What one device-hour of `accelerator` costs, in `currency`; None: not priced."""
        return self.prices.get(accelerator)

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser()

    @property
    def worker_cache_location(self) -> Path:
        """`worker_cache_dir`, or `<home>/worker-cache`."""
        return (self.worker_cache_dir or self.home_dir / "worker-cache").expanduser()

    @property
    def blob_location(self) -> str:
        """`blob_url`, or the local directory `<home>/blobs` as a file URL."""
        return self.blob_url or (self.home_dir.resolve() / "blobs").as_uri()


@lru_cache
def get_settings() -> Settings:
    return Settings()
