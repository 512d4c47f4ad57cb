"""What the API returns: jobs, datasets and metrics, shared by the API and the SDK."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.succeeded, JobStatus.failed, JobStatus.cancelled)


class Job(BaseModel):
    id: str
    status: JobStatus
    epoch: int = Field(description="epochs completed so far")
    epochs: int = Field(description="epochs asked for")
    metrics: dict[str, float] = Field(description="the latest epoch's logs")
    error: str | None = None
    attempts: int = Field(default=0, description="times a worker has started the job")
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


class EpochLog(BaseModel):
    """One epoch's logs: `{"epoch": 1, "seconds": 1.9, "loss": …, "val_loss": …}`."""

    model_config = {"extra": "allow"}

    epoch: int
    seconds: float


class Metrics(BaseModel):
    history: dict[str, list[float]] = Field(description="as Keras's History.history")
    epochs: list[EpochLog]


class LayerSummary(BaseModel):
    name: str
    type: str
    output_shape: list[int] | list[list[int]] = Field(description="without the batch axis")
    params: int


class ModelSummary(BaseModel):
    """What Keras's `model.summary()` prints, as data."""

    layers: list[LayerSummary]
    total_params: int
    trainable_params: int
    non_trainable_params: int


class SummaryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: Any = Field(description="a Sequential, functional or Keras JSON model")


class EvaluateRequest(BaseModel):
    """`model.evaluate(x, y)` on uploaded datasets (maps by name for several inputs/outputs)."""

    model_config = ConfigDict(extra="forbid")

    x: str | dict[str, str]
    y: str | dict[str, str]
    sample_weight: str | None = None
    batch_size: int = Field(default=32, ge=1, le=65536)


class PredictRequest(BaseModel):
    """`model.predict(x)`: an uploaded dataset id, or a small batch inline as `inputs`."""

    model_config = ConfigDict(extra="forbid")

    x: str | dict[str, str] | None = None
    inputs: list[Any] | dict[str, list[Any]] | None = Field(
        default=None, description="one batch of samples, nested lists of numbers"
    )
    batch_size: int = Field(default=32, ge=1, le=65536)


class JobEvent(BaseModel):
    """Something that happened to a job: `queued`, `started` (with `worker`, `attempt`),
    `checkpoint`, `lease_lost`, `requeued`, `released`, `resumed` (`epoch`, `batch`),
    `cancel_requested`, `cancelled`, `failed` (`reason`), `succeeded`."""

    model_config = ConfigDict(extra="allow")

    time: datetime
    type: str


class Checkpoint(BaseModel):
    """A saved training state: after `epoch` epochs and `batch` batches of the next."""

    model_config = ConfigDict(extra="ignore")

    epoch: int
    batch: int
    time: datetime
    bytes: int
