"""A job's life: submitted (checked, recorded, queued) and run (claimed, trained, stored).

The API calls `submit_job`; a worker calls `run_job`. Both wire the engine to the
store, which never meet otherwise.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable

import safetensors.torch
import torch

from core.config import Settings
from core.engine import Callback, Plan, plan_job, train_job
from core.errors import JobFailed, ServiceUnavailable, SpecError
from core.ids import new_id
from core.spec import Job, JobSpec, JobStatus
from core.store import UNAVAILABLE, Store

log = logging.getLogger(__name__)


def check_limits(spec: JobSpec, plan: Plan, settings: Settings) -> None:
    """The service's configured bounds on what one job may ask for."""
    asked = [
        (("fit", "epochs"), "epochs", spec.fit.epochs, settings.max_epochs),
        (("fit", "batch_size"), "batch_size", spec.fit.batch_size, settings.max_batch_size),
        (("model", "layers"), "layers", len(spec.model.layers), settings.max_layers),
        (("model",), "parameters", plan.params, settings.max_params),
    ]
    for loc, what, value, limit in asked:
        if value > limit:
            raise SpecError(f"{what}: {value} is more than this service allows ({limit})", loc)


def submit_job(
    store: Store,
    tenant: str,
    spec: JobSpec,
    settings: Settings,
    enqueue: Callable[[str], None],
) -> Job:
    """Check `spec` completely against the tenant's datasets, record it, queue it."""
    plan = plan_job(spec, store.datasets.shapes(tenant, spec.dataset_ids()))
    check_limits(spec, plan, settings)
    job = store.jobs.create(tenant, new_id("job"), spec)
    try:
        enqueue(job.id)
    except ServiceUnavailable as exc:
        store.jobs.finish(job.id, JobStatus.failed, exc.detail, expected=JobStatus.queued)
        raise
    return job


class EpochReporter(Callback):
    """Writes each finished epoch (number, wall time, logs) to the job's record."""

    def __init__(self, store: Store, job_id: str) -> None:
        self.store = store
        self.job_id = job_id
        self._started = 0.0

    def on_epoch_begin(self, epoch: int) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        seconds = time.perf_counter() - self._started
        self.store.jobs.record_epoch(self.job_id, epoch + 1, seconds, logs)


def default_device(settings: Settings) -> torch.device:
    if settings.device:
        return torch.device(settings.device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def run_job(store: Store, job_id: str, device: torch.device) -> JobStatus | None:
    """Train a queued job to the end; None if it was not queued (already taken, or gone).

    A failure the job's owner can act on is stored as the job's `error`; anything else
    is logged with its traceback and stored as an internal error. Redis being
    unreachable is raised: nothing can be recorded then.
    """
    spec = store.jobs.claim(job_id)
    if spec is None:
        log.info("job %s is not queued; skipping", job_id)
        return None
    log.info("job %s: training on %s", job_id, device)
    status, error = JobStatus.failed, None
    try:
        _train(store, job_id, spec, device)
        status = JobStatus.succeeded
    except (JobFailed, SpecError) as exc:
        error = exc.detail
    except torch.cuda.OutOfMemoryError:
        error = f"out of memory on {device} at batch_size={spec.fit.batch_size}; lower batch_size"
    except UNAVAILABLE:
        raise
    except Exception as exc:
        log.exception("job %s: unexpected error", job_id)
        error = f"internal error while training ({type(exc).__name__}); the worker log has details"
    finally:
        # The job's tensors are unreachable once _train returns; give the memory back.
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()
    store.jobs.finish(job_id, status, error)
    log.info("job %s: %s%s", job_id, status.value, f" ({error})" if error else "")
    return status


def _train(store: Store, job_id: str, spec: JobSpec, device: torch.device) -> None:
    arrays = {dataset_id: store.datasets.load(dataset_id) for dataset_id in spec.dataset_ids()}
    result = train_job(spec, arrays, callbacks=[EpochReporter(store, job_id)], device=device)
    store.jobs.save_weights(
        job_id,
        safetensors.torch.save(_cpu(result.model.keras_weights())),
        safetensors.torch.save(_cpu(result.model.state_dict())),
    )


def _cpu(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
