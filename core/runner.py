"""Running one job on a worker, so that it survives faults and finishes once.

The worker claims the job under a lease (`core.store.runs`), renews it from a
heartbeat thread that also watches for a cancel request, and trains with a guard
callback that, between two batches, stops for a cancel, a lost lease, a worker
shutdown or the time limit, and saves a checkpoint every `checkpoint_interval_seconds`.
Each epoch's metrics are committed together with its checkpoint, so a job resumed
from its last checkpoint reports each epoch exactly once.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import numpy as np
import safetensors.torch
import torch

from cornu.core import data_parallel
from cornu.core.config import Settings
from cornu.core.engine import Callback, Interrupted, dump_state, load_state, train_job
from cornu.core.engine.fit import DatasetArrays, InitialWeights, TrainResult
from cornu.core.engine.model import weights_file
from cornu.core.engine.trainer import STATE_FORMAT, Trainer
from cornu.core.errors import JobFailed, NotFound, ServiceUnavailable, SpecError
from cornu.core.fleet import detect
from cornu.core.observe import BATCH_SECONDS, EPOCH_SECONDS, JOBS_ENDED
from cornu.core.spec import JobEventType, JobStatus, StopReason
from cornu.core.store import UNAVAILABLE, Claim, Store
from cornu.core.store.workercache import DatasetCache, fetch
from cornu.core.studies import report_epoch

log = logging.getLogger(__name__)

T = TypeVar("T")
_UNSENT: tuple[type[Exception], ...] = (ServiceUnavailable, *UNAVAILABLE)


class Heartbeat(threading.Thread):
    """Renews the lease every `every_s` and looks for the client's requests (a cancel,
    Keras's stop_training) every `poll_s`, so that either takes effect within `poll_s`
    and a batch, however long the lease."""

    def __init__(self, store: Store, claim: Claim, every_s: float, poll_s: float) -> None:
        super().__init__(name=f"heartbeat-{claim.job_id}", daemon=True)
        self.store, self.claim, self.every_s, self.poll_s = store, claim, every_s, poll_s
        self.stop_reason: StopReason | None = None
        self.stop_training = False
        self._done = threading.Event()

    def run(self) -> None:
        renew_at = time.monotonic() + self.every_s
        while not self._done.wait(max(0.0, min(self.poll_s, renew_at - time.monotonic()))):
            try:
                if time.monotonic() >= renew_at:
                    renew_at = time.monotonic() + self.poll_s  # if Redis fails, again soon
                    owned, controls = self.store.runs.renew(self.claim)
                    renew_at = time.monotonic() + self.every_s
                    if not owned:
                        self.stop_reason = StopReason.lease_lost
                        return
                else:
                    controls = self.store.runs.controls(self.claim.job_id)
            except UNAVAILABLE:
                continue  # the next write tells whether the lease survived the outage
            except Exception:
                # Without a heartbeat the lease lapses: stop now rather than train on unowned.
                log.exception("job %s: heartbeat failed", self.claim.job_id)
                self.stop_reason = StopReason.lease_lost
                return
            if controls.cancel:
                self.stop_reason = StopReason.cancel
            self.stop_training = self.stop_training or controls.stop_training

    def close(self) -> None:
        self._done.set()
        self.join(timeout=5)


# Stops that checkpoint first: the work done so far is kept (for a resume, or with the
# failed job's error).
KEEPS_WORK = frozenset(
    {StopReason.shutdown, StopReason.timeout, StopReason.budget, StopReason.cost}
)


class JobRun:
    """One attempt at a job on this worker: its lease, clock and writes."""

    def __init__(
        self,
        store: Store,
        claim: Claim,
        settings: Settings,
        shutdown: threading.Event | None = None,
    ) -> None:
        self.store, self.claim, self.settings = store, claim, settings
        self.shutdown = shutdown
        self.heartbeat = Heartbeat(
            store, claim, settings.heartbeat_seconds, settings.control_poll_seconds
        )
        self._started = time.monotonic()

    @property
    def run_seconds(self) -> float:
        """Training time over all attempts (the time limit counts it all)."""
        return self.claim.run_seconds + time.monotonic() - self._started

    def stop_reason(self) -> StopReason | None:
        if self.heartbeat.stop_reason is not None:
            return self.heartbeat.stop_reason
        if self.shutdown is not None and self.shutdown.is_set():
            return StopReason.shutdown
        if self.run_seconds > self.settings.max_job_seconds:
            return StopReason.timeout
        if self.device_seconds > self.budget_seconds:
            return StopReason.budget
        limit = self.claim.spec.resources.max_cost
        if limit is not None and self.cost > limit:
            return StopReason.cost
        return None

    @property
    def device_seconds(self) -> float:
        """Training time × the job's devices, over all attempts (what it is charged): the
        earlier attempts' as recorded, and this one's so far."""
        claim = self.claim
        devices = claim.spec.resources.devices
        before = claim.device_seconds or claim.run_seconds * devices
        return before + (time.monotonic() - self._started) * devices

    @property
    def cost(self) -> float:
        """What the job has cost over all attempts: the earlier ones' as recorded, and this
        one's device-seconds so far at its price (0 when its class has none)."""
        claim = self.claim
        now = (time.monotonic() - self._started) * claim.spec.resources.devices
        return (claim.cost or 0.0) + now * (claim.price or 0.0) / 3600

    @property
    def budget_seconds(self) -> float:
        """The job's `max_device_hours` in device-seconds (infinite without one)."""
        hours = self.claim.spec.resources.max_device_hours
        return math.inf if hours is None else hours * 3600

    def retrying(self, write: Callable[[], T]) -> T:
        """A write retried while Redis is away, for up to `redis_retry_seconds`."""
        deadline = time.monotonic() + self.settings.redis_retry_seconds
        delay = 0.2
        while True:
            try:
                return write()
            except UNAVAILABLE:
                if time.monotonic() > deadline:
                    raise Interrupted(StopReason.store_unavailable) from None
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    def commit_epoch(
        self, trainer: Trainer, epoch: int, seconds: float, logs: dict[str, float]
    ) -> None:
        state = dump_state(trainer.capture(end_of_epoch=True))
        kept = self.retrying(
            lambda: self.store.runs.commit_epoch(
                self.claim,
                epoch + 1,
                seconds,
                logs,
                state,
                self.run_seconds,
                self.settings.checkpoints_kept,
            )
        )
        if not kept:
            raise Interrupted(StopReason.lease_lost)

    def save_checkpoint(self, trainer: Trainer) -> None:
        state = trainer.capture()
        data = dump_state(state)
        kept = self.retrying(
            lambda: self.store.runs.save_checkpoint(
                self.claim,
                data,
                state["epoch"],
                state["batch"],
                self.run_seconds,
                self.settings.checkpoints_kept,
            )
        )
        if not kept:
            raise Interrupted(StopReason.lease_lost)


class Guard(Callback):
    """Between batches: stop when asked or out of time, checkpoint when it is time;
    at each epoch's end, commit the epoch with its checkpoint (and, for a study's trial,
    report it to the study, whose pruner may stop the job there). Runs after every other
    callback, so the checkpoint holds their state for the epoch too."""

    every_step = True  # a cancel or a shutdown does not wait for steps_per_execution

    def __init__(self, run: JobRun, poke_study: Callable[[str], None] | None = None) -> None:
        self.run = run
        self.poke_study = poke_study
        self.pruned = False
        self._client_attached = run.claim.spec.fit.client_callbacks
        self._epoch_started = self._batch_ended = 0.0
        self._last_checkpoint = time.monotonic()
        self._last_progress = -math.inf  # the run's first batch reports: clients learn its size

    def on_epoch_begin(self, epoch: int) -> None:
        self._epoch_started = self._batch_ended = time.perf_counter()

    def sync_due(self) -> bool:
        """With replicas: a stop, a progress report or a checkpoint is due (acted on at
        the next batch, once the replicas' running values are merged)."""
        now, settings = time.monotonic(), self.run.settings
        return (
            self.run.stop_reason() is not None
            or now - self._last_progress > settings.progress_interval_seconds
            or now - self._last_checkpoint > settings.checkpoint_interval_seconds
        )

    def on_train_batch_end(self, batch: int, loss: float | None = None) -> None:
        ended = time.perf_counter()
        BATCH_SECONDS.observe(ended - self._batch_ended)
        self._batch_ended = ended
        if self.run.heartbeat.stop_training:  # Keras: the epoch ends after this batch
            self.trainer.stop_training = True
        if not self.trainer.in_sync:  # replicas: at a batch that merged them (`sync_due`)
            return
        reason = self.run.stop_reason()
        if reason is not None:
            if reason in KEEPS_WORK:
                self.run.save_checkpoint(self.trainer)  # keep the work done so far
            raise Interrupted(reason)
        now = time.monotonic()
        if now - self._last_progress > self.run.settings.progress_interval_seconds:
            self._last_progress = now
            report = {**self.trainer.progress(), "epochs": self.run.claim.spec.fit.epochs}
            with contextlib.suppress(*UNAVAILABLE):  # a lost progress report is no loss
                self.run.store.runs.progress(self.run.claim, report)
        if now - self._last_checkpoint > self.run.settings.checkpoint_interval_seconds:
            self.run.save_checkpoint(self.trainer)
            self._last_checkpoint = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        seconds = time.perf_counter() - self._epoch_started
        EPOCH_SECONDS.observe(seconds)
        self.run.commit_epoch(self.trainer, epoch, seconds, logs)
        self._last_checkpoint = time.monotonic()
        self._pass_on_messages()
        last = epoch + 1 >= self.run.claim.spec.fit.epochs
        if self.run.claim.spec.trial is not None:
            self._report_trial(epoch + 1, logs, last)
        if self._client_attached and not last and not self.trainer.stop_training:
            self._wait_for_client(epoch + 1)

    def on_train_end(self) -> None:
        self._pass_on_messages()

    def _report_trial(self, epoch: int, logs: dict[str, float], last: bool) -> None:
        """The study hears of the epoch; its pruner may stop the job here (not after its
        last epoch: a trial that trained to the end is complete). A report lost to a Redis
        outage, or a pruner that fails, never fails the job: it only goes unpruned."""
        trial = self.run.claim.spec.trial
        assert trial is not None
        try:
            stopping = self.trainer.stop_training  # a callback ended it: it is complete
            if report_epoch(self.run.store, trial, epoch, logs) and not last and not stopping:
                self.pruned = self.trainer.stop_training = True
                self.run.store.runs.note(self.run.claim.job_id, JobEventType.pruning, epoch=epoch)
        except UNAVAILABLE:
            log.warning("job %s: epoch %d not reported to study %s", self.run.claim.job_id,
                        epoch, trial.study)  # fmt: skip
        except Exception:
            log.exception("job %s: the study's pruner failed; the trial goes on",
                          self.run.claim.job_id)  # fmt: skip
        if self.poke_study is not None:
            with contextlib.suppress(*_UNSENT):  # the reaper asks for a step every round
                self.poke_study(trial.study)

    def _pass_on_messages(self) -> None:
        """What callbacks said (Keras prints it), as `message` events the client shows."""
        for text in self.trainer.messages:
            with contextlib.suppress(*UNAVAILABLE):  # a lost message is no loss
                self.run.store.runs.note(self.run.claim.job_id, JobEventType.message, text=text)
        self.trainer.messages.clear()

    def _wait_for_client(self, epoch: int) -> None:
        """Keras calls callbacks between epochs: the client's run in its own process, so
        the next epoch waits until the client has seen this one and said go on (or stop).
        A client silent for `client_callback_timeout_seconds` is left behind: the job
        goes on without it (a laptop that went to sleep does not hold the job forever)."""
        run = self.run
        deadline = time.monotonic() + run.settings.client_callback_timeout_seconds
        while time.monotonic() < deadline:
            if run.heartbeat.stop_training:
                self.trainer.stop_training = True
                return
            reason = run.stop_reason()
            if reason is not None:
                raise Interrupted(reason)
            block = min(run.settings.control_poll_seconds, deadline - time.monotonic())
            done = partial(run.store.runs.client_done, run.claim.job_id, epoch, max(0.01, block))
            if run.retrying(done):
                rate = run.retrying(partial(run.store.runs.take_learning_rate, run.claim.job_id))
                if rate is not None:  # a callback set model.optimizer.learning_rate
                    self.trainer.optimizer.learning_rate = rate
                return
        self._client_attached = False
        with contextlib.suppress(*UNAVAILABLE):
            run.store.runs.note(run.claim.job_id, JobEventType.client_detached, epoch=epoch)


def default_device(settings: Settings) -> torch.device:
    if settings.device:
        return torch.device(settings.device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def device_name(device: torch.device) -> str:
    """What a job shows it ran on: `cpu`, or `cuda:0 (<the GPU's name>)`."""
    if device.type != "cuda":
        return device.type
    index = device.index if device.index is not None else torch.cuda.current_device()
    return f"cuda:{index} ({torch.cuda.get_device_name(index)})"


def _cpu(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in tensors.items()}


def run_job(
    store: Store,
    job_id: str,
    settings: Settings,
    *,
    worker: str,
    device: torch.device,
    enqueue: Callable[[str], None],
    poke_study: Callable[[str], None] | None = None,
    shutdown: threading.Event | None = None,
) -> JobStatus | None:
    """Claim and train a queued job; its final status, or None when this worker did not
    finish it (not queued any more, lease lost, given back at shutdown). A study's trial
    asks for a step of its study (`poke_study`) after each epoch and at its end. Once
    `shutdown` is set (the worker process is asked to stop), the job checkpoints after its
    current batch and goes back to the queue."""
    accelerator = detect(device, settings.accelerator)[0]
    price = settings.price(accelerator)
    claim = store.runs.claim(job_id, worker, device_name(device), accelerator, price)
    if claim is None:
        log.info("job %s is not queued (already taken, finished or cancelled); skipping", job_id)
        return None
    run = JobRun(store, claim, settings, shutdown)
    run.heartbeat.start()
    log.info("job %s: attempt %d on %s (%s)", job_id, claim.attempt, worker, device)
    try:
        status = _attempt(store, run, device, enqueue, poke_study)
        if status is not None:
            JOBS_ENDED.labels(status.value).inc()
        return status
    finally:
        if claim.spec.trial is not None and poke_study is not None:
            with contextlib.suppress(*_UNSENT):
                poke_study(claim.spec.trial.study)
        run.heartbeat.close()
        gc.collect()  # the job's tensors are unreachable now: give the memory back
        if device.type == "cuda":
            torch.cuda.empty_cache()


def _attempt(
    store: Store,
    run: JobRun,
    device: torch.device,
    enqueue: Callable[[str], None],
    poke_study: Callable[[str], None] | None,
) -> JobStatus | None:
    claim = run.claim
    status, error = JobStatus.failed, None
    guard = Guard(run, poke_study)
    try:
        resume = _resume_state(store, claim)
        ids = claim.spec.dataset_ids()
        arrays = DatasetArrays(_loader(store, run), store.datasets.shapes(claim.tenant, ids))
        initial = None if resume is not None else _initial_weights(store, claim, arrays)
        result = _train(claim, arrays, guard, device, initial, resume)
        if guard.pruned:  # its checkpoints are kept, as a cancelled job's
            if run.retrying(lambda: store.runs.finish(claim, JobStatus.pruned)):
                log.info("job %s: pruned by its study", claim.job_id)
                return JobStatus.pruned
            return None
        store.runs.trained_to_end(claim)
        keras = weights_file(result.model)
        state = safetensors.torch.save(_cpu(result.model.state_dict()))
        if run.retrying(lambda: store.runs.succeed(claim, keras, state)):
            log.info("job %s: succeeded", claim.job_id)
            return JobStatus.succeeded
        log.warning(
            "job %s: lease lost before the result was stored; result discarded", claim.job_id
        )
        return None
    except Interrupted as stop:
        return _stopped(store, run, stop.reason, enqueue)
    except (JobFailed, SpecError) as exc:
        error = exc.detail
    except (torch.cuda.OutOfMemoryError, MemoryError):
        error = (
            f"out of memory on {device} at batch_size={claim.spec.fit.batch_size}; lower "
            "batch_size or use a smaller model"
        )
    except UNAVAILABLE:
        log.warning(
            "job %s: Redis unreachable; the lease will expire and the job be retried", claim.job_id
        )
        return None
    except Exception as exc:
        log.exception("job %s: unexpected error", claim.job_id)
        error = f"internal error while training ({type(exc).__name__}); the worker log has details"
    run.retrying(lambda: store.runs.finish(claim, status, error))
    log.info("job %s: failed (%s)", claim.job_id, error)
    return status


def _train(
    claim: Claim,
    arrays: DatasetArrays,
    guard: Guard,
    device: torch.device,
    initial: InitialWeights | None,
    resume: dict[str, Any] | None,
) -> TrainResult:
    """Train the claimed job here, or, for `resources.devices` above 1, as rank 0 of its
    replicas (`core.data_parallel`): a replica's failure fails the job with its reason."""
    if claim.spec.resources.devices == 1 or claim.spec.fit.epochs == 0:
        return train_job(claim.spec, arrays, callbacks=[guard], device=device,
                         initial_weights=initial, resume=resume)  # fmt: skip
    claim = data_parallel.seeded(claim)  # every replica draws the same shuffled order
    replication = data_parallel.start(claim, device, resumed=resume is not None)
    finished = False
    try:
        result = train_job(claim.spec, arrays, callbacks=[guard], device=device,
                           initial_weights=initial, resume=resume,
                           replicas=replication.replicas)  # fmt: skip
        finished = True
        return result
    except RuntimeError as exc:  # a collective broke: a replica is gone
        reason = replication.failure()
        if reason is not None:
            raise JobFailed(reason) from exc
        raise
    finally:  # a stopped run's replicas hold nothing worth waiting for: its status is
        replication.close(wait_s=2.0 if finished else 0.0)


def _loader(store: Store, run: JobRun) -> Callable[[str], np.ndarray]:
    """How the job reads its datasets: through the worker's disk cache when it has one
    (`worker_cache_bytes`), big arrays memory-mapped from it; each read is an event that
    says where the data came from and how many stored bytes were downloaded."""
    settings = run.settings
    cache = None
    if settings.worker_cache_bytes > 0:
        cache = DatasetCache(
            settings.worker_cache_location,
            settings.worker_cache_bytes,
            settings.worker_resident_bytes,
        )

    def load(dataset_id: str) -> np.ndarray:
        got = fetch(store.datasets, dataset_id, cache)
        with contextlib.suppress(*UNAVAILABLE):  # a lost note is no loss
            store.runs.note(
                run.claim.job_id,
                JobEventType.dataset,
                dataset=dataset_id,
                source=got.source,
                bytes_downloaded=got.downloaded,
                mapped=got.mapped,
                cached=got.cached,
            )
        return got.array

    return load


def _initial_weights(store: Store, claim: Claim, arrays: DatasetArrays) -> InitialWeights | None:
    """`fit.initial_weights`: the state another job of the tenant trained, or Keras's
    weights the client uploaded (as datasets, loaded with the job's data)."""
    given = claim.spec.fit.initial_weights
    if given is None:
        return None
    if isinstance(given, dict):
        weights = {name: torch.from_numpy(np.require(arrays[d], requirements="W"))
                   for name, d in given.items()}  # fmt: skip
        arrays.forget(given.values())  # the weights alone hold them, until they are copied
        return "keras", weights
    try:
        _, state = store.jobs.trained(claim.tenant, given)
    except NotFound as exc:
        raise JobFailed(f"fit.initial_weights: {exc.detail}") from None
    return "state", safetensors.torch.load(state)


def _resume_state(store: Store, claim: Claim) -> dict[str, Any] | None:
    data = store.runs.checkpoint_blob(claim)
    if data is None:
        return None
    state = load_state(data)
    if state.get("format") != STATE_FORMAT:  # written by an older worker: start over
        store.runs.note(
            claim.job_id, JobEventType.checkpoint_outdated, format=state.get("format", 1)
        )
        log.warning("job %s: its checkpoint's format is outdated; training from the start",
                    claim.job_id)  # fmt: skip
        return None
    store.runs.note(claim.job_id, JobEventType.resumed, epoch=state["epoch"], batch=state["batch"])
    log.info(
        "job %s: resuming from epoch %d, batch %d", claim.job_id, state["epoch"], state["batch"]
    )
    return state


def _limit_reached(run: JobRun, reason: str) -> str | None:
    """Why a job that hit one of its limits (time, device-hours, cost) fails, or None for
    a stop that is not a limit."""
    resources, settings = run.claim.spec.resources, run.settings
    if reason == StopReason.timeout:
        return (
            f"timeout: the job trained for longer than {settings.max_job_seconds:g} s, "
            "this service's limit"
        )
    if reason == StopReason.budget:
        return f"max_device_hours: the job trained its {resources.max_device_hours:g} device-hours"
    if reason == StopReason.cost:
        return f"max_cost: the job's device-hours cost {resources.max_cost:g} {settings.currency}"
    return None


def _stopped(
    store: Store, run: JobRun, reason: str, enqueue: Callable[[str], None]
) -> JobStatus | None:
    claim = run.claim
    if reason == StopReason.cancel:
        run.retrying(lambda: store.runs.finish(claim, JobStatus.cancelled))
        log.info("job %s: cancelled", claim.job_id)
        return JobStatus.cancelled
    limit = _limit_reached(run, reason)
    if limit is not None:
        error = f"{limit}; its last checkpoint is kept"
        run.retrying(lambda: store.runs.finish(claim, JobStatus.failed, error))
        return JobStatus.failed
    if reason == StopReason.shutdown:
        if run.retrying(lambda: store.runs.release(claim, "worker shutting down")):
            try:
                enqueue(claim.job_id)
                store.jobs.dispatched(claim.job_id)
            except _UNSENT:  # the reaper resends undispatched jobs
                log.warning("job %s: could not requeue at shutdown; the reaper will", claim.job_id)
        log.info("job %s: checkpointed and given back (worker shutting down)", claim.job_id)
        return None
    log.warning("job %s: stopped (%s); another worker will take it over", claim.job_id, reason)
    return None
