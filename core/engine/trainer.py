"""The training loop with Keras's semantics, read top to bottom.

Data lives on the device for the whole run and batches are taken by index. A step
runs the model, adds up the outputs' weighted losses (plus weight and activity
penalties), steps the optimizer and accumulates loss and metric sums in device
tensors; values are read once per epoch. Names follow Keras: with several outputs,
each output's loss is `<output>_loss` and its metrics `<output>_<metric>`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import torch
from torch import Tensor

from cornu.core.engine.batches import Batches, Shuffle
from cornu.core.engine.callbacks import (
    Callback,
    CallbackList,
    History,
    Interrupted,
    Logs,
    Weights,
)
from cornu.core.engine.layers.stateful import carried_states, load_carried_states
from cornu.core.engine.losses import Loss, reduce
from cornu.core.engine.metrics import Mean, Metric
from cornu.core.engine.model import FUSABLE_ACTIVATIONS, Forward, Model
from cornu.core.engine.optimizers import KerasOptimizer
from cornu.core.engine.replicas import Replicas
from cornu.core.errors import NonFiniteLoss
from cornu.core.spec import StopReason

Tensors = list[Tensor]
Targets = list[Tensor | None]

STATE_FORMAT = 2
"""The layout of `Trainer.capture()`'s state; a checkpoint of another cannot resume."""


@dataclass
class Head:
    """How one model output is trained and measured."""

    name: str
    loss: Loss | None
    weight: float = 1.0
    metrics: list[Metric] = field(default_factory=list)
    weighted_metrics: list[Metric] = field(default_factory=list)


@dataclass
class Data:
    """Inputs per model input, targets per output, optional per-sample loss weights."""

    x: Tensors
    y: Targets
    sample_weight: Tensor | None = None

    @property
    def samples(self) -> int:
        return self.x[0].shape[0]

    def index_device(self) -> torch.device:
        """Where batch indexes live: the host when some array is gathered there from a
        file (`mapped.MappedArray`: reading a device index would wait for the device),
        else the data's device."""
        parts = [*self.x, *self.y, self.sample_weight]
        if any(t is not None and not isinstance(t, Tensor) and getattr(t, "gathers_on_host", False)
               for t in parts):  # fmt: skip
            return torch.device("cpu")
        return self.x[0].device

    def take(self, index: Tensor) -> Data:
        moved: dict[torch.device, Tensor] = {}

        def pick(t: Tensor) -> Tensor:
            if isinstance(t, Tensor) and t.device != index.device:
                if t.device not in moved:  # a host index, once per device for the batch
                    moved[t.device] = index.to(t.device, non_blocking=True)
                return t.index_select(0, moved[t.device])
            return t.index_select(0, index)

        return Data(
            [pick(t) for t in self.x],
            [None if t is None else pick(t) for t in self.y],
            None if self.sample_weight is None else pick(self.sample_weight),
        )

    def slice(self, start: int, stop: int) -> Data:
        return Data(
            [t[start:stop] for t in self.x],
            [None if t is None else t[start:stop] for t in self.y],
            None if self.sample_weight is None else self.sample_weight[start:stop],
        )


def metric_keys(
    names: Sequence[str],
    metrics: Sequence[Sequence[Metric]],
    weighted: Sequence[Sequence[Metric]],
    multi: bool,
) -> list[str]:
    """Each metric's key in the logs, in order: every output's `metrics`, then every
    output's `weighted_metrics` (prefixed by the output's name when there are several).
    A key already taken gets `_1`, `_2`…; a weighted metric's first `weighted_` — Keras
    3's `CompileMetrics.result` (keras/src/trainers/compile_utils.py), so
    `metrics=["mae"], weighted_metrics=["mae"]` logs `mae` and `weighted_mae`."""
    taken: dict[str, int] = {}

    def unique(key: str) -> str:
        if key not in taken:
            taken[key] = 1
            return key
        index = taken[key]
        taken[key] += 1
        return f"{key}_{index}"

    def named(output: str, metric: str) -> str:
        return f"{output}_{metric}" if multi else metric

    keys = [unique(named(n, m.name)) for n, ms in zip(names, metrics, strict=True) for m in ms]
    for output, ms in zip(names, weighted, strict=True):
        for m in ms:
            key = named(output, m.name)
            keys.append(unique(named(output, f"weighted_{m.name}") if key in taken else key))
    return keys


class EpochLogs:
    """Running loss (Keras weights it by batch size), per-output losses and metrics."""

    def __init__(self, heads: Sequence[Head]) -> None:
        self.multi = len(heads) > 1
        self.loss = Mean("loss")
        self.parts = [Mean(f"{h.name}_loss") if self.multi and h.loss else None for h in heads]
        self.metrics = [[m.fresh() for m in h.metrics] for h in heads]
        self.weighted = [[m.fresh() for m in h.weighted_metrics] for h in heads]
        self.names = [h.name for h in heads]
        self.keys = metric_keys(self.names, self.metrics, self.weighted, self.multi)
        self.wants_outputs = any(self.metrics) or any(self.weighted)

    def update(
        self, total: Tensor, parts: list[Tensor | None], data: Data, outputs: Tensors
    ) -> None:
        count = data.samples
        self.loss.add(total, count, weight=count)  # Keras weights batch losses by their size
        if not self.multi and not self.wants_outputs:
            return
        for j, (part, tracker) in enumerate(zip(parts, self.parts, strict=True)):
            if tracker is not None and part is not None:
                tracker.add(part, count, weight=count)
            y_true = data.y[j]
            if y_true is None:
                continue
            y_pred = outputs[j].detach()
            for metric in self.metrics[j]:
                metric.update(y_true, y_pred)
            for metric in self.weighted[j]:
                metric.update(y_true, y_pred, data.sample_weight)

    def result(self) -> Logs:
        """The epoch's logs, keys sorted as Keras 3 reports them."""
        logs = {"loss": self.loss.result()}
        for tracker in self.parts:
            if tracker is not None:
                logs[tracker.name] = tracker.result()
        running = [m for ms in (*self.metrics, *self.weighted) for m in ms]
        for key, metric in zip(self.keys, running, strict=True):
            logs[key] = metric.result()
        return dict(sorted(logs.items()))

    def trackers(self) -> list[Metric]:
        """Every running value: the loss, each output's loss and metrics."""
        parts = [t for t in self.parts if t is not None]
        return [self.loss, *parts, *(m for ms in (*self.metrics, *self.weighted) for m in ms)]

    def merge(self, replicas: Replicas, device: torch.device) -> None:
        """Every replica's sums so far added up on rank 0; the others start again from
        zero, so that a later merge counts each batch once."""
        trackers = self.trackers()
        sums = [t.sums() for t in trackers]
        total = replicas.sum_to_first(torch.cat(sums))
        offset = 0
        for tracker, own in zip(trackers, sums, strict=True):
            if replicas.first:
                tracker.set_sums(total[offset : offset + own.numel()], device)
            else:
                tracker.reset()
            offset += own.numel()

    def get_state(self) -> dict[str, Any]:
        return {
            "loss": self.loss.get_state(),
            "parts": [None if t is None else t.get_state() for t in self.parts],
            "metrics": [[m.get_state() for m in ms] for ms in (*self.metrics, *self.weighted)],
        }

    def set_state(self, state: dict[str, Any], device: torch.device) -> None:
        def moved(s: dict[str, Any]) -> dict[str, Any]:
            return {k: v.to(device) if isinstance(v, Tensor) else v for k, v in s.items()}

        self.loss.set_state(moved(state["loss"]))
        for tracker, saved in zip(self.parts, state["parts"], strict=True):
            if tracker is not None:
                tracker.set_state(moved(saved))
        for metrics, saved_list in zip(
            (*self.metrics, *self.weighted), state["metrics"], strict=True
        ):
            for metric, saved in zip(metrics, saved_list, strict=True):
                metric.set_state(moved(saved))


@dataclass
class Position:
    """Where a resumed run picks up inside an epoch: its batch, and its sums so far."""

    batch: int
    logs: dict[str, Any]


EpochData = Data | Callable[[int], Data]
"""The training data: one set for every epoch, or each epoch's own (`epoch → Data`)."""


class Trainer:
    """`compile`d state: a model with its outputs' losses and metrics, and an optimizer
    (None for a model that only evaluates and predicts)."""

    def __init__(
        self,
        model: Model,
        heads: Sequence[Head],
        optimizer: KerasOptimizer | None = None,
        *,
        autocast: torch.dtype | None = None,
        loss_scale: bool = False,
        jit_compile: bool = False,
        steps_per_execution: int = 1,
        replicas: Replicas | None = None,
    ) -> None:
        self.model = model
        self.heads = list(heads)
        self._optimizer = optimizer
        self.autocast = autocast
        # float16's dynamic loss scaling, with Keras's LossScaleOptimizer's settings
        # (keras/src/optimizers/loss_scale_optimizer.py: 2**15, doubled every 2000 steps).
        self.scaler = (
            torch.amp.GradScaler(self.model_device().type, init_scale=2.0**15,
                                 growth_interval=2000)
            if loss_scale else None
        )  # fmt: skip
        # `jit_compile`: the forward pass under torch.compile, until it fails to compile.
        self._compiled: Callable[..., Forward] | None = (
            torch.compile(model.run) if jit_compile else None
        )
        self._compiled_once = False
        self.steps_per_execution = steps_per_execution
        self.replicas = replicas  # data-parallel: this process's place among them
        # Whether the running logs and moving statistics hold every replica's (always on
        # one device; with replicas, after a batch whose callbacks asked for it).
        self.in_sync = True
        self._sync_next = False
        self.stop_training = False
        self.stop_reason: str | None = None
        # What callbacks with `verbose` say (Keras prints it); the runner passes it on.
        self.messages: list[str] = []
        self.steps = 0
        # Outputs whose cross-entropy is computed from the head's logits.
        self.fused = frozenset(
            j
            for j, head in enumerate(self.heads)
            if head.loss is not None
            and head.loss.fuses is not None
            and head.loss.fuses == model.output_activation(j)
            and head.loss.fuses in FUSABLE_ACTIVATIONS
        )

    @property
    def optimizer(self) -> KerasOptimizer:
        if self._optimizer is None:
            raise RuntimeError("this Trainer was made without an optimizer: it cannot train")
        return self._optimizer

    # -- fit -------------------------------------------------------------------------

    def fit(
        self,
        data: EpochData,
        *,
        batch_size: int = 32,
        epochs: int = 1,
        initial_epoch: int = 0,
        shuffle: Shuffle = True,
        steps_per_epoch: int | None = None,
        validation: Data | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int | list[int] = 1,
        callbacks: Sequence[Callback] = (),
        generator: torch.Generator | None = None,
        resume: dict[str, Any] | None = None,
    ) -> History:
        """Keras's `fit`; `resume` is a state from `capture()` to carry on from."""
        history = History()
        hooks = CallbackList([*callbacks, history], self)  # Keras adds History last
        self._hooks, self._generator = hooks, generator or torch.Generator()
        self.stop_training, self.stop_reason = False, None
        per_epoch = callable(data)
        device = self.model_device()

        def batches_of(samples: Data) -> Batches:
            return Batches(
                samples.samples,
                batch_size,
                shuffle=shuffle,
                steps_per_epoch=steps_per_epoch,
                generator=self._generator,
                device=samples.index_device(),
            )

        fixed = None if callable(data) else data
        self._batches = batches_of(fixed) if fixed is not None else None
        self._val_batches = None
        if validation is not None:
            self._val_batches = Batches(
                validation.samples,
                validation_batch_size or batch_size,
                shuffle=False,
                steps_per_epoch=validation_steps,
                device=device,
            )
        hooks.on_train_begin()
        first, position, saved = initial_epoch, None, None
        if resume is not None:
            first, position, saved = self._restore(resume)
        if self.replicas is not None:
            self._start_replica()
        epoch_data: Data | None = None
        for epoch in range(first, epochs):
            self._then_agree(partial(hooks.on_epoch_begin, epoch), rates=True)
            epoch_data = None  # the last epoch's tensors go before the next's come
            epoch_data = data(epoch - initial_epoch) if callable(data) else data
            if per_epoch:  # each epoch's data is a pass of its own
                self._batches = batches_of(epoch_data)
            if saved is not None:
                assert self._batches is not None
                self._batches.set_state(saved)
                saved = None
            logs = self._train_epoch(epoch_data, epoch, hooks, position)
            position = None
            if validation is not None and _validates(epoch, validation_freq):
                val = self._validate(validation)
                logs.update({f"val_{name}": value for name, value in val.items()})
            self._then_agree(partial(self._end_epoch, epoch, logs), rates=True)
            if self.stop_training:
                break
        if self.replicas is None or self.replicas.first:
            hooks.on_train_end()
        return history

    def _end_epoch(self, epoch: int, logs: Logs) -> None:
        if not math.isfinite(logs["loss"]):
            reason = f" ({self.stop_reason})" if self.stop_reason else ""
            raise NonFiniteLoss(
                f"the training loss became {logs['loss']} in epoch {epoch + 1}{reason}; "
                "lower the learning rate, scale the inputs (e.g. standardise them) or "
                "check the data for extreme values"
            )
        self._hooks.on_epoch_end(epoch, logs)

    # -- replicas --------------------------------------------------------------------

    def _start_replica(self) -> None:
        """Every replica from rank 0's weights and shuffle generator; dropout draws of its
        own."""
        replicas = self.replicas
        assert replicas is not None
        replicas.broadcast_state(self.model)
        generator = self._generator.get_state()  # one shuffled order for all (`seed` or not)
        replicas.broadcast_bytes(generator)
        self._generator.set_state(generator)
        if self.scaler is not None:  # its scale exists before a step with nothing to scale
            self.scaler.scale(torch.zeros((), device=self.model_device()))
        if not replicas.first:  # the same stream as rank 0 would drop the same units
            seed = int(torch.randint(0, 2**62, (1,)).item())
            torch.manual_seed(seed + replicas.rank)

    def _then_agree(
        self, hooks: Callable[[], None], *, rates: bool = False, sync_next: bool = False
    ) -> None:
        """Run `hooks` (on rank 0 only, with replicas), then every replica learns what
        they decided: to stop the run (an exception on rank 0, which it raises after
        telling the others), to stop training after this step or epoch, whether the next
        batch merges the replicas' running values (`sync_next`), and, with `rates`, the
        learning rate a callback may have set."""
        replicas = self.replicas
        if replicas is None:
            hooks()
            return
        stopped: BaseException | None = None
        if replicas.first:
            try:
                hooks()
            except Exception as error:  # noqa: BLE001  (raised below, once the others know)
                stopped = error
        optimizer = self.optimizer
        carries_rate = rates and not optimizer.has_schedule
        wanted = sync_next and replicas.first and stopped is None and self._hooks.sync_due()
        values = [stopped is not None, self.stop_training, wanted]
        agreed = replicas.agree(values + ([optimizer.learning_rate] if carries_rate else []))
        if stopped is not None:
            raise stopped
        if agreed[0]:
            raise Interrupted(StopReason.replica)  # rank 0 ended the run; it says why
        self.stop_training, self._sync_next = bool(agreed[1]), bool(agreed[2])
        if carries_rate and optimizer.learning_rate != agreed[3]:
            optimizer.learning_rate = agreed[3]

    def _merge(self, logs: EpochLogs) -> None:
        """The replicas' running values added up on rank 0, moving statistics averaged."""
        assert self.replicas is not None
        logs.merge(self.replicas, self.model_device())
        self.replicas.mean_buffers(self.model)
        self.in_sync = True

    def _validate(self, validation: Data) -> Logs:
        """The validation logs; with replicas, each evaluates its part of the samples
        and rank 0 has their sum (`validation_steps` takes the first batches of the
        whole: rank 0 evaluates them alone)."""
        replicas = self.replicas
        if replicas is None:
            return self.evaluate(validation, batches=self._val_batches)
        whole = self._val_batches
        if whole is not None and whole.steps_per_epoch is not None:
            logs = self._evaluate_logs(validation, whole) if replicas.first else None
        else:
            start, stop = replicas.part(validation.samples)
            size = whole.batch_size if whole is not None else 32
            part = validation.slice(start, stop)
            logs = self._evaluate_logs(part, Batches(part.samples, size, shuffle=False))
        logs = logs or EpochLogs(self.heads)
        logs.merge(replicas, self.model_device())
        return logs.result()

    def model_device(self) -> torch.device:
        parameter = next(iter(self.model.parameters()), None)
        return parameter.device if parameter is not None else torch.device("cpu")

    def _train_epoch(
        self, data: Data, epoch: int, hooks: CallbackList, position: Position | None
    ) -> Logs:
        self.model.train()
        batches = self._batches
        assert batches is not None
        logs = EpochLogs(self.heads)
        first = 0
        if position is not None:
            first = position.batch
            if self.replicas is None or self.replicas.first:  # the sums were merged on rank 0
                logs.set_state(position.logs, data.x[0].device)
        else:
            batches.start_epoch()
        self.steps = batches.epoch_steps  # for progress reports
        self._epoch, self._logs, self._batch = epoch, logs, first
        if self.replicas is not None:
            self._train_replica_epoch(data, batches, hooks, logs, first)
            return logs.result()
        for batch, index in batches.steps(first):
            if isinstance(index, slice):
                batch_data = data.slice(index.start, index.stop)
            else:
                batch_data = data.take(index)
            self.optimizer.zero_grad(set_to_none=True)
            with self._autocast():
                total, parts, forward = self._loss(batch_data)
            if total.requires_grad:  # with every weight frozen, Keras only measures
                self._backward(total)
                self._apply()
            logs.update(total, parts, batch_data, forward.outputs)
            self._batch = batch + 1
            if hooks.has_batch_hooks:
                executed = self._executed(batch)
                loss = total.item() if hooks.wants_batch_loss and executed else None
                hooks.on_train_batch_end(batch, loss, executed)
            if self.stop_training:
                break
        return logs.result()

    def _train_replica_epoch(
        self, data: Data, batches: Batches, hooks: CallbackList, logs: EpochLogs, first: int
    ) -> None:
        """The epoch's steps on this replica's part of each batch (`Replicas`); the
        running values are merged where callbacks need them and at the epoch's end."""
        replicas = self.replicas
        assert replicas is not None
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        for batch, index in batches.steps(first):
            whole = index.stop - index.start if isinstance(index, slice) else index.numel()
            start, stop = replicas.part(whole)
            self.optimizer.zero_grad(set_to_none=True)
            total = None
            if stop > start:  # a short last batch may leave a replica nothing
                if isinstance(index, slice):
                    batch_data = data.slice(index.start + start, index.start + stop)
                else:
                    batch_data = data.take(index[start:stop])
                with self._autocast():
                    total, parts, forward = self._loss(batch_data)
                if total.requires_grad:
                    self._backward(total * ((stop - start) / whole))
            if trainable:
                replicas.sum_gradients(trainable)
                self._apply()
            if total is not None:
                logs.update(total, parts, batch_data, forward.outputs)
            self._batch = batch + 1
            executed = self._executed(batch)
            self.in_sync = self._sync_next
            if self.in_sync:
                self._merge(logs)
            wanted = executed and hooks.wants_batch_loss
            loss = total.item() if wanted and total is not None else None
            hooks_now = partial(hooks.on_train_batch_end, batch, loss, executed)
            self._then_agree(hooks_now, sync_next=True)  # every step: a stop is heard at once
            if self.stop_training:
                break
        self._merge(logs)

    def _backward(self, loss: Tensor) -> None:
        """Gradients of `loss` (scaled up first under float16 loss scaling)."""
        (loss if self.scaler is None else self.scaler.scale(loss)).backward()

    def _apply(self) -> None:
        """One optimizer step with the gradients, then the weights' constraints; under
        loss scaling the gradients are unscaled first, and a step whose gradients are not
        finite is skipped while the scale halves (Keras's LossScaleOptimizer)."""
        if self.scaler is None:
            self.optimizer.step()
        else:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        self.model.apply_constraints()

    def _executed(self, batch: int) -> bool:
        """Whether step `batch` ends an execution of `steps_per_execution` steps (or the
        epoch): where Keras calls the batch-level callbacks."""
        return (batch + 1) % self.steps_per_execution == 0 or batch + 1 == self.steps

    def _loss(self, data: Data) -> tuple[Tensor, list[Tensor | None], Forward]:
        """The minimised total (weighted output losses plus penalties) and its parts."""
        forward = self._forward(data.x)
        parts: list[Tensor | None] = []
        total: Tensor | None = None
        for j, head in enumerate(self.heads):
            y_true = data.y[j]
            if head.loss is None or y_true is None:
                parts.append(None)
                continue
            part = self._output_loss(head.loss, y_true, forward, j, data.sample_weight)
            parts.append(part)
            weighted = part if head.weight == 1.0 else head.weight * part
            total = weighted if total is None else total + weighted
        assert total is not None, "planning guarantees at least one loss"
        penalty = self.model.regularization_loss()
        if penalty is not None:
            total = total + penalty
        for extra in forward.losses:
            total = total + extra
        return total, parts, forward

    def _forward(self, x: Tensors) -> Forward:
        """The model on `x`: compiled with `jit_compile`, eagerly once compiling failed
        (what Keras's `jit_compile="auto"` does where a model cannot be compiled; here
        with a message, since the user asked for compilation)."""
        if self._compiled is None:
            return self.model.run(x, self.fused)
        try:
            forward = self._compiled(x, self.fused)
        except Exception as error:  # noqa: BLE001  (torch.compile's failures have no common type)
            if self._compiled_once and not isinstance(
                error, torch._dynamo.exc.TorchDynamoException
            ):
                raise  # it compiled before: a real error of this batch
            self._compiled = None
            first = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
            self.messages.append(
                f"jit_compile: the model does not compile with torch.compile "
                f"({type(error).__name__}: {first}); it trains without it"
            )
            return self.model.run(x, self.fused)
        self._compiled_once = True
        return forward

    @staticmethod
    def _output_loss(
        loss: Loss, y_true: Tensor, forward: Forward, j: int, sample_weight: Tensor | None
    ) -> Tensor:
        """One output's reduced loss; from its logits where the head is fused."""
        logits = forward.logits[j]
        output_mask, target_mask = forward.masks[j], loss.mask(y_true)
        if sample_weight is None and output_mask is None and target_mask is None:
            if logits is not None:
                return loss.mean_from_logits(y_true, logits)
            return loss.mean(y_true, forward.outputs[j])
        if logits is not None:
            values = loss.values_from_logits(y_true, logits)
        else:
            values = loss.values(y_true, forward.outputs[j])
        return reduce(values, sample_weight, _mask(values, output_mask, target_mask))

    def _autocast(self) -> contextlib.AbstractContextManager[None]:
        if self.autocast is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=self.autocast)

    # -- evaluate and predict --------------------------------------------------------

    def evaluate(self, data: Data, *, batch_size: int = 32, batches: Batches | None = None) -> Logs:
        """Loss and metrics over `data` in inference mode (no dropout), as `model.evaluate`;
        over `batches`' next steps when given (fit's `validation_steps`)."""
        batches = batches or Batches(data.samples, batch_size, shuffle=False)
        return self._evaluate_logs(data, batches).result()

    @torch.inference_mode()
    def _evaluate_logs(self, data: Data, batches: Batches) -> EpochLogs:
        self.model.eval()
        logs = EpochLogs(self.heads)
        batches.start_epoch()
        for _, index in batches.steps():
            assert isinstance(index, slice), "evaluation keeps the samples' order"
            batch_data = data.slice(index.start, index.stop)
            with self._autocast():
                total, parts, forward = self._loss(batch_data)
            logs.update(total, parts, batch_data, forward.outputs)
        return logs

    @torch.inference_mode()
    def predict(self, x: Tensors, *, batch_size: int = 32) -> Tensors:
        """Every output for every sample, batch by batch."""
        self.model.eval()
        chunks: list[Tensors] = []
        for start in range(0, x[0].shape[0], batch_size):
            with self._autocast():
                chunks.append(self.model.run([t[start : start + batch_size] for t in x]).outputs)
        return [torch.cat([c[j] for c in chunks]).float() for j in range(len(self.model.outputs))]

    # -- progress and checkpoints ----------------------------------------------------

    def progress(self) -> dict[str, Any]:
        """Where the running epoch stands, with its running loss and metrics (reading
        them synchronises the device: call it a few times a second, not every batch)."""
        return {"epoch": self._epoch + 1, "batch": self._batch, "batches": self.steps,
                "logs": self._logs.result()}  # fmt: skip

    def capture(self, *, end_of_epoch: bool = False) -> dict[str, Any]:
        """The whole training state at a batch boundary (or an epoch's end): weights,
        optimizer, random generators, callbacks, and the position inside the epoch."""
        state: dict[str, Any] = {
            "format": STATE_FORMAT,
            "model": self.model.state_dict(),
            "rnn_states": carried_states(self.model),  # stateful layers': not weights
            "optimizer": self.optimizer.state_dict(),
            "rng": {"torch": torch.get_rng_state(), "shuffle": self._generator.get_state()},
            "callbacks": [c.get_state() for c in self._hooks.callbacks],
        }
        if torch.cuda.is_initialized():
            state["rng"]["cuda"] = torch.cuda.get_rng_state_all()
        if self.scaler is not None:
            state["loss_scale"] = self.scaler.state_dict()
        state["batches"] = None if self._batches is None else self._batches.get_state()
        if self._val_batches is not None:
            state["validation_batches"] = self._val_batches.get_state()
        if end_of_epoch:
            return {**state, "epoch": self._epoch + 1, "batch": 0}
        return {**state, "epoch": self._epoch, "batch": self._batch, "logs": self._logs.get_state()}

    def _restore(self, state: dict[str, Any]) -> tuple[int, Position | None, dict[str, Any] | None]:
        """Put back what `capture` took; returns the epoch to start, where in it, and
        the training batches' state (set once the epoch's data is at hand)."""
        self.model.load_state_dict(state["model"])
        load_carried_states(self.model, state.get("rnn_states", {}))
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scaler is not None and "loss_scale" in state:
            self.scaler.load_state_dict(state["loss_scale"])
        torch.set_rng_state(state["rng"]["torch"])
        self._generator.set_state(state["rng"]["shuffle"])
        if "cuda" in state["rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        if self.replicas is None or self.replicas.first:  # the others run no callbacks
            for callback, saved in zip(self._hooks.callbacks, state["callbacks"], strict=True):
                callback.set_state(saved)
        if self._val_batches is not None and "validation_batches" in state:
            self._val_batches.set_state(state["validation_batches"])
        position = Position(state["batch"], state["logs"]) if state["batch"] else None
        return state["epoch"], position, state["batches"]

    # -- weights, for callbacks ------------------------------------------------------

    def get_weights(self) -> Weights:
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def set_weights(self, weights: Weights) -> None:
        self.model.load_state_dict(weights)


def _mask(values: Tensor, output_mask: Tensor | None, target_mask: Tensor | None) -> Tensor | None:
    """Entries left out of a loss: masked time steps of the output, ignored classes."""
    masks = [m for m in (output_mask, target_mask) if m is not None and m.shape == values.shape]
    if not masks:
        return None
    combined = masks[0]
    for m in masks[1:]:
        combined = combined & m
    return combined


def _validates(epoch: int, validation_freq: int | list[int]) -> bool:
    """Whether epoch `epoch` (0-based) ends with a validation (Keras's `_should_eval`)."""
    if isinstance(validation_freq, list):
        return epoch + 1 in validation_freq
    return (epoch + 1) % validation_freq == 0
