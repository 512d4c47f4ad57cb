"""From a JobSpec and arrays to a trained model: Keras's `compile` + `fit`.

`plan_job` checks a spec against the shapes of its datasets without touching their
contents: the API calls it before queueing and `train_job` calls it again before
training, so a spec that passes the first check passes the second.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from core.engine import losses, metrics
from core.engine.callbacks import Callback, History
from core.engine.model import LayerInfo, Model, build_model
from core.engine.optimizers import build_optimizer
from core.engine.trainer import MetricSpec, Trainer
from core.errors import DataError, ErrorItem, SpecError
from core.spec import DataRef, JobSpec

Shape = tuple[int, ...]


def _fmt(shape: Shape) -> str:
    return str(tuple(shape))


@dataclass(frozen=True)
class Plan:
    """What a valid job will train: shapes, parameter count, loss and metrics."""

    input_shape: Shape
    output_shape: Shape
    layers: list[LayerInfo]
    params: int
    loss: losses.Loss
    metrics: list[MetricSpec]


def _check_pair(
    where: tuple[str, ...],
    ref: DataRef,
    shapes: Mapping[str, Shape],
    input_shape: Shape | None,
) -> tuple[Shape, Shape]:
    """One `(x, y)` pair: both known, both with samples, as many samples in each."""
    missing = [
        ErrorItem((*where, field), f"no dataset {dataset!r}; upload it first (POST /v1/datasets)")
        for field, dataset in (("x", ref.x), ("y", ref.y))
        if dataset not in shapes
    ]
    if missing:
        raise SpecError(missing)
    x, y = shapes[ref.x], shapes[ref.y]
    if x[0] != y[0]:
        raise SpecError(f"x has {x[0]} samples but y has {y[0]}; they must match", (*where, "y"))
    if input_shape is not None and x[1:] != input_shape:
        raise SpecError(
            f"x holds samples of shape {_fmt(x[1:])} but the model's input_shape is "
            f"{_fmt(input_shape)}",
            (*where, "x"),
        )
    return x, y


def plan_job(spec: JobSpec, shapes: Mapping[str, Shape]) -> Plan:
    """Check `spec` against dataset shapes (`{id: (samples, *sample_shape)}`).

    Raises SpecError for unknown names, layers that cannot take their input, and data
    whose shapes do not fit the model's input or output.
    """
    x, y = _check_pair(("data",), spec.data, shapes, spec.model.layers[0].input_shape)
    model = build_model(spec.model, x[1:], device="meta")
    if spec.fit.validation_data is not None:
        _check_pair(("fit", "validation_data"), spec.fit.validation_data, shapes, model.input_shape)
        val_y = shapes[spec.fit.validation_data.y]
        if val_y[1:] != y[1:]:
            raise SpecError(
                f"validation targets have shape {_fmt(val_y[1:])} per sample but the training "
                f"targets have {_fmt(y[1:])}",
                ("fit", "validation_data", "y"),
            )
    if spec.fit.validation_split:
        split_at = _split_at(x[0], spec.fit.validation_split)
        if split_at in (0, x[0]):
            raise SpecError(
                f"x holds {x[0]} samples, too few to split into training and validation sets "
                f"with validation_split={spec.fit.validation_split}",
                ("fit", "validation_split"),
            )
    loss = losses.get(spec.compile.loss)
    problem = loss.check_targets(y[1:], model.output_shape)
    if problem:
        raise SpecError(problem, ("data", "y"))
    metric_specs = []
    for index, name in enumerate(spec.compile.metrics):
        try:
            metric = metrics.get(name, y[1:], model.output_shape)
        except SpecError as exc:
            raise SpecError(exc.errors[0].msg, ("compile", "metrics", index)) from None
        metric_specs.append(MetricSpec(metric.name, metric.fn))
    return Plan(
        input_shape=model.input_shape,
        output_shape=model.output_shape,
        layers=model.summary(),
        params=model.count_params(),
        loss=loss,
        metrics=metric_specs,
    )


def _split_at(samples: int, validation_split: float) -> int:
    """Keras takes the *last* `validation_split` of the samples, before any shuffling."""
    return int(math.floor(samples * (1.0 - validation_split)))


def _tensor(array: np.ndarray, dtype: type, device: torch.device) -> Tensor:
    # Through numpy: it converts every numeric dtype and byte order torch may not.
    return torch.from_numpy(np.ascontiguousarray(array, dtype=dtype)).to(device)


def as_inputs(x: np.ndarray, name: str, device: torch.device) -> Tensor:
    """Inputs as float32, Keras's floatx, with the data checked."""
    t = _tensor(x, np.float32, device)
    _check_finite(t, name)
    return t


def as_targets(
    y: np.ndarray, name: str, loss: losses.Loss, output_shape: Shape, device: torch.device
) -> Tensor:
    """Targets in the form the loss and metrics expect, with the data checked.

    Sparse targets become int64 class indices (one per output, trailing 1 dropped);
    others float32 with a trailing axis of 1 added where Keras would add it.
    """
    if not loss.sparse:
        t = _tensor(y, np.float32, device)
        _check_finite(t, name)
        if t.dim() == len(output_shape):  # (n,) for a (1,) output: Keras expands it
            t = t.unsqueeze(-1)
        return t
    raw = _tensor(y, np.float64 if y.dtype.kind == "f" else np.int64, device)
    if raw.dtype.is_floating_point:
        _check_finite(raw, name)
        fractional = raw != raw.round()
        if bool(fractional.any()):
            sample, value = _first(fractional, raw)
            raise DataError(
                f"{name} must hold integer class indices for {loss.name}, "
                f"but sample {sample} holds {value}"
            )
    labels = raw.to(torch.int64)
    if labels.dim() == len(output_shape) + 1:
        labels = labels.squeeze(-1)
    classes = output_shape[-1]
    bad = (labels < 0) | (labels >= classes)
    if bool(bad.any()):
        sample, value = _first(bad, labels)
        raise DataError(
            f"{name} holds class index {value:g} at sample {sample}, but the output layer has "
            f"{classes} units (valid indices 0 to {classes - 1})"
        )
    return labels


def _first(mask: Tensor, values: Tensor) -> tuple[int, float]:
    """The sample index and value of the first element where `mask` holds."""
    flat = int(mask.reshape(-1).nonzero()[0])
    per_sample = max(1, mask[0].numel()) if mask.dim() > 0 else 1
    return flat // per_sample, float(values.reshape(-1)[flat])


def _check_finite(t: Tensor, name: str) -> None:
    finite = torch.isfinite(t)
    if not bool(finite.all()):
        sample, _ = _first(~finite, t)
        raise DataError(
            f"{name} contains NaN or infinite values (the first in sample {sample}); "
            "remove or impute them before training"
        )


@dataclass
class TrainResult:
    trainer: Trainer
    history: History
    plan: Plan

    @property
    def model(self) -> Model:
        return self.trainer.model


def train_job(
    spec: JobSpec,
    arrays: Mapping[str, np.ndarray],
    *,
    callbacks: Sequence[Callback] = (),
    device: torch.device | str = "cpu",
) -> TrainResult:
    """Compile and fit `spec` on `arrays` (`{dataset id: array}`)."""
    device = torch.device(device)
    plan = plan_job(spec, {k: tuple(v.shape) for k, v in arrays.items()})
    seed = spec.fit.seed if spec.fit.seed is not None else int(torch.seed())
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)

    # Initialised on the CPU, then moved: the same seed gives the same start on any device.
    model = build_model(spec.model, plan.input_shape).to(device)
    x = as_inputs(arrays[spec.data.x], "x", device)
    y = as_targets(arrays[spec.data.y], "y", plan.loss, plan.output_shape, device)
    validation = None
    if spec.fit.validation_data is not None:
        ref = spec.fit.validation_data
        validation = (
            as_inputs(arrays[ref.x], "validation x", device),
            as_targets(arrays[ref.y], "validation y", plan.loss, plan.output_shape, device),
        )
    elif spec.fit.validation_split:
        split_at = _split_at(x.shape[0], spec.fit.validation_split)
        x, y, validation = x[:split_at], y[:split_at], (x[split_at:], y[split_at:])

    optimizer = build_optimizer(spec.compile.optimizer, model.parameters())
    trainer = Trainer(model, plan.loss, plan.metrics, optimizer)
    history = trainer.fit(
        x,
        y,
        batch_size=spec.fit.batch_size,
        epochs=spec.fit.epochs,
        shuffle=spec.fit.shuffle,
        validation_data=validation,
        callbacks=callbacks,
        generator=generator,
    )
    return TrainResult(trainer=trainer, history=history, plan=plan)
