"""From a JobSpec and arrays to a trained model: Keras's `fit`.

The arrays become tensors on the device (checked: finite values, labels in range),
then `train_job` plans the job (`core.engine.plan`), builds the model and trains it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, cast

import numpy as np
import torch
from torch import Tensor

from cornu.core.engine import callbacks as callback_module
from cornu.core.engine import losses
from cornu.core.engine.build import build_model
from cornu.core.engine.callbacks import Callback, History
from cornu.core.engine.mapped import MappedArray, is_mapped, scan
from cornu.core.engine.model import Model
from cornu.core.engine.optimizers import build_optimizer
from cornu.core.engine.plan import (
    DataIds,
    Plan,
    Shape,
    plan_job,
    split_point,
)
from cornu.core.engine.replicas import Replicas
from cornu.core.engine.trainer import Data, Trainer
from cornu.core.engine.weight_checks import check_initial_weights, check_keras_weights
from cornu.core.engine.windows import Windows, epoch_order, starts
from cornu.core.errors import DataError
from cornu.core.spec import JobSpec

# -- arrays to tensors -------------------------------------------------------------------

_CPU = torch.device("cpu")


def _tensor(array: np.ndarray, dtype: type, device: torch.device) -> Tensor:
    # Through numpy: it converts every numeric dtype and byte order torch may not.
    out: np.ndarray = np.ascontiguousarray(array, dtype=dtype)
    if not out.flags.writeable:  # rows of a read-only memory map: torch wants its own copy
        out = out.copy()
    return torch.from_numpy(out).to(device)


def as_inputs(
    x: np.ndarray,
    name: str,
    dtype: torch.dtype,
    device: torch.device,
    *,
    check: bool = True,
    offset: int = 0,
) -> Tensor:
    """Inputs as float32 (Keras's floatx), or int64 for inputs read by an Embedding;
    checked unless `check` is False (rows a scan checked already). `offset` is the
    sample index of `x`'s first row, for messages."""
    if dtype == torch.long:
        t = _tensor(x, np.float64 if x.dtype.kind == "f" else np.int64, device)
        if check:
            _check_finite(t, name, offset)
        if t.dtype.is_floating_point:
            if check and bool((t != t.round()).any()):
                sample, value = _first(t != t.round(), t, offset)
                raise DataError(
                    f"{name} feeds an Embedding and must hold integer ids; "
                    f"sample {sample} holds {value}"
                )
            t = t.long()
        return t
    t = _tensor(x, np.float32, device)
    if check:
        _check_finite(t, name, offset)
    return t


def as_targets(
    y: np.ndarray,
    name: str,
    loss: losses.Loss | None,
    output_shape: Shape,
    device: torch.device,
    *,
    check: bool = True,
    offset: int = 0,
) -> Tensor:
    """Targets in the form the loss and metrics expect, with the data checked (unless
    `check` is False; `offset` is the sample index of `y`'s first row).

    Sparse targets become int64 class indices (trailing axis of 1 dropped); others
    float32 with a trailing axis of 1 added where Keras would add it.
    """
    if loss is None or not loss.sparse:
        t = _tensor(y, np.float32, device)
        if check:
            _check_finite(t, name, offset)
        if t.dim() == len(output_shape):  # (n,) for a (1,) output: Keras expands it
            t = t.unsqueeze(-1)
        return t
    raw = _tensor(y, np.float64 if y.dtype.kind == "f" else np.int64, device)
    if raw.dtype.is_floating_point and check:
        _check_finite(raw, name, offset)
        fractional = raw != raw.round()
        if bool(fractional.any()):
            sample, value = _first(fractional, raw, offset)
            raise DataError(
                f"{name} must hold integer class indices for {loss.name}, "
                f"but sample {sample} holds {value}"
            )
    labels = raw.to(torch.int64)
    if isinstance(loss, losses.CTC):
        return labels
    if labels.dim() == len(output_shape) + 1:
        labels = labels.squeeze(-1)
    classes = output_shape[-1]
    ignore = getattr(loss, "ignore_class", None)
    bad = (labels < 0) | (labels >= classes)
    if ignore is not None:
        bad &= labels != ignore
    if check and bool(bad.any()):
        sample, value = _first(bad, labels, offset)
        raise DataError(
            f"{name} holds class index {value:g} at sample {sample}, but the output layer has "
            f"{classes} units (valid indices 0 to {classes - 1})"
        )
    return labels


def _first(mask: Tensor, values: Tensor, offset: int = 0) -> tuple[int, float]:
    """The sample index (counted from `offset`) and value of the first element where
    `mask` holds."""
    flat = int(mask.reshape(-1).nonzero()[0])
    per_sample = max(1, mask[0].numel()) if mask.dim() > 0 else 1
    return offset + flat // per_sample, float(values.reshape(-1)[flat])


def _check_finite(t: Tensor, name: str, offset: int = 0) -> None:
    if not t.dtype.is_floating_point:
        return
    finite = torch.isfinite(t)
    if not bool(finite.all()):
        sample, _ = _first(~finite, t, offset)
        raise DataError(
            f"{name} contains NaN or infinite values (the first in sample {sample}); "
            "remove or impute them before training"
        )


def class_weights(labels: Tensor, weights: Mapping[int, float], output_shape: Shape) -> Tensor:
    """Keras turns `class_weight` into per-sample weights from each sample's class."""
    if labels.dtype.is_floating_point:
        classes = (
            labels.argmax(dim=-1)
            if output_shape[-1] > 1
            else labels.reshape(labels.shape[0], -1)[:, 0].round().long()
        )
    else:
        classes = labels.reshape(labels.shape[0], -1)[:, 0]
    table = torch.ones(
        int(max(max(weights, default=0), int(classes.max())) + 1), device=labels.device
    )
    for cls, weight in weights.items():
        table[cls] = weight
    return table[classes]


def to_data(
    plan: Plan,
    ids: DataIds,
    arrays: Mapping[str, np.ndarray],
    model: Model,
    device: torch.device,
    prefix: str = "",
) -> Data:
    if ids.windows is not None:
        return _window_data(plan, ids, arrays, model, device, prefix)
    many_inputs, many_outputs = len(ids.x) > 1, len(ids.y) > 1
    x = [
        _feed(
            arrays[d],
            partial(
                as_inputs,
                name=f"{prefix}x" + (f"[{n!r}]" if many_inputs else ""),
                dtype=model.input_dtypes[i],
            ),
            device,
        )
        for i, (n, d) in enumerate(zip(plan.input_names, ids.x, strict=True))
    ]
    y: list[Tensor | None] = []
    targets = zip(plan.heads, ids.y, strict=True) if plan.heads else ()  # predict: none
    for j, (head, d) in enumerate(targets):
        label = f"{prefix}y" + (f"[{head.name!r}]" if many_outputs else "")
        y.append(
            None
            if d is None
            else _feed(
                arrays[d],
                partial(as_targets, name=label, loss=head.loss, output_shape=plan.output_shapes[j]),
                device,
            )
        )
    sample_weight = None
    if ids.sample_weight is not None:
        sample_weight = as_inputs(
            arrays[ids.sample_weight], f"{prefix}sample_weight", torch.float32, device
        ).reshape(-1)
    return Data(x, y, sample_weight)


def _feed(array: np.ndarray, convert: Callable[..., Tensor], device: torch.device) -> Tensor:
    """`array` as the model reads it (`convert`: `as_inputs` or `as_targets` with the
    names bound): on the device whole, or, for a memory-mapped file, checked now in pieces
    and gathered batch by batch from the file (`MappedArray` answers what `Data` asks of
    a tensor)."""
    if not is_mapped(array):
        return convert(array, device=device)
    scan(array, lambda rows, first: convert(rows, device=_CPU, offset=first))
    mapped = MappedArray(array, lambda rows, _: convert(rows, device=_CPU, check=False), device)
    return cast(Tensor, mapped)


def _split(data: Data, at: int) -> tuple[Data, Data]:
    """`validation_split`: the first `at` samples and the rest; mapped arrays stay mapped."""
    if not any(isinstance(t, MappedArray) for t in (*data.x, *data.y, data.sample_weight)):
        return data.slice(0, at), data.slice(at, data.samples)

    def part(t: Tensor | None, start: int, stop: int) -> Tensor | None:
        if isinstance(t, MappedArray):
            return cast(Tensor, t.rows(start, stop))
        return None if t is None else t[start:stop]

    def side(start: int, stop: int) -> Data:
        return Data(
            [cast(Tensor, part(t, start, stop)) for t in data.x],
            [part(t, start, stop) for t in data.y],
            part(data.sample_weight, start, stop),
        )

    return side(0, at), side(at, data.samples)


def _window_data(
    plan: Plan,
    ids: DataIds,
    arrays: Mapping[str, np.ndarray],
    model: Model,
    device: torch.device,
    prefix: str,
) -> Data:
    """Windows over a series, in the first epoch's order: the series (the steps between
    start_index and end_index) goes to the device once, and each window's target is
    gathered now (one per window); the windows are gathered batch by batch."""
    source = ids.windows
    assert source is not None
    series = arrays[source.data]
    targets = None if source.targets is None else arrays[source.targets]
    first = starts(source, len(series), None if targets is None else len(targets))
    start, end = source.bounds(len(series))
    steps = as_inputs(series[start:end], f"{prefix}data", model.input_dtypes[0], device)
    windows = Windows(
        steps,
        torch.from_numpy(first - start).to(device),
        source.sequence_length,
        source.sampling_rate,
    )
    y: list[Tensor | None] = [None] * len(plan.output_names)
    if targets is not None:
        loss = plan.heads[0].loss if plan.heads else None
        picked = targets[first + source.targets_offset]
        y[0] = as_targets(picked, f"{prefix}targets", loss, plan.output_shapes[0], device)
    return Data([cast(Tensor, windows)], y)  # Windows answers what Data asks of a tensor


@dataclass
class TrainResult:
    model: Model
    history: History
    plan: Plan
    trainer: Trainer | None = None  # None when nothing was trained (epochs 0)


def dump_state(state: dict[str, Any]) -> bytes:
    """A `Trainer.capture()` state as bytes: tensors and plain values only."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def load_state(data: bytes) -> dict[str, Any]:
    """The inverse of `dump_state`; `weights_only` loads no code, whatever the bytes hold."""
    state: dict[str, Any] = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    return state


class DatasetArrays(Mapping[str, np.ndarray]):
    """A job's datasets by id, each loaded (by `load`) when first read; their shapes
    are known beforehand (`shapes`, from the datasets' metadata). A job with each
    epoch's own data `forget`s an epoch's arrays when the next comes, so the host
    holds one epoch's at a time, not the whole fit's."""

    def __init__(
        self, load: Callable[[str], np.ndarray], shapes: Mapping[str, tuple[int, ...]]
    ) -> None:
        self._load, self.shapes = load, dict(shapes)
        self._loaded: dict[str, np.ndarray] = {}

    def __getitem__(self, dataset_id: str) -> np.ndarray:
        if dataset_id not in self.shapes:
            raise KeyError(dataset_id)
        if dataset_id not in self._loaded:
            self._loaded[dataset_id] = self._load(dataset_id)
        return self._loaded[dataset_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.shapes)

    def __len__(self) -> int:
        return len(self.shapes)

    def forget(self, dataset_ids: Iterable[str]) -> None:
        for dataset_id in dataset_ids:
            self._loaded.pop(dataset_id, None)


def array_shapes(arrays: Mapping[str, np.ndarray]) -> dict[str, tuple[int, ...]]:
    """Each array's shape, without loading a DatasetArrays' arrays."""
    if isinstance(arrays, DatasetArrays):
        return arrays.shapes
    return {k: tuple(v.shape) for k, v in arrays.items()}


InitialWeights = tuple[Literal["state", "keras"], Mapping[str, Tensor]]
"""Weights to start from: a job's state_dict (`"state"`) or Keras's weights by Keras's
names and in Keras's layouts (`"keras"`: what `set_weights` and `load_model` give)."""


# `fit.mixed_precision` as the dtype a GPU computes in (Keras's mixed policies).
AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16}


def train_job(
    spec: JobSpec,
    arrays: Mapping[str, np.ndarray],
    *,
    callbacks: Sequence[Callback] = (),
    device: torch.device | str = "cpu",
    initial_weights: InitialWeights | None = None,
    resume: dict[str, Any] | None = None,
    replicas: Replicas | None = None,
) -> TrainResult:
    """Compile and fit `spec` on `arrays` (`{dataset id: array}`), from the start or from
    a checkpoint (`resume`, a `Trainer.capture()` state). `initial_weights` replace the
    newly initialised weights. A spec with `epochs: 0` trains nothing: the result is the
    model with its first weights. With `replicas`, this process is one of several that
    train the job together (`replicas.Replicas`); callbacks run on rank 0 only."""
    device = torch.device(device)
    plan = plan_job(spec, array_shapes(arrays))
    seed = spec.fit.seed if spec.fit.seed is not None else int(torch.seed())
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)

    # Initialised on the CPU, then moved: the same seed gives the same start on any device.
    model = build_model(spec.model, plan.input_shapes)
    if initial_weights is not None:
        _load_initial(model, plan, spec, *initial_weights)
        del initial_weights  # copied: the worker's only reference, freed for the run
    model = model.to(device)
    if spec.fit.epochs == 0 or spec.compile is None:
        return TrainResult(model=model, history=History(), plan=plan)

    fit = spec.fit
    batch_size, shuffle, validation_batch_size = fit.batch_size, fit.shuffle, None
    validation = None
    if plan.validation is not None:
        validation = to_data(plan, plan.validation, arrays, model, device, prefix="validation ")
        validation_batch_size = (
            plan.validation.windows.batch_size
            if plan.validation.windows is not None
            else fit.validation_batch_size
        )
    epoch_data: Data | Callable[[int], Data]
    source = plan.data[0].windows
    if source is not None:
        # Keras's fit takes a dataset's batches in the dataset's order: its own
        # batch_size and shuffle, not fit's.
        windows = _with_class_weights(
            spec, plan, to_data(plan, plan.data[0], arrays, model, device)
        )
        batch_size, shuffle = source.batch_size, False
        epoch_data = partial(epoch_order, source, data=windows)
    elif len(plan.data) == 1:
        data = _with_class_weights(spec, plan, to_data(plan, plan.data[0], arrays, model, device))
        if fit.validation_split:
            split_at = split_point(data.samples, fit.validation_split)
            data, validation = _split(data, split_at)
        epoch_data = data
    else:
        epoch_data = _EpochData(spec, plan, arrays, model, device)

    optimizer = build_optimizer(spec.compile.optimizer, model.parameters())
    precision = spec.fit.mixed_precision
    trainer = Trainer(
        model,
        plan.heads,
        optimizer,
        autocast=AUTOCAST[precision] if precision and device.type == "cuda" else None,
        loss_scale=precision == "fp16",
        jit_compile=spec.compile.jit_compile is True,
        steps_per_execution=spec.compile.steps_per_execution,
        replicas=replicas,
    )
    hooks = [*callback_module.from_specs(fit.callbacks), *callbacks]
    if replicas is not None and not replicas.first:
        hooks = []  # Keras runs callbacks once, not once per replica
    history = trainer.fit(
        epoch_data,
        batch_size=batch_size,
        epochs=fit.epochs,
        initial_epoch=fit.initial_epoch,
        shuffle=shuffle,
        steps_per_epoch=fit.steps_per_epoch,
        validation=validation,
        validation_steps=fit.validation_steps,
        validation_batch_size=validation_batch_size,
        validation_freq=fit.validation_freq,
        callbacks=hooks,
        generator=generator,
        resume=resume,
    )
    return TrainResult(model=trainer.model, history=history, plan=plan, trainer=trainer)


def _load_initial(
    model: Model, plan: Plan, spec: JobSpec, kind: str, weights: Mapping[str, Tensor]
) -> None:
    shapes = {k: tuple(v.shape) for k, v in weights.items()}
    if kind == "keras":
        check_keras_weights(plan, shapes)
        # Layers left out keep the weights they were just initialised with.
        model.load_keras_weights({**model.keras_weights(), **weights})
    else:
        check_initial_weights(plan, str(spec.fit.initial_weights), shapes)
        model.load_state_dict(weights)


def _with_class_weights(spec: JobSpec, plan: Plan, data: Data) -> Data:
    """Training data (one epoch's, or every epoch's) with fit's `class_weight` applied as
    its sample weights."""
    if spec.fit.class_weight:
        labels = data.y[0]
        assert labels is not None
        if isinstance(labels, MappedArray):  # the labels' classes are needed all at once
            labels = labels.whole()
        data.sample_weight = class_weights(labels, spec.fit.class_weight, plan.output_shapes[0])
    return data


class _EpochData:
    """Each epoch's own data, moved to the device when its epoch starts: one epoch's
    tensors at a time, and with `DatasetArrays` one epoch's arrays on the host."""

    def __init__(
        self,
        spec: JobSpec,
        plan: Plan,
        arrays: Mapping[str, np.ndarray],
        model: Model,
        device: torch.device,
    ) -> None:
        self.spec, self.plan, self.arrays, self.model, self.device = (
            spec,
            plan,
            arrays,
            model,
            device,
        )
        self._current: tuple[int, Data] | None = None

    def __call__(self, index: int) -> Data:
        if self._current is None or self._current[0] != index:
            if self._current is not None and isinstance(self.arrays, DatasetArrays):
                keep = set(self.plan.data[index].ids())
                keep |= set(self.plan.validation.ids()) if self.plan.validation else set()
                self.arrays.forget(set(self.plan.data[self._current[0]].ids()) - keep)
            self._current = None  # the previous epoch's tensors go first
            prefix = f"epoch {self.spec.fit.initial_epoch + index + 1}: "
            ids = self.plan.data[index]
            data = to_data(self.plan, ids, self.arrays, self.model, self.device, prefix)
            data = _with_class_weights(self.spec, self.plan, data)
            self._current = (index, data)
        return self._current[1]
