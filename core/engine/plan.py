"""Keras's `compile`, checked: a JobSpec against the shapes of its datasets, without
touching their contents.

`plan_job` is what the API calls before queueing and what `train_job` calls again before
training, so a spec that passes the first check passes the second. Its `Plan` holds
what training needs: the model's input and output shapes, each output's loss and
metrics (`Head`), the history's keys, and which dataset feeds what.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from cornu.core.engine import losses, metrics
from cornu.core.engine.build import UNKNOWN_SIZES, build_model, check_known_weights, fits_keras
from cornu.core.engine.layers.base import format_shape
from cornu.core.engine.model import LayerInfo, Model
from cornu.core.engine.trainer import Head, metric_keys
from cornu.core.engine.windows import expand, windows_id
from cornu.core.errors import ErrorItem, SpecError
from cornu.core.spec import DataRef, FunctionalSpec, JobSpec, TimeseriesSource
from cornu.core.spec.losses import LossSpec
from cornu.core.spec.model import SequentialSpec

Shape = tuple[int, ...]
Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class DataIds:
    """Dataset ids in model order: one per input, one (or None) per output."""

    x: list[str]
    y: list[str | None]
    sample_weight: str | None
    windows: TimeseriesSource | None = None  # x and y are windows over this series

    def ids(self) -> set[str]:
        """The uploaded datasets these data read."""
        if self.windows is not None:
            return self.windows.ids()
        return {*self.x, *(y for y in self.y if y is not None)} | (
            {self.sample_weight} if self.sample_weight else set()
        )


@dataclass(frozen=True)
class Plan:
    """What a valid job will train: names and shapes, parameters, losses and metrics."""

    input_names: list[str]
    input_shapes: list[Shape]
    output_names: list[str]
    output_shapes: list[Shape]
    layers: list[LayerInfo]
    params: int
    trainable_params: int
    heads: list[Head]
    data: list[DataIds]  # each epoch's, or one for all; none for a job that trains nothing
    validation: DataIds | None
    history_keys: list[str]
    layer_names: list[str]
    state_shapes: dict[str, Shape]  # the model's state_dict: what initial_weights must match
    keras_shapes: dict[str, Shape]  # its weights in Keras's names and layouts


def per_output(
    value: Any, names: list[str], what: str, loc: Loc, kind: str = "output"
) -> list[Any]:
    """Keras's forms for per-output (per-`kind`) settings: one for all, a list in order, or
    a map."""
    if isinstance(value, list) and not (what.endswith("metrics") and not _nested(value)):
        if len(value) != len(names):
            raise SpecError(
                f"{what} has {len(value)} entries but the model has {len(names)} {kind}s "
                f"({', '.join(names)})",
                loc,
            )
        return list(value)
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise SpecError(
                f"{what} names {', '.join(map(repr, unknown))}, which is not an {kind} of the "
                f"model ({kind}s: {', '.join(names)})",
                loc,
            )
        return [value.get(name) for name in names]
    return [value] * len(names)


def _nested(value: list[Any]) -> bool:
    return any(isinstance(v, list | dict) or v is None for v in value)


def _dataset_ids(
    value: Any, names: list[str], what: str, loc: Loc, required: bool
) -> list[str | None]:
    """`x`/`y` as one dataset id (one input/output) or a map from names to ids."""
    if isinstance(value, dict) and len(value) == 1 and len(names) == 1:
        value = next(iter(value.values()))  # one input: its name does not matter
    if isinstance(value, str):
        if len(names) != 1:
            raise SpecError(
                f"the model has {len(names)} {what}s ({', '.join(names)}); give a map from "
                f"each name to a dataset id",
                loc,
            )
        return [value]
    ids = per_output(value, names, f"{what} data", loc, kind=what)
    missing = [n for n, i in zip(names, ids, strict=True) if i is None]
    if required and missing:
        raise SpecError(f"no dataset for {what} {', '.join(map(repr, missing))}", loc)
    return ids


def _unknown(where: Loc, ref: DataRef, shapes: Mapping[str, Shape]) -> list[ErrorItem]:
    """The datasets `ref` names that do not exist (not uploaded, or not the tenant's)."""
    fields = (("x", ref.x), ("y", ref.y), ("sample_weight", ref.sample_weight))
    return [
        ErrorItem((*where, field), f"no dataset {d!r}; upload it first (POST /v1/datasets)")
        for field, value in fields
        for d in (value.values() if isinstance(value, dict) else [value])
        if isinstance(d, str) and d not in shapes
    ]


def _check_data(
    where: Loc,
    ref: DataRef | TimeseriesSource,
    shapes: Mapping[str, Shape],
    plan_inputs: tuple[list[str], Sequence[Sequence[int | None]] | None],
    output_names: list[str],
) -> DataIds:
    """One `(x, y[, sample_weight])` set: known datasets with matching sample counts."""
    if isinstance(ref, TimeseriesSource):
        if len(plan_inputs[0]) != 1:
            raise SpecError(
                f"windows over a series feed one input, but the model has {len(plan_inputs[0])}",
                where,
            )
        planned, _ = expand(ref, _key(where), shapes, where)
        return replace(_check_data(where, planned, shapes, plan_inputs, output_names), windows=ref)
    names, input_shapes = plan_inputs
    x_ids = [i for i in _dataset_ids(ref.x, names, "input", (*where, "x"), True) if i]
    y_ids = _dataset_ids(ref.y, output_names, "output", (*where, "y"), False)
    if len({shapes[d][0] for d in x_ids}) > 1:
        detail = ", ".join(f"{n}: {shapes[d][0]}" for n, d in zip(names, x_ids, strict=True))
        raise SpecError(f"every input must hold as many samples; they hold {detail}", (*where, "x"))
    given = [
        *((f"x[{n!r}]" if len(x_ids) > 1 else "x", d) for n, d in zip(names, x_ids, strict=True)),
        *((f"y[{n!r}]" if len(y_ids) > 1 else "y", d)
          for n, d in zip(output_names, y_ids, strict=True) if d),
    ]  # fmt: skip
    if len({shapes[d][0] for _, d in given}) > 1:
        detail = ", ".join(f"{label}: {shapes[d][0]} (dataset {d})" for label, d in given)
        raise SpecError(f"x and y must hold as many samples; they hold {detail}", (*where, "y"))
    if input_shapes is not None:
        for name, dataset, expected in zip(names, x_ids, input_shapes, strict=True):
            if not fits_keras(shapes[dataset][1:], expected):
                label, target = (
                    ("x", "input shape")
                    if len(names) == 1
                    else (f"x[{name!r}]", f"input {name!r} has shape")
                )
                raise SpecError(
                    f"{label} holds samples of shape {format_shape(shapes[dataset][1:])} but "
                    f"the model's {target} {'is ' if len(names) == 1 else ''}"
                    f"{format_shape(expected)}",
                    (*where, "x"),
                )
    if ref.sample_weight is not None:
        weights = shapes[ref.sample_weight]
        if weights[1:] not in ((), (1,)) or weights[0] != shapes[x_ids[0]][0]:
            raise SpecError(
                f"sample_weight must hold one weight per sample (shape ({shapes[x_ids[0]][0]},)); "
                f"it has shape {format_shape(weights)}",
                (*where, "sample_weight"),
            )
    return DataIds(x_ids, y_ids, ref.sample_weight)


def stateful_layers(model: SequentialSpec | FunctionalSpec) -> list[str]:
    """`'name' (Type)` of each layer with `stateful=True` (a Bidirectional's inner ones
    count as the wrapper's)."""
    found = []
    for name, layer in model.named_layers():
        inner = [layer, *(getattr(layer, key, None) for key in ("layer", "backward_layer"))]
        if any(getattr(i, "stateful", False) for i in inner):
            found.append(f"{name!r} ({layer.type})")
    return found


def check_stateful_batches(
    model: SequentialSpec | FunctionalSpec,
    batch_size: int,
    samples: Sequence[tuple[str, int]],
    loc: Loc,
) -> None:
    """What Keras needs to run a model with stateful recurrent layers, checked before
    it runs: a fixed batch size in the model (Keras refuses to build it otherwise),
    batches of that size, and sample counts that are multiples of it — a shorter last
    batch stops Keras mid-epoch ("the batch size of the input sequences must be the same
    as the batch size of the initial state"). `samples` is (what, count) per data set."""
    layers = stateful_layers(model)
    if not layers:
        return
    which = f"layer {layers[0]} has" if len(layers) == 1 else f"layers {', '.join(layers)} have"
    fixed = model.batch_sizes
    if None in fixed or len(fixed) != 1:
        raise SpecError(
            f"{which} stateful=True, which needs the model's fixed batch size (Keras carries "
            "each sample's states to the same row of the next batch): give the model's "
            "Input a batch_size (or batch_shape [n, …]); Keras refuses to build it without",
            ("model",),
        )
    (model_batch,) = fixed
    assert model_batch is not None
    if batch_size != model_batch:
        raise SpecError(
            f"{which} stateful=True with the model's batch size {model_batch}, but batches "
            f"hold {batch_size} samples; use batch_size={model_batch}",
            loc,
        )
    for what, count in samples:
        if count % model_batch:
            raise SpecError(
                f"{which} stateful=True with batch size {model_batch}, but {what} holds "
                f"{count} samples: the last batch would hold {count % model_batch}, which "
                f"Keras cannot run; give a multiple of {model_batch} samples "
                f"(e.g. {count - count % model_batch})",
                loc,
            )


def _check_stateful_fit(
    spec: JobSpec, data: list[DataIds], validation: DataIds | None, shapes: Mapping[str, Shape]
) -> None:
    """The stateful checks for fit's training and validation batches (windows over a
    series come in the source's own batches, which replace fit's)."""
    fit = spec.fit
    source = data[0].windows if data else None
    if source is not None:
        counts = [("data", shapes[data[0].x[0]][0])]
        check_stateful_batches(spec.model, source.batch_size, counts, ("data", "batch_size"))
    elif data:
        counts = []
        for i, ids in enumerate(data):
            samples = shapes[ids.x[0]][0]
            what = "x" if len(data) == 1 else f"data[{i}].x"
            if fit.validation_split:
                split_at = split_point(samples, fit.validation_split)
                counts += [
                    (f"the training part of {what} (validation_split)", split_at),
                    (f"the validation part of {what} (validation_split)", samples - split_at),
                ]
            else:
                counts.append((what, samples))
        check_stateful_batches(spec.model, fit.batch_size, counts, ("fit", "batch_size"))
    if validation is not None:
        loc: Loc = ("fit", "validation_batch_size")
        size = fit.validation_batch_size or fit.batch_size
        if validation.windows is not None:
            size, loc = validation.windows.batch_size, ("fit", "validation_data", "batch_size")
        count = shapes[validation.x[0]][0]
        check_stateful_batches(spec.model, size, [("validation_data", count)], loc)


def plan_job(spec: JobSpec, shapes: Mapping[str, Shape]) -> Plan:
    """Check `spec` against dataset shapes (`{id: (samples, *sample_shape)}`).

    Raises SpecError for unknown names, layers that cannot take their input, and data
    whose shapes do not fit the model's inputs or outputs.
    """
    shapes = with_windows(spec, shapes)
    many = isinstance(spec.data, list)
    refs: list[tuple[Loc, DataRef | TimeseriesSource]] = [
        (("data", i) if many else ("data",), ref) for i, ref in enumerate(spec.epoch_data)
    ]
    if spec.fit.validation_data is not None:
        refs.append((("fit", "validation_data"), spec.fit.validation_data))
    # Before building: a Sequential without input_shape takes its input from these data.
    unknown = [e for w, ref in refs if isinstance(ref, DataRef) for e in _unknown(w, ref, shapes)]
    if unknown:
        raise SpecError(unknown)
    model = _build_for(spec, shapes)
    names, given = model.input_names, model.declared_shapes
    data = [
        _check_data(
            ("data", i) if many else ("data",), ref, shapes, (names, given), model.output_names
        )
        for i, ref in enumerate(spec.epoch_data)
    ]
    validation = None
    if spec.fit.validation_data is not None:
        validation = _check_data(
            ("fit", "validation_data"),
            spec.fit.validation_data,
            shapes,
            (names, given),
            model.output_names,
        )
    for ids in data if spec.fit.validation_split else []:
        samples = shapes[ids.x[0]][0]
        split_at = split_point(samples, spec.fit.validation_split)
        if split_at in (0, samples):
            raise SpecError(
                f"x holds {samples} samples, too few to split into training and validation sets "
                f"with validation_split={spec.fit.validation_split}",
                ("fit", "validation_split"),
            )
    _check_fit(spec, validation is not None or spec.fit.validation_split > 0)
    _check_stateful_fit(spec, data, validation, shapes)
    _check_same_targets(data, validation, shapes, many)
    heads = _heads(spec, model, data[0], shapes) if data and spec.compile else []
    if spec.fit.class_weight is not None:
        _check_class_weight(spec, heads, data)
    has_validation = validation is not None or spec.fit.validation_split > 0
    keys = _history_keys(heads, has_validation, spec)
    _check_callbacks(spec, keys)
    total, trainable = model.count_params()
    return Plan(
        input_names=names,
        input_shapes=list(model.input_shapes),
        output_names=model.output_names,
        output_shapes=model.output_shapes,
        layers=model.summary(),
        params=total,
        trainable_params=trainable,
        heads=heads,
        data=data,
        validation=validation,
        history_keys=keys,
        layer_names=model.names,
        state_shapes={k: tuple(v.shape) for k, v in model.state_dict().items()},
        keras_shapes={k: tuple(v.shape) for k, v in model.keras_weights().items()},
    )


def _check_same_targets(
    data: list[DataIds], validation: DataIds | None, shapes: Mapping[str, Shape], many: bool
) -> None:
    """Every epoch's targets (and validation's) shaped as the first epoch's, which the
    losses and metrics are checked and chosen for."""
    if not data:
        return
    first = [None if y is None else shapes[y][1:] for y in data[0].y]
    others: list[tuple[Loc, DataIds]] = []
    for i, ids in enumerate(data[1:], 1):
        others.append((("data", i) if many else ("data",), ids))
    if validation is not None:
        others.append((("fit", "validation_data"), validation))
    for where, ids in others:
        theirs = [None if y is None else shapes[y][1:] for y in ids.y]
        if theirs != first:
            shown = ", ".join("none" if t is None else format_shape(t) for t in theirs)
            expected = ", ".join("none" if t is None else format_shape(t) for t in first)
            raise SpecError(
                f"y holds targets of shape {shown} per sample; the first epoch's are "
                f"{expected}, and every epoch's must be alike",
                (*where, "y"),
            )


def _check_fit(spec: JobSpec, has_validation: bool) -> None:
    """fit arguments that only mean something together."""
    fit = spec.fit
    if fit.validation_steps is not None and not has_validation:
        raise SpecError(
            "validation_steps needs validation data (validation_data or validation_split)",
            ("fit", "validation_steps"),
        )
    if isinstance(spec.data, list) and fit.validation_split:
        raise SpecError(
            "validation_split takes the last part of one set of arrays; with data for each "
            "epoch, give validation_data",
            ("fit", "validation_split"),
        )


def with_windows(spec: JobSpec, shapes: Mapping[str, Shape]) -> dict[str, Shape]:
    """`shapes` and those of the windows and targets of each `TimeseriesSource` (planned
    as datasets named after where the source sits: `data:windows`, …)."""
    found = dict(shapes)
    many = isinstance(spec.data, list)
    sources: list[tuple[Loc, DataRef | TimeseriesSource]] = [
        (("data", i) if many else ("data",), ref) for i, ref in enumerate(spec.epoch_data)
    ]
    if spec.fit.validation_data is not None:
        sources.append((("fit", "validation_data"), spec.fit.validation_data))
    for where, ref in sources:
        found |= expand(ref, _key(where), shapes, where)[1]
    return found


def _key(where: Loc) -> str:
    return ".".join(map(str, where))


def data_input_shapes(spec: JobSpec, shapes: Mapping[str, Shape]) -> list[Shape | None]:
    """Each model input's sample shape in the (first epoch's) training data, where known."""
    first = spec.epoch_data[0] if spec.epoch_data else None
    if isinstance(first, TimeseriesSource):
        x: str | dict[str, str] | None = windows_id("data")
        shapes = with_windows(spec, shapes) if x not in shapes else shapes
    else:
        x = first.x if first is not None else None
    if x is None:
        return []
    if isinstance(x, str):
        return [shapes[x][1:] if x in shapes else None]
    names = (
        [i.name for i in spec.model.inputs] if isinstance(spec.model, FunctionalSpec) else list(x)
    )
    return [shapes[x[n]][1:] if x.get(n) in shapes else None for n in names]


def _build_for(spec: JobSpec, shapes: Mapping[str, Shape]) -> Model:
    """The model on the meta device, with the data's shapes for what the spec leaves open
    (a Sequential's input, dimensions of unknown size). Its weights must not depend on
    a dimension of unknown size, as in Keras: built with two sizes for each, they match."""
    model = build_model(spec.model, data_input_shapes(spec, shapes), device="meta")
    declared = [d for shape in model.declared_shapes for d in shape]
    if None in declared:
        check_known_weights(
            *(
                build_model(spec.model, model.declared_shapes, device="meta", unknown=size)
                for size in UNKNOWN_SIZES
            )
        )
    return model


def _heads(spec: JobSpec, model: Model, data: DataIds, shapes: Mapping[str, Shape]) -> list[Head]:
    names = model.output_names
    compile_ = spec.compile
    assert compile_ is not None, "a job with data has a compile (JobSpec checks it)"
    loss_specs = per_output(compile_.loss, names, "loss", ("compile", "loss"))
    weights = per_output(compile_.loss_weights, names, "loss_weights", ("compile", "loss_weights"))
    metric_specs = per_output(compile_.metrics, names, "metrics", ("compile", "metrics"))
    weighted_specs = per_output(
        compile_.weighted_metrics, names, "weighted_metrics", ("compile", "weighted_metrics")
    )
    heads = []
    for j, name in enumerate(names):
        loc: Loc = ("compile", "loss") if len(names) == 1 else ("compile", "loss", name)
        loss = _loss(loss_specs[j], loc)
        y_id = data.y[j]
        if loss is not None and y_id is None:
            raise SpecError(f"output {name!r} has a loss but no targets in data.y", ("data", "y"))
        y_shape = shapes[y_id][1:] if y_id is not None else ()
        if loss is not None:
            problem = loss.check_targets(y_shape, model.output_shapes[j])
            if problem:
                where: Loc = ("data", "y") if len(names) == 1 else ("data", "y", name)
                raise SpecError(
                    problem if len(names) == 1 else f"output {name!r}: {problem}", where
                )
        heads.append(
            Head(
                name=name,
                loss=loss,
                weight=1.0 if weights[j] is None else float(weights[j]),
                metrics=_metrics(
                    metric_specs[j], y_shape, model.output_shapes[j], ("compile", "metrics")
                ),
                weighted_metrics=_metrics(
                    weighted_specs[j],
                    y_shape,
                    model.output_shapes[j],
                    ("compile", "weighted_metrics"),
                ),
            )
        )
    if all(h.loss is None for h in heads):
        raise SpecError("compile.loss gives no loss for any output", ("compile", "loss"))
    return heads


def _loss(spec: str | LossSpec | None, loc: Loc) -> losses.Loss | None:
    if spec is None:
        return None
    try:
        return losses.get(spec)
    except SpecError as exc:
        raise SpecError(exc.errors[0].msg, loc) from None


def _metrics(specs: Any, y_shape: Shape, output_shape: Shape, loc: Loc) -> list[metrics.Metric]:
    if specs is None:
        return []
    found = []
    for index, item in enumerate(specs if isinstance(specs, list) else [specs]):
        try:
            found.append(metrics.get(item, y_shape, output_shape))
        except SpecError as exc:
            raise SpecError(exc.errors[0].msg, (*loc, index)) from None
    return found


def _history_keys(heads: list[Head], validation: bool, spec: JobSpec) -> list[str]:
    """What `History.history` will hold, in Keras 3's order (sorted, then `val_…`)."""
    multi = len(heads) > 1
    keys = ["loss"]
    keys += [f"{h.name}_loss" for h in heads if multi and h.loss is not None]
    names, plain = [h.name for h in heads], [h.metrics for h in heads]
    keys += metric_keys(names, plain, [h.weighted_metrics for h in heads], multi)
    keys = sorted(set(keys))  # a metric named like another's `_1` shares its key, as in Keras
    if validation:
        keys += [f"val_{k}" for k in keys]
    if any(c.type in ("ReduceLROnPlateau", "LearningRateScheduler") for c in spec.fit.callbacks):
        keys.append("learning_rate")
    return keys


def _check_callbacks(spec: JobSpec, keys: list[str]) -> None:
    for index, callback in enumerate(spec.fit.callbacks):
        monitor = getattr(callback, "monitor", None)
        if monitor is not None and monitor not in keys:
            hint = (
                " (add validation_split or validation_data)" if monitor.startswith("val_") else ""
            )
            raise SpecError(
                f"{callback.type} monitors {monitor!r}, which this job does not report; it "
                f"reports {', '.join(keys)}{hint}",
                ("fit", "callbacks", index, "monitor"),
            )
        scheduled = spec.compile is not None and spec.compile.optimizer.has_schedule
        if callback.type in ("ReduceLROnPlateau", "LearningRateScheduler") and scheduled:
            raise SpecError(
                f"{callback.type} cannot change a learning rate that follows a schedule; "
                "use a fixed learning_rate or drop the callback",
                ("fit", "callbacks", index),
            )
        table = getattr(callback, "schedule", None)
        if table is not None and len(table) < spec.fit.epochs:
            raise SpecError(
                f"LearningRateScheduler's schedule gives {len(table)} learning rates but fit "
                f"runs to epoch {spec.fit.epochs}; give one per epoch (index 0 first)",
                ("fit", "callbacks", index, "schedule"),
            )


def _check_class_weight(spec: JobSpec, heads: list[Head], data: list[DataIds]) -> None:
    if len(heads) > 1:
        raise SpecError("class_weight needs a model with one output", ("fit", "class_weight"))
    if any(ids.sample_weight is not None for ids in data):
        raise SpecError(
            "give class_weight or sample_weight, not both (Keras refuses them together)",
            ("fit", "class_weight"),
        )


def split_point(samples: int, validation_split: float) -> int:
    """Keras takes the *last* `validation_split` of the samples, before any shuffling."""
    return int(math.floor(samples * (1.0 - validation_split)))
