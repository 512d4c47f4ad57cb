"""A training job followed from the client: its live stream drawn as Keras's progress
bar and fed to the user's callbacks; between epochs, the job waits for them when they
may stop it or change its learning rate, and hears their verdict."""

from __future__ import annotations

import contextlib
import sys
import warnings
from typing import Any

from cornu.callbacks.client import History
from cornu.callbacks.runner import ClientCallbacks
from cornu.client import Client
from cornu.core.errors import Conflict, CornuError
from cornu.core.spec import JobEventType, JobStatus, StreamEventType
from cornu.progress import ProgressBar

# The events that end a fit early: the bar says why.
_ENDINGS = frozenset(
    {JobEventType.failed, JobEventType.cancelled, JobEventType.pruned, JobEventType.client_detached}
)


class RemoteJob:
    """A training job on the service (what `fit(..., wait=False)` returns)."""

    def __init__(self, client: Client, job_id: str) -> None:
        self.client, self.id = client, job_id

    @property
    def status(self) -> JobStatus:
        """The job's status now (a string enum: it equals "succeeded" and the like)."""
        return self.client.job(self.id).status

    def wait(self, timeout_s: float | None = None) -> RemoteJob:
        self.client.wait(self.id, timeout_s=timeout_s)
        return self

    def cancel(self) -> None:
        self.client.cancel(self.id)

    def history(self) -> History:
        metrics = self.client.metrics(self.id)
        history = History()
        history.history = metrics.history
        history.epoch = [e.epoch - 1 for e in metrics.epochs]
        history.params = {"job": self.id}
        return history

    def stream(self) -> Any:
        return self.client.stream(self.id)

    def __repr__(self) -> str:
        return f"<RemoteJob {self.id}>"


def _learning_rate(model: Any) -> Any:
    return getattr(getattr(model, "optimizer", None), "learning_rate", None)


def follow(model: Any, job_id: str, epochs: int, verbose: Any, callbacks: ClientCallbacks) -> None:
    """Draw the job's progress and run the user's callbacks until the job ends. A
    callback that raises cancels the job (Keras's fit stops with the error too)."""
    client: Client = model.client
    level = 0 if verbose in (0, False) else 2 if verbose == 2 else 1
    bar = ProgressBar(sys.stdout, level)
    shown: int | None = None  # the epoch whose bar is drawn
    batches: int | None = None  # steps per epoch, from the first progress event
    stopping = False

    def stop() -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            with contextlib.suppress(Conflict):  # it ended meanwhile: nothing left to stop
                client.stop_training(job_id)

    try:
        for event in client.stream(job_id):
            data = event.data
            if event.event == StreamEventType.progress:
                batches = data["batches"]
                if data["epoch"] != shown:
                    shown = data["epoch"]
                    bar.start_epoch(data["epoch"], epochs, batches)
                bar.update(data["batch"], data["logs"])
                if callbacks.wants_batches and not stopping:
                    callbacks.batch_end(data["batch"] - 1, data["logs"])
                    if model.stop_training:
                        stop()
            elif event.event == StreamEventType.epoch:
                logs = {k: v for k, v in data.items() if k not in ("epoch", "seconds")}
                if data["epoch"] != shown:
                    bar.start_epoch(data["epoch"], epochs, batches)
                bar.end_epoch(logs, data["seconds"])
                shown = data["epoch"]
                _between_epochs(model, client, job_id, data["epoch"], epochs, logs, callbacks,
                                stopping, stop)  # fmt: skip
            elif (
                event.event == JobEventType.message
            ):  # what a service callback says, as Keras prints it
                if level:
                    bar.message(data.get("text", ""))
            elif (
                event.event == JobEventType.warning
            ):  # what Keras warns about while reading the model
                warnings.warn(data.get("text", ""), UserWarning, stacklevel=2)
            elif event.event in _ENDINGS:
                reason = data.get("reason")
                bar.message(f"job {event.event}" + (f": {reason}" if reason else ""))
    except Exception:  # a callback's error ends the fit, and the job with it
        with contextlib.suppress(CornuError):  # it may have ended meanwhile
            client.cancel(job_id)
        raise


def _between_epochs(
    model: Any,
    client: Client,
    job_id: str,
    epoch: int,
    epochs: int,
    logs: dict[str, Any],
    callbacks: ClientCallbacks,
    stopping: bool,
    stop: Any,
) -> None:
    """Epoch `epoch` (1-based) ended: the callbacks' on_epoch_end, then the next epoch's
    on_epoch_begin, then the verdict the job may be waiting for."""
    if model._fitting is not None:
        model._fitting.epochs_done = epoch  # weights read from here on are this epoch's
    rate = _learning_rate(model)
    if isinstance(rate, float) and isinstance(logs.get("learning_rate"), float):
        model.optimizer.learning_rate = rate = logs["learning_rate"]  # the job's rate now
    callbacks.epoch_end(epoch - 1, logs)
    if epoch >= epochs:  # the last epoch: the job ends by itself
        return
    if model.stop_training or stopping:
        stop()
        return
    callbacks.epoch_begin(epoch)
    if model.stop_training:
        stop()
    elif callbacks.holds_epochs:
        changed = _learning_rate(model)
        new_rate = float(changed) if changed != rate and isinstance(changed, float) else None
        with contextlib.suppress(Conflict):  # the job ended meanwhile (cancelled, timed out)
            client.ack(job_id, epoch, learning_rate=new_rate)
