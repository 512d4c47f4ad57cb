"""Keras-style callbacks: plain objects called at clear points of `fit`.

Per-epoch hooks receive `logs` (plain floats). The per-batch hook receives only the
batch index: reading a loss value there would synchronise the device every step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.engine.trainer import Trainer

Logs = dict[str, float]


class Callback:
    """Override the hooks you need; `self.trainer` is set before training starts."""

    trainer: Trainer

    def set_trainer(self, trainer: Trainer) -> None:
        self.trainer = trainer

    def on_train_begin(self) -> None: ...

    def on_epoch_begin(self, epoch: int) -> None: ...

    def on_train_batch_end(self, batch: int) -> None: ...

    def on_epoch_end(self, epoch: int, logs: Logs) -> None: ...

    def on_train_end(self) -> None: ...


class History(Callback):
    """Keras's `History`: `history["loss"]` is the list of each epoch's training loss."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)


class CallbackList:
    """Calls each callback in order; per-batch only those that override the hook."""

    def __init__(self, callbacks: Sequence[Callback], trainer: Trainer) -> None:
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            callback.set_trainer(trainer)
        self._batch_hooks = [
            c.on_train_batch_end
            for c in self.callbacks
            if type(c).on_train_batch_end is not Callback.on_train_batch_end
        ]

    def on_train_begin(self) -> None:
        for c in self.callbacks:
            c.on_train_begin()

    def on_epoch_begin(self, epoch: int) -> None:
        for c in self.callbacks:
            c.on_epoch_begin(epoch)

    def on_train_batch_end(self, batch: int) -> None:
        for hook in self._batch_hooks:
            hook(batch)

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        for c in self.callbacks:
            c.on_epoch_end(epoch, logs)

    def on_train_end(self) -> None:
        for c in self.callbacks:
            c.on_train_end()
