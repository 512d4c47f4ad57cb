"""The training loop with Keras's semantics, read top to bottom.

Data lives on the device for the whole run and batches are taken by index. The
step does forward, loss, backward and the optimizer update, and adds loss and metric
sums to device tensors; values are read once per epoch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from core.engine import activations
from core.engine.callbacks import Callback, CallbackList, History, Logs
from core.engine.losses import Loss
from core.engine.metrics import Mean, MeanMetric, SampleFn
from core.engine.model import FUSABLE_ACTIVATIONS, Model
from core.engine.optimizers import KerasOptimizer
from core.errors import NonFiniteLoss


@dataclass(frozen=True)
class MetricSpec:
    """A resolved metric: its history key and its per-element function."""

    name: str
    fn: SampleFn

    def new(self) -> MeanMetric:
        return MeanMetric(self.name, self.fn)


class EpochLogs:
    """The loss (Keras weights it by batch size) and metrics of one pass over the data."""

    def __init__(self, metrics: Sequence[MetricSpec]) -> None:
        self.loss = Mean("loss")
        self.metrics = [m.new() for m in metrics]
        self.wants_outputs = bool(self.metrics)

    def update(self, loss: Tensor, y_true: Tensor, y_pred: Tensor) -> None:
        count = y_true.shape[0]
        self.loss.add(loss.detach() * count, count)
        for metric in self.metrics:
            metric.update(y_true, y_pred.detach())

    def result(self) -> Logs:
        return {"loss": self.loss.result(), **{m.name: m.result() for m in self.metrics}}


class Trainer:
    """`compile`d state: a model with its loss, metrics and optimizer."""

    def __init__(
        self,
        model: Model,
        loss: Loss,
        metrics: Sequence[MetricSpec],
        optimizer: KerasOptimizer,
    ) -> None:
        self.model = model
        self.loss = loss
        self.metrics = list(metrics)
        self.optimizer = optimizer
        self.stop_training = False
        # Cross-entropy from logits when the head's activation is the one it undoes.
        head = model.output_activation
        self.fused = loss.fuses is not None and loss.fuses == head and head in FUSABLE_ACTIVATIONS
        self._head = activations.get(head) if self.fused else None

    def fit(
        self,
        x: Tensor,
        y: Tensor,
        *,
        batch_size: int = 32,
        epochs: int = 1,
        shuffle: bool = True,
        validation_data: tuple[Tensor, Tensor] | None = None,
        callbacks: Sequence[Callback] = (),
        generator: torch.Generator | None = None,
    ) -> History:
        history = History()
        hooks = CallbackList([history, *callbacks], self)
        self.stop_training = False
        hooks.on_train_begin()
        for epoch in range(epochs):
            hooks.on_epoch_begin(epoch)
            logs = self._train_epoch(x, y, batch_size, shuffle, generator, hooks)
            if validation_data is not None:
                val = self.evaluate(*validation_data, batch_size=batch_size)
                logs.update({f"val_{name}": value for name, value in val.items()})
            if not math.isfinite(logs["loss"]):
                raise NonFiniteLoss(
                    f"the training loss became {logs['loss']} in epoch {epoch + 1}; lower the "
                    "learning rate, scale the inputs (e.g. standardise them) or check the "
                    "data for extreme values"
                )
            hooks.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        hooks.on_train_end()
        return history

    def _train_epoch(
        self,
        x: Tensor,
        y: Tensor,
        batch_size: int,
        shuffle: bool,
        generator: torch.Generator | None,
        hooks: CallbackList,
    ) -> Logs:
        self.model.train()
        n = x.shape[0]
        order = torch.randperm(n, generator=generator).to(x.device) if shuffle else None
        logs = EpochLogs(self.metrics)
        for batch, start in enumerate(range(0, n, batch_size)):
            if order is None:
                xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            else:
                index = order[start : start + batch_size]
                xb, yb = x.index_select(0, index), y.index_select(0, index)
            self.optimizer.zero_grad(set_to_none=True)
            loss, y_pred = self._forward(xb, yb, want_outputs=logs.wants_outputs)
            loss.backward()
            self.optimizer.step()
            logs.update(loss, yb, y_pred)
            hooks.on_train_batch_end(batch)
        return logs.result()

    def _forward(self, xb: Tensor, yb: Tensor, want_outputs: bool = True) -> tuple[Tensor, Tensor]:
        """The batch's loss and (when wanted) its outputs, from the logits where fused."""
        if self._head is None:
            y_pred = self.model(xb)
            return self.loss(yb, y_pred), y_pred
        logits = self.model.forward_logits(xb)
        loss = self.loss.from_logits(yb, logits)
        return loss, (self._head(logits.detach()) if want_outputs else logits)

    @torch.inference_mode()
    def evaluate(self, x: Tensor, y: Tensor, *, batch_size: int = 32) -> Logs:
        """Loss and metrics over `(x, y)`, in inference mode (no dropout), as `model.evaluate`."""
        self.model.eval()
        logs = EpochLogs(self.metrics)
        for start in range(0, x.shape[0], batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            loss, y_pred = self._forward(xb, yb)
            logs.update(loss, yb, y_pred)
        return logs.result()

    @torch.inference_mode()
    def predict(self, x: Tensor, *, batch_size: int = 32) -> Tensor:
        self.model.eval()
        return torch.cat(
            [self.model(x[s : s + batch_size]) for s in range(0, x.shape[0], batch_size)]
        )
