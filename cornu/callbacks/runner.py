"""The user's callbacks, driven by a job's live stream in Keras's order: train begin,
each epoch's begin and end, progress as batches, train end."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cornu.callbacks.client import Callback, History, Logs


class ClientCallbacks:
    """Calls each callback's hooks, with `self.model` and `self.params` set as in Keras
    (History last, as Keras adds it)."""

    def __init__(self, callbacks: Sequence[Callback], model: Any, params: dict[str, Any]) -> None:
        self.history = History()
        self.callbacks = [*callbacks, self.history]
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params(params)
        self.model = model
        self.holds_epochs = any(c.holds_epochs() for c in callbacks)
        self.wants_batches = any(
            type(c).on_train_batch_end is not Callback.on_train_batch_end
            or type(c).on_batch_end is not Callback.on_batch_end
            or "on_train_batch_end" in vars(c)
            for c in callbacks
        )

    def train_begin(self) -> None:
        for callback in self.callbacks:
            callback.on_train_begin({})

    def epoch_begin(self, epoch: int) -> None:
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, {})

    def batch_end(self, batch: int, logs: Logs) -> None:
        for callback in self.callbacks:
            callback.on_train_batch_end(batch, dict(logs))

    def epoch_end(self, epoch: int, logs: Logs) -> None:
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, dict(logs))

    def train_end(self, logs: Logs) -> None:
        for callback in self.callbacks:
            callback.on_train_end(dict(logs))
