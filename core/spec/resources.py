"""What the API returns: jobs, datasets and metrics, shared by the API and the SDK."""

from __future__ import annotations

from datetime import date as date_
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cornu.core.spec.job import CompileSpec, DatasetId, Datasets, TrialRef
from cornu.core.spec.timeseries import TimeseriesSource


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"
    pruned = "pruned"  # a study's trial its pruner stopped at an epoch boundary

    @property
    def finished(self) -> bool:
        return self not in (JobStatus.queued, JobStatus.running)


class Job(BaseModel):
    id: str
    name: str | None = Field(default=None, description="the JobSpec's name")
    tags: list[str] = Field(default=[], description="the JobSpec's tags")
    trial: TrialRef | None = Field(default=None, description="the study trial it trains")
    status: JobStatus
    epoch: int = Field(description="epochs completed so far")
    epochs: int = Field(description="epochs asked for")
    metrics: dict[str, float] = Field(description="the latest epoch's logs")
    error: str | None = None
    attempts: int = Field(default=0, description="times a worker has started the job")
    device: str | None = Field(
        default=None, description="where its latest attempt ran: cpu, or cuda:N (the GPU)"
    )
    memory_bytes: int | None = Field(
        default=None,
        description="device memory the job is estimated to need (weights, gradients, "
        "optimizer slots, one batch's activations, its data): what a worker slot sharing a "
        "device holds for it",
    )
    device_seconds: float = Field(
        default=0.0,
        description="training seconds × devices over all attempts, as of its "
        "last epoch or checkpoint (what `max_device_hours` counts)",
    )
    cost: float | None = Field(
        default=None,
        description="those device-seconds at the price per device-hour of the class each "
        "attempt ran on (the service's `prices`, in its currency); null when none was priced",
    )
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class JobPage(BaseModel):
    jobs: list[Job]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null at the end"
    )


class Dataset(BaseModel):
    id: str
    shape: list[int]
    dtype: str
    bytes: int = Field(description="size of the stored .npy file")
    sha256: str


class DatasetArchive(BaseModel):
    """The datasets of one `.npz` upload, by array name (in the archive's order): what a
    model with several inputs or outputs takes as `data.x` / `data.y` by name."""

    datasets: dict[str, Dataset]


class Limits(BaseModel):
    """The bounds this service enforces on one request; clients check sizes before sending."""

    max_upload_bytes: int = Field(description="the largest .npy file one upload may hold")
    max_request_bytes: int = Field(description="the largest JSON body of other requests")
    max_epochs: int
    max_batch_size: int
    max_params: int
    max_layers: int
    max_predict_samples: int = Field(description="inline `inputs` of one predict request")
    max_predict_values: int = Field(description="numbers one predict answer may hold")
    max_predict_bytes: int = Field(
        default=4 * 2**30, description="bytes of a predict answered as a file (`answer: npy`)"
    )
    max_active_jobs: int = Field(description="queued and running jobs of one tenant")
    max_job_seconds: float = Field(description="training time of one job, all attempts")
    prices: dict[str, float] = Field(
        default={}, description="what a device-hour costs, by accelerator class (`max_cost`)"
    )
    currency: str = Field(default="USD", description="of every price and cost (ISO 4217)")


class Quota(BaseModel):
    """What one tenant may hold and do at once: the service's defaults (`CORNU_QUOTA_*`,
    `CORNU_MAX_ACTIVE_JOBS`, `CORNU_MAX_STREAMS_PER_TENANT`), or the tenant's own, set with
    `cornu quota set` or `PATCH /v1/admin/tenants/{tenant}/quota`. Storage past a quota is a
    413 (delete something first); work past one is a 429 with `Retry-After`."""

    model_config = ConfigDict(extra="forbid")

    stored_bytes: int = Field(
        ge=0, le=2**62, description="bytes of datasets kept, as stored (compressed or not)"
    )
    datasets: int = Field(ge=0, le=2**31, description="datasets kept")
    jobs_kept: int = Field(ge=0, le=2**31, description="jobs kept, of any status")
    active_jobs: int = Field(ge=1, le=2**31, description="jobs queued or running")
    streams: int = Field(
        ge=1,
        le=2**20,
        description="live streams (SSE) and calls waiting for a worker (evaluate, predict, "
        "export) open at once",
    )
    requests_per_second: float = Field(
        gt=0, le=1e6, allow_inf_nan=False, description="sustained rate of API requests"
    )
    request_burst: int = Field(
        ge=1, le=2**20, description="requests above the sustained rate taken at once"
    )


class QuotaChange(BaseModel):
    """Some of a tenant's quota (`PATCH /v1/admin/tenants/{tenant}/quota`): a field given a
    value replaces the default for this tenant, a field given null returns to it."""

    model_config = ConfigDict(extra="forbid")

    stored_bytes: int | None = Field(default=None, ge=0, le=2**62)
    datasets: int | None = Field(default=None, ge=0, le=2**31)
    jobs_kept: int | None = Field(default=None, ge=0, le=2**31)
    active_jobs: int | None = Field(default=None, ge=1, le=2**31)
    streams: int | None = Field(default=None, ge=1, le=2**20)
    requests_per_second: float | None = Field(default=None, gt=0, le=1e6, allow_inf_nan=False)
    request_burst: int | None = Field(default=None, ge=1, le=2**20)


class DeviceUsage(BaseModel):
    """Device-seconds trained, and what they cost (null when none was priced)."""

    device_seconds: float = Field(description="training seconds × devices")
    cost: float | None = Field(description="at the prices they were charged")


class DayUsage(DeviceUsage):
    date: date_ = Field(description="a UTC day")


class UsagePeriod(DeviceUsage):
    """A tenant's device-seconds and cost over whole UTC days, `start` to `end` inclusive:
    by accelerator class and by day (days without any left out)."""

    start: date_
    end: date_
    by_accelerator: dict[str, DeviceUsage]
    days: list[DayUsage]


class Usage(BaseModel):
    """What a tenant holds and has used (`GET /v1/usage`), next to its quota."""

    tenant: str
    stored_bytes: int = Field(description="bytes of datasets kept, as stored")
    datasets: int = Field(description="datasets kept")
    jobs_kept: int = Field(description="jobs kept, of any status")
    active_jobs: int = Field(description="jobs queued or running now")
    streams: int = Field(description="live streams and waiting calls open now")
    compute_seconds: float = Field(
        description="training time of the tenant's jobs (every attempt's finished epochs "
        "and checkpoints), deleted jobs included"
    )
    device_seconds: float = Field(
        default=0.0, description="that training time × each job's devices: what is charged"
    )
    cost: float | None = Field(
        default=None,
        description="those device-seconds at the price of the class each ran on; null "
        "when none was priced",
    )
    currency: str = Field(default="USD", description="of every cost (ISO 4217)")
    period: UsagePeriod | None = Field(
        default=None, description="device-seconds and cost of the days asked for"
    )
    quota: Quota


class EpochLog(BaseModel):
    """One epoch's logs: `{"epoch": 1, "seconds": 1.9, "loss": …, "val_loss": …}`."""

    model_config = {"extra": "allow"}

    epoch: int
    seconds: float


class Metrics(BaseModel):
    history: dict[str, list[float]] = Field(description="as Keras's History.history")
    epochs: list[EpochLog]


class WeightSummary(BaseModel):
    """One weight as Keras lists it in `model.weights`: its path, shape and trainability."""

    name: str = Field(description="Keras's path of the weight: `dense/kernel`")
    shape: list[int] = Field(description="in Keras's layout (a Dense kernel is (in, out))")
    trainable: bool


class LayerSummary(BaseModel):
    name: str
    type: str
    output_shape: list[int | None] | list[list[int | None]] = Field(
        description="without the batch axis; null for a dimension of unknown size"
    )
    params: int
    weights: list[WeightSummary] = Field(
        default_factory=list, description="the layer's weights in Keras's order"
    )


class ModelSummary(BaseModel):
    """What Keras's `model.summary()` prints, as data."""

    layers: list[LayerSummary]
    total_params: int
    trainable_params: int
    non_trainable_params: int
    warnings: list[str] = Field(
        default=[],
        description="what was ignored or mapped while reading the model (arguments an older "
        "Keras wrote, deprecated forms), as Keras would warn about it",
    )


class ExportFormat(StrEnum):
    """What `GET /v1/jobs/{id}/export` writes a trained model as."""

    keras = "keras"
    h5 = "h5"
    onnx = "onnx"
    torchscript = "torchscript"
    safetensors = "safetensors"


class ImportedModel(BaseModel):
    """A Keras model file, taken in: what `POST /v1/jobs` needs to continue training it."""

    format: Literal["keras", "h5"] = Field(description="the file's format, told by its bytes")
    model: dict[str, Any] = Field(description="the native model spec (a JobSpec's `model`)")
    compile: dict[str, Any] | None = Field(
        description="its compile arguments (a JobSpec's `compile`); null when saved uncompiled"
    )
    initial_weights: dict[str, str] = Field(
        description="each weight (`<layer>/<weight>`, Keras's names) as a dataset id: a "
        "JobSpec's `fit.initial_weights`"
    )
    summary: ModelSummary


class SummaryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: dict[str, Any] | str = Field(
        description="a Sequential or functional spec, or Keras's `model.to_json()` (the "
        "string it returns, or that string parsed)"
    )


class EvaluateRequest(BaseModel):
    """`model.evaluate(x, y)` on uploaded datasets (maps by name for several inputs/outputs),
    or on windows over a series (`x` a `TimeseriesSource` with its targets; its own
    batch_size); `compile` replaces the job's loss and metrics (a model compiled again since)."""

    model_config = ConfigDict(extra="forbid")

    x: Datasets | TimeseriesSource
    y: Datasets | None = Field(
        default=None, description="required with dataset ids; a source's targets are its own"
    )
    sample_weight: DatasetId | None = None
    batch_size: int = Field(
        default=32, ge=1, le=65536, description="for datasets; a source has its own"
    )
    compile: CompileSpec | None = Field(
        default=None, description="the loss and metrics to evaluate with, as the model's"
    )
    checkpoint: bool = Field(
        default=False, description="a running job's weights at its newest checkpoint"
    )


class EpochAck(BaseModel):
    """The client's callbacks are done with an epoch (`POST …/epochs/{epoch}/ack`)."""

    model_config = ConfigDict(extra="forbid")

    learning_rate: float | None = Field(
        default=None, gt=0.0, allow_inf_nan=False, description="from the next epoch on"
    )


class PredictRequest(BaseModel):
    """`model.predict(x)`: an uploaded dataset id, windows over a series (a
    `TimeseriesSource`: one prediction per window, in its order), or a small batch
    inline as `inputs`."""

    model_config = ConfigDict(extra="forbid")

    x: Datasets | TimeseriesSource | None = None
    inputs: list[Any] | dict[str, list[Any]] | None = Field(
        default=None, description="one batch of samples, nested lists of numbers"
    )
    batch_size: int = Field(
        default=32, ge=1, le=65536, description="for datasets and inputs; a source has its own"
    )
    checkpoint: bool = Field(
        default=False, description="a running job's weights at its newest checkpoint"
    )
    answer: Literal["json", "npy"] = Field(
        default="json",
        description="json: the predictions in the answer (up to max_predict_values numbers); "
        "npy: a float32 .npy file (.npz by output name for several outputs) to download "
        "from `predictions_url` (up to max_predict_bytes), kept a few hours",
    )


class StopReason(StrEnum):
    """Why a worker stops a run before its end (`engine.Interrupted`'s reason). The first
    four finish the job (cancelled, or failed with an error that starts with the limit's
    name: `timeout`, `max_device_hours`, `max_cost`); the others hand it to another worker
    or attempt."""

    cancel = "cancel"
    timeout = "timeout"  # the service's max_job_seconds
    budget = "budget"  # resources.max_device_hours
    cost = "cost"  # resources.max_cost
    shutdown = "shutdown"  # the worker stops: checkpointed and given back
    lease_lost = "lease_lost"
    store_unavailable = "store_unavailable"  # Redis away past redis_retry_seconds
    replica = "replica"  # data-parallel: rank 0 stopped the run and says why


class ReaperOutcome(StrEnum):
    """What the reaper (`core/reaper.py`) did with a job in one round."""

    requeued = "requeued"  # its worker's lease expired: queued again for another attempt
    failed = "failed"  # lost its worker `max_attempts` times
    cancelled = "cancelled"  # lost its worker while a cancel was asked
    alive = "alive"  # its lease was renewed meanwhile: left alone
    gone = "gone"  # it was no longer running
    dispatched = "dispatched"  # queued, but its task may never have reached the broker: sent


class JobEventType(StrEnum):
    """Every kind of event a job's events hold (`GET /v1/jobs/{id}/events`), with the
    details each carries."""

    queued = "queued"
    waiting_for_worker = "waiting_for_worker"  # `detail`: no worker of its class is up
    warning = "warning"  # `text`: what Keras would warn about while reading the model
    started = "started"  # `worker`, `attempt`, `device`
    dataset = "dataset"  # `dataset`, `source` (cache or download), `bytes_downloaded`…
    resumed = "resumed"  # `epoch`, `batch`: from a checkpoint
    checkpoint_outdated = "checkpoint_outdated"  # `format`: an older worker's; from the start
    checkpoint = "checkpoint"  # `epoch`, `batch`
    message = "message"  # `text`: what a callback said (Keras prints it)
    client_detached = "client_detached"  # `epoch`: the client's callbacks stopped answering
    pruning = "pruning"  # `epoch`: its study's pruner stops it
    cancel_requested = "cancel_requested"
    stop_training_requested = "stop_training_requested"
    lease_lost = "lease_lost"  # `worker`: its worker stopped renewing its lease
    requeued = "requeued"  # `attempt`
    released = "released"  # `reason`: its worker gave it back (shutting down)
    succeeded = "succeeded"
    failed = "failed"  # `reason`
    cancelled = "cancelled"  # `detail` when it never started
    pruned = "pruned"


class StreamEventType(StrEnum):
    """The Server-Sent Events of `GET /v1/jobs/{id}/stream` besides the job's own events
    (each `JobEventType`, under its name)."""

    progress = "progress"  # a few times a second while an epoch runs: its running logs
    epoch = "epoch"  # one finished epoch: its logs and wall time
    end = "end"  # the last event: the job, finished


class JobEvent(BaseModel):
    """Something that happened to a job, when, and its details (`JobEventType`)."""

    model_config = ConfigDict(extra="allow")

    time: datetime
    type: JobEventType


class Checkpoint(BaseModel):
    """A saved training state: after `epoch` epochs and `batch` batches of the next."""

    model_config = ConfigDict(extra="ignore")

    epoch: int
    batch: int
    time: datetime
    bytes: int
