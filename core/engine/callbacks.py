"""Keras-style callbacks: plain objects called at clear points of `fit`.

Per-epoch hooks receive `logs` (plain floats). The per-batch hook receives the batch
index, and the batch's loss only for callbacks that ask for it (`wants_batch_loss`):
reading a loss value synchronises the device, so the training step does it only then.
The built-in callbacks (EarlyStopping, ReduceLROnPlateau, ModelCheckpoint,
TerminateOnNaN) follow `keras/src/callbacks/*.py`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from torch import Tensor

from cornu.core.spec import callbacks as spec

if TYPE_CHECKING:
    from cornu.core.engine.trainer import Trainer

Logs = dict[str, float]
Weights = dict[str, Tensor]


class Callback:
    """Override the hooks you need; `self.trainer` is set before training starts."""

    trainer: Trainer
    wants_batch_loss = False
    # Called after every step even with `steps_per_execution` (the service's own guard:
    # a cancel or a shutdown must not wait for an execution's end); else once per execution.
    every_step = False

    def set_trainer(self, trainer: Trainer) -> None:
        self.trainer = trainer

    def on_train_begin(self) -> None: ...

    def on_epoch_begin(self, epoch: int) -> None: ...

    def on_train_batch_end(self, batch: int, loss: float | None = None) -> None: ...

    def on_epoch_end(self, epoch: int, logs: Logs) -> None: ...

    def on_train_end(self) -> None: ...

    def sync_due(self) -> bool:
        """With replicas (data-parallel training), asked on rank 0 after each batch:
        whether the next batch's `on_train_batch_end` will read the running logs or
        capture the state (a progress report, a checkpoint), so that the replicas merge
        them first. `trainer.in_sync` tells the hook whether they did."""
        return False

    def get_state(self) -> dict[str, Any]:
        """What a resumed run needs to carry on as if never interrupted (checkpoints)."""
        return {}

    def set_state(self, state: dict[str, Any]) -> None: ...


class Interrupted(Exception):  # noqa: N818  (a stop, not an error)
    """Raised by a callback to stop training at once: the service raises it with a
    `spec.StopReason` (cancel, timeout, lost lease…)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _state_of(obj: object, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


class History(Callback):
    """Keras's `History`: `history["loss"]` is the list of each epoch's training loss."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)


class MonitorCallback(Callback):
    """What the callbacks that watch one logged quantity share, as Keras's own
    `MonitorCallback` (`keras/src/callbacks/monitor_callback.py`): the direction (`mode`;
    "auto" reads it from the monitor's name) and whether a value improves on a reference
    by more than `min_delta`."""

    def __init__(
        self, s: spec.EarlyStopping | spec.ReduceLROnPlateau | spec.ModelCheckpoint
    ) -> None:
        self.maximise = s.mode == "max" or (s.mode == "auto" and spec.maximises(s.monitor))

    @property
    def worst(self) -> float:
        """The value every first one improves on."""
        return -math.inf if self.maximise else math.inf

    def improves(self, value: float, reference: float, min_delta: float = 0.0) -> bool:
        if self.maximise:
            return value - min_delta > reference
        return value + min_delta < reference


class EarlyStopping(MonitorCallback):
    """Stop when `monitor` has not improved by `min_delta` for `patience` epochs."""

    def __init__(self, s: spec.EarlyStopping) -> None:
        super().__init__(s)
        self.spec = s

    def on_train_begin(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = self.worst
        self.best_weights: Weights | None = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        current = logs.get(self.spec.monitor)
        if current is None or epoch < self.spec.start_from_epoch:
            return
        if self.spec.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.trainer.get_weights(), epoch
        self.wait += 1
        if self.improves(current, self.best, self.spec.min_delta):
            self.best, self.best_epoch = current, epoch
            if self.spec.restore_best_weights:
                self.best_weights = self.trainer.get_weights()
            if self.spec.baseline is None or self.improves(
                current, self.spec.baseline, self.spec.min_delta
            ):
                self.wait = 0
            return
        if self.wait >= self.spec.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self) -> None:
        verbose = self.spec.verbose > 0  # Keras's messages (keras/src/callbacks/early_stopping.py)
        if self.stopped_epoch > 0 and verbose:
            self.trainer.messages.append(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.spec.restore_best_weights and self.best_weights is not None:
            if verbose:
                self.trainer.messages.append(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.trainer.set_weights(self.best_weights)

    _STATE = ("wait", "stopped_epoch", "best", "best_weights", "best_epoch")

    def get_state(self) -> dict[str, Any]:
        return _state_of(self, self._STATE)

    def set_state(self, state: dict[str, Any]) -> None:
        self.__dict__.update({k: state[k] for k in self._STATE})


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by `factor` after `patience` epochs without improvement.

    As in Keras 3, each epoch's logs gain `learning_rate`, so it appears in the history.
    """

    def __init__(self, s: spec.ReduceLROnPlateau) -> None:
        super().__init__(s)
        self.spec = s

    def on_train_begin(self) -> None:
        self.best = self.worst
        self.wait = 0
        self.cooldown_counter = 0

    def improves(self, value: float, reference: float, min_delta: float = 0.0) -> bool:
        # Keras's ReduceLROnPlateau moves the reference, not the value: `a < b - min_delta`
        if self.maximise:
            return value > reference + min_delta
        return value < reference - min_delta

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        optimizer = self.trainer.optimizer
        logs["learning_rate"] = optimizer.learning_rate
        current = logs.get(self.spec.monitor)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.improves(current, self.best, self.spec.min_delta):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.spec.patience:
                old = optimizer.learning_rate
                if old > self.spec.min_lr:
                    optimizer.learning_rate = new = max(old * self.spec.factor, self.spec.min_lr)
                    self.cooldown_counter = self.spec.cooldown
                    self.wait = 0
                    if self.spec.verbose > 0:  # Keras's message
                        self.trainer.messages.append(
                            f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}."
                        )

    _STATE = ("best", "wait", "cooldown_counter")

    def get_state(self) -> dict[str, Any]:
        return _state_of(self, self._STATE)

    def set_state(self, state: dict[str, Any]) -> None:
        self.__dict__.update({k: state[k] for k in self._STATE})


class ModelCheckpoint(MonitorCallback):
    """Keeps the weights of the best epoch (`save_best_only`) or of every epoch's end;
    when training ends, the model holds the kept weights: they are the job's weights."""

    def __init__(self, s: spec.ModelCheckpoint) -> None:
        super().__init__(s)
        self.spec = s

    def on_train_begin(self) -> None:
        threshold = self.spec.initial_value_threshold
        self.best = self.worst if threshold is None else threshold
        self.kept: Weights | None = None
        self.kept_epoch: int | None = None

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        if self.spec.save_best_only:
            current = logs.get(self.spec.monitor)
            if current is None:
                return
            if not self.improves(current, self.best):
                return
            self.best = current
        self.kept, self.kept_epoch = self.trainer.get_weights(), epoch

    def on_train_end(self) -> None:
        if self.kept is not None:
            self.trainer.set_weights(self.kept)

    _STATE = ("best", "kept", "kept_epoch")

    def get_state(self) -> dict[str, Any]:
        return _state_of(self, self._STATE)

    def set_state(self, state: dict[str, Any]) -> None:
        self.__dict__.update({k: state[k] for k in self._STATE})


class LearningRateScheduler(Callback):
    """Sets each epoch's learning rate from the table before the epoch starts and logs it
    as `learning_rate` after (keras/src/callbacks/learning_rate_scheduler.py)."""

    def __init__(self, s: spec.LearningRateScheduler) -> None:
        self.spec = s

    def on_epoch_begin(self, epoch: int) -> None:
        self.trainer.optimizer.learning_rate = self.spec.schedule[epoch]

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        logs["learning_rate"] = self.trainer.optimizer.learning_rate


class TerminateOnNaN(Callback):
    """Stops at the first batch whose loss is NaN or infinite (the job then fails)."""

    wants_batch_loss = True

    def on_train_batch_end(self, batch: int, loss: float | None = None) -> None:
        if loss is not None and not math.isfinite(loss):
            self.trainer.stop_training = True
            self.trainer.stop_reason = f"TerminateOnNaN stopped at batch {batch + 1}: loss {loss}"


BUILT_IN = {
    "EarlyStopping": EarlyStopping,
    "ReduceLROnPlateau": ReduceLROnPlateau,
    "ModelCheckpoint": ModelCheckpoint,
    "TerminateOnNaN": lambda s: TerminateOnNaN(),
    "LearningRateScheduler": LearningRateScheduler,
}


def from_specs(specs: Sequence[spec.AnyCallback]) -> list[Callback]:
    return [BUILT_IN[s.type](s) for s in specs]  # type: ignore[operator]


class CallbackList:
    """Calls each callback in order; per batch, only those that override the hook."""

    def __init__(self, callbacks: Sequence[Callback], trainer: Trainer) -> None:
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            callback.set_trainer(trainer)
        batch = [c for c in self.callbacks
                 if type(c).on_train_batch_end is not Callback.on_train_batch_end]  # fmt: skip
        self._batch_hooks = [c.on_train_batch_end for c in batch]
        self._step_hooks = [c.on_train_batch_end for c in batch if c.every_step]
        self.wants_batch_loss = any(c.wants_batch_loss for c in self.callbacks)

    @property
    def has_batch_hooks(self) -> bool:
        return bool(self._batch_hooks)

    def on_train_begin(self) -> None:
        for c in self.callbacks:
            c.on_train_begin()

    def on_epoch_begin(self, epoch: int) -> None:
        for c in self.callbacks:
            c.on_epoch_begin(epoch)

    def on_train_batch_end(
        self, batch: int, loss: float | None = None, executed: bool = True
    ) -> None:
        """The batch-level hooks: all at the end of an execution (`steps_per_execution`
        steps), only the `every_step` ones after the other steps."""
        for hook in self._batch_hooks if executed else self._step_hooks:
            hook(batch, loss)

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        for c in self.callbacks:
            c.on_epoch_end(epoch, logs)

    def on_train_end(self) -> None:
        for c in self.callbacks:
            c.on_train_end()

    def sync_due(self) -> bool:
        return any(c.sync_due() for c in self.callbacks)
