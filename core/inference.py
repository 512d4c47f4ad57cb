"""Using a trained job's model: `evaluate` and `predict`, as Keras's methods.

The model is rebuilt from the job's spec and its stored state, on the CPU of the
worker that runs the call (`core.calls`; never the API's). Sizes are bounded: datasets
by the upload limit, inline inputs by `max_predict_samples`, answers by
`max_predict_values`.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import safetensors.torch
import torch

from cornu.core.config import Settings
from cornu.core.engine import build_model, plan_job
from cornu.core.engine.fit import load_state, to_data
from cornu.core.engine.layers.base import format_shape
from cornu.core.engine.model import Model, weights_file
from cornu.core.engine.plan import Plan, Shape, data_input_shapes, with_windows
from cornu.core.engine.trainer import Data, Trainer
from cornu.core.errors import ErrorItem, NotFound, PayloadTooLarge, SpecError
from cornu.core.ids import new_id
from cornu.core.spec import (
    DataRef,
    EvaluateRequest,
    FunctionalSpec,
    JobSpec,
    PredictRequest,
    SequentialSpec,
    TimeseriesSource,
)
from cornu.core.store import Store, keys
from cornu.core.store.blobs import CHUNK_BYTES

CPU = torch.device("cpu")


def evaluate_job(
    store: Store, tenant: str, job_id: str, request: EvaluateRequest
) -> dict[str, float]:
    """`model.evaluate(x, y)` of a succeeded job on the tenant's datasets."""
    spec, state = _state(store, tenant, job_id, request.checkpoint)
    if request.compile is not None:
        spec = spec.model_copy(update={"compile": request.compile})
    if spec.compile is None:
        raise SpecError(
            f"job {job_id} holds a model that was never compiled: evaluate needs its loss "
            "and metrics (compile the model, as Keras requires before evaluate)"
        )
    on = _on_datasets(store, tenant, spec, state, _evaluated(request), request.batch_size)
    return Trainer(on.model, on.plan.heads).evaluate(on.data(store), batch_size=on.batch_size)


def _evaluated(request: EvaluateRequest) -> DataRef | TimeseriesSource:
    """What evaluate runs on: the datasets named, or windows with their own targets."""
    if not isinstance(request.x, TimeseriesSource):
        if request.y is None:
            raise SpecError("evaluate needs targets: give y (dataset ids)", ("y",))
        return DataRef(x=request.x, y=request.y, sample_weight=request.sample_weight)
    given = [name for name in ("y", "sample_weight") if getattr(request, name) is not None]
    if given:
        raise SpecError(
            f"windows over a series bring their own targets; leave out {' and '.join(given)}",
            (given[0],),
        )
    if request.x.targets is None:
        raise SpecError(
            "evaluate needs targets: these windows have none (give the source's targets)",
            ("x", "targets"),
        )
    return request.x


class OnData(NamedTuple):
    """A trained model planned on other data, as fit plans its own."""

    plan: Plan
    model: Model
    samples: int  # in the data (windows over a series: their count)
    batch_size: int  # the request's, or a series source's own (Keras takes a dataset's batches)
    arrays: Mapping[str, np.ndarray]  # given inline; datasets are loaded by `data`

    def data(self, store: Store) -> Data:
        """The data on the CPU, checked as fit checks its own (finite, integer ids)."""
        ids = self.plan.data[0]
        arrays = {**{d: store.datasets.load(d) for d in ids.ids() - set(self.arrays)},
                  **self.arrays}  # fmt: skip
        return to_data(self.plan, ids, arrays, self.model, CPU)


def _on_datasets(
    store: Store,
    tenant: str,
    spec: JobSpec,
    state: dict[str, torch.Tensor],
    ref: DataRef | TimeseriesSource,
    batch_size: int,
    inline: Mapping[str, np.ndarray] | None = None,
) -> OnData:
    """The one path by which evaluate and predict take data: `spec`'s model with its
    trained `state`, planned on `ref` (datasets, windows over a series, or arrays given
    `inline` under the ids `ref` names) by the planner fit uses, so a mismatch is the same
    SpecError as at submit; its locations are the request's (`x`, `y`, `sample_weight`;
    `inputs` for inline arrays). The model is built for the data's sizes where None allows
    them, and the data must make the weights it was trained with (Keras: a layer's input
    spec).

    Raises SpecError; DataError for a dataset deleted since it was planned."""
    inline = inline or {}
    first = spec.epoch_data[0] if spec.epoch_data else None  # what it was trained on
    stored = (ref.ids() - set(inline)) | (first.ids() if first is not None else set())
    shapes = {
        **store.datasets.shapes(tenant, sorted(stored)),  # one read for both
        **{d: tuple(a.shape) for d, a in inline.items()},
    }
    on = _on_data(_as_trained(spec, first, shapes), ref, batch_size)

    def located(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
        if loc[:1] == ("fit",):  # the batch size: the request's
            return loc[1:]
        if loc[:1] != ("data",):
            return loc
        if inline:
            return ("inputs",)
        if isinstance(ref, TimeseriesSource):  # the request's x is the source
            return ("x", *loc[1:]) if loc[1:2] != ("x",) else ("x", *loc[2:])
        return loc[1:]

    def said(msg: str) -> str:  # the planner names the data x; inline, they are inputs
        return "inputs" + msg[1:] if inline and msg[:2] in ("x ", "x[") else msg

    try:
        plan = plan_job(on, shapes)  # the batches' sizes for stateful layers too
        _check_trained_weights(plan, state)
    except SpecError as exc:
        raise SpecError([ErrorItem(located(e.loc), said(e.msg)) for e in exc.errors]) from None
    count = with_windows(on, shapes)[plan.data[0].x[0]][0]
    windows = plan.data[0].windows
    return OnData(plan, _reload(on, plan, state), count,
                  windows.batch_size if windows else batch_size, inline)  # fmt: skip


def _as_trained(
    spec: JobSpec, first: DataRef | TimeseriesSource | None, shapes: Mapping[str, Shape]
) -> JobSpec:
    """A Sequential without `input_shape` with the input its (`first`) training data gave
    it: Keras builds such a model on the first batch it sees, and later calls must fit
    that shape (up to Keras's trailing axis of 1). Unchanged when those datasets are gone
    from `shapes`; the weights' shapes still guard the model then
    (`_check_trained_weights`)."""
    model = spec.model
    if not isinstance(model, SequentialSpec) or model.input_shape is not None:
        return spec
    if first is None or not first.ids() <= shapes.keys():
        return spec
    (shape,) = data_input_shapes(_on_data(spec, first), shapes)  # not validation's windows
    if shape is None:
        return spec
    layers = [model.layers[0].model_copy(update={"input_shape": tuple(shape)}), *model.layers[1:]]
    return spec.model_copy(update={"model": model.model_copy(update={"layers": layers})})


def _check_trained_weights(plan: Plan, state: Mapping[str, torch.Tensor]) -> None:
    """The model built for these data has the trained weights' shapes: a dimension the
    weights depend on must stay as trained (Keras's input specs refuse other sizes). A
    guard for models whose input the planner could not pin (`_as_trained`)."""
    for name, shape in plan.state_shapes.items():
        trained_shape = tuple(state[name].shape) if name in state else None
        if trained_shape is not None and trained_shape != shape:
            given = ", ".join(format_shape(s) for s in plan.input_shapes)
            raise SpecError(
                f"x holds samples of shape {given}, which the trained model cannot take: "
                f"its weight {name} would have shape {format_shape(shape)}, but was trained "
                f"with shape {format_shape(trained_shape)}",
                ("data", "x"),
            )


class Trained(NamedTuple):
    spec: JobSpec
    plan: Plan
    model: Model


def _state(
    store: Store, tenant: str, job_id: str, checkpoint: bool = False
) -> tuple[JobSpec, dict[str, torch.Tensor]]:
    """A job's spec and the model's state: its trained one, or with `checkpoint` that of
    its newest checkpoint while it runs (its trained one once it has succeeded)."""
    if checkpoint:
        try:
            spec, data, _ = store.jobs.latest_checkpoint(tenant, job_id)
            return spec, load_state(data)["model"]
        except NotFound:
            pass
    spec, state = store.jobs.trained(tenant, job_id)
    return spec, safetensors.torch.load(state)


def trained(store: Store, tenant: str, job_id: str, checkpoint: bool = False) -> Trained:
    """A succeeded job's model with its trained weights (or, with `checkpoint`, a running
    job's at its newest checkpoint), in eval mode; NotFound when there are none. The
    training data tell a Sequential without `input_shape` its input, as they did."""
    return _trained(store, tenant, *_state(store, tenant, job_id, checkpoint))


def _trained(store: Store, tenant: str, spec: JobSpec, state: dict[str, torch.Tensor]) -> Trained:
    first = spec.epoch_data[0] if spec.epoch_data else None
    spec = _on_data(spec, first)
    plan = plan_job(spec, store.datasets.shapes(tenant, first.ids() if first else ()))
    return Trained(spec, plan, _reload(spec, plan, state))


def _on_data(
    spec: JobSpec, data: DataRef | TimeseriesSource | None, batch_size: int | None = None
) -> JobSpec:
    """The job's spec on other data (in batches of `batch_size`, or fit's), without what
    fit needs beyond it (validation, …)."""
    fit = spec.fit.model_copy(
        update={
            "batch_size": batch_size or spec.fit.batch_size,
            "validation_data": None,
            "validation_split": 0.0,
            "callbacks": [],
            "class_weight": None,
            "initial_weights": None,
            "validation_steps": None,
        }
    )
    return spec.model_copy(update={"data": data, "fit": fit})


def _reload(spec: JobSpec, plan: Plan, state: dict[str, torch.Tensor]) -> Model:
    model = build_model(spec.model, plan.input_shapes)
    model.load_state_dict(state)
    return model.eval()


def predict_job(
    store: Store, tenant: str, job_id: str, request: PredictRequest, settings: Settings
) -> dict[str, Any]:
    """`model.predict(x)` on a dataset, on windows over a series or on a small inline
    batch; one list per output."""
    if (request.x is None) == (request.inputs is None):
        raise SpecError(
            "give x (dataset ids or a timeseries source) or inputs (a small inline batch), "
            "not both or neither"
        )
    spec, state = _state(store, tenant, job_id, request.checkpoint)
    spec = spec.model_copy(update={"compile": None})  # no loss: targets only bound windows
    inline: dict[str, np.ndarray] = {}
    ref: DataRef | TimeseriesSource
    if isinstance(request.x, TimeseriesSource):
        ref = request.x
    elif request.x is not None:
        ref = _inputs_only(request.x)
    else:
        x, inline = _inline(request.inputs, _input_names(spec), settings)
        ref = _inputs_only(x)
    on = _on_datasets(store, tenant, spec, state, ref, request.batch_size, inline)
    _check_answer_size(on.model, on.samples, settings, request.answer)
    outputs = Trainer(on.model, on.plan.heads).predict(on.data(store).x, batch_size=on.batch_size)
    if request.answer == "npy":
        return _prediction_file(store, tenant, job_id, on.plan, outputs)
    return _predictions(on.plan, outputs)


def _check_answer_size(
    model: Model, samples: int, settings: Settings, answer: str = "json"
) -> None:
    values = samples * sum(math.prod(s) for s in model.output_shapes)
    if answer == "npy" and values * 4 > settings.max_predict_bytes:
        raise PayloadTooLarge(
            f"predicting {samples} samples gives {values * 4} bytes of float32; at most "
            f"{settings.max_predict_bytes} per request — predict fewer samples at a time"
        )
    if answer == "json" and values > settings.max_predict_values:
        raise PayloadTooLarge(
            f"predicting {samples} samples gives {values} numbers; at most "
            f'{settings.max_predict_values} per JSON answer — ask for `"answer": "npy"` '
            "(a file), or predict fewer samples at a time"
        )


def _prediction_file(
    store: Store, tenant: str, job_id: str, plan: Plan, outputs: Sequence[torch.Tensor]
) -> dict[str, Any]:
    """The predictions as a float32 `.npy` file (`.npz` by output name for several) in the
    blob store, and where to download it."""
    arrays = [out.detach().to(torch.float32).numpy() for out in outputs]
    buffer = io.BytesIO()
    if len(arrays) == 1:
        name = f"{new_id('pred')}.npy"
        np.save(buffer, arrays[0], allow_pickle=False)
    else:
        name = f"{new_id('pred')}.npz"
        named: dict[str, Any] = dict(zip(plan.output_names, arrays, strict=True))
        np.savez(buffer, **named)
    key = keys.prediction_object(tenant, job_id, name)
    store.blobs.begin(key)  # never recorded: the reaper deletes it in a few hours
    view = buffer.getbuffer()
    pieces = (bytes(view[i : i + CHUNK_BYTES]) for i in range(0, len(view), CHUNK_BYTES))
    info = store.blobs.write(key, pieces)  # a chunk copied at a time, not the whole file
    return {
        "predictions_url": f"/v1/jobs/{job_id}/predictions/{name}",
        "bytes": info.bytes,
        "outputs": {n: list(a.shape) for n, a in zip(plan.output_names, arrays, strict=True)},
    }


def _predictions(plan: Plan, outputs: Sequence[torch.Tensor]) -> dict[str, Any]:
    predictions = {name: out.tolist() for name, out in zip(plan.output_names, outputs, strict=True)}
    return {"predictions": predictions if len(outputs) > 1 else outputs[0].tolist()}


def _inputs_only(x: str | dict[str, str]) -> DataRef:
    """Data with inputs only, for predict: Keras's predict takes no targets. Built without
    validation because a training DataRef requires `y`, and inline inputs have ids of
    their own (`inputs`, `inputs['a']`) that no dataset can have."""
    return DataRef.model_construct(x=x, y=None, sample_weight=None)  # type: ignore[arg-type]


def _input_names(spec: JobSpec) -> list[str] | None:
    """A functional model's input names; None for a Sequential's one input."""
    model = spec.model
    return [i.name for i in model.inputs] if isinstance(model, FunctionalSpec) else None


def _inline(
    inputs: Any, names: list[str] | None, settings: Settings
) -> tuple[str | dict[str, str], dict[str, np.ndarray]]:
    """Inline `inputs` (one batch of nested lists, or one per input name) as arrays under
    ids of their own, and the `x` that names them; bounded by `max_predict_samples`. The
    planner checks their shapes and counts, as for datasets."""
    one = names is None or len(names) == 1
    if isinstance(inputs, dict) and not (one and len(inputs) == 1):
        if names is None or set(inputs) != set(names):
            raise SpecError(
                "inputs must give a batch for each model input: "
                + (", ".join(names) if names else "a Sequential has one (give a list)"),
                ("inputs",),
            )
        by_name = inputs
    elif isinstance(inputs, dict):
        by_name = {"inputs": next(iter(inputs.values()))}
    elif one:
        by_name = {"inputs": inputs}
    else:
        raise SpecError(
            f"inputs must give a batch for each model input: {', '.join(names or [])}",
            ("inputs",),
        )
    arrays = {}
    for name, batch in by_name.items():
        label = "inputs" if name == "inputs" else f"inputs[{name!r}]"
        try:
            array = np.asarray(batch, dtype=np.float64)
        except (ValueError, TypeError):  # ragged, or not numbers ({}, "a", null)
            raise SpecError(
                f"{label} must be nested lists of numbers, every sample of one shape",
                ("inputs",),
            ) from None
        if array.ndim == 0 or array.shape[0] == 0:
            raise SpecError(f"{label} must be a batch: a list of one or more samples", ("inputs",))
        if array.shape[0] > settings.max_predict_samples:
            raise PayloadTooLarge(
                f"inline inputs hold {array.shape[0]} samples; at most "
                f"{settings.max_predict_samples} — upload larger batches as a dataset"
            )
        arrays[label] = array
    if list(by_name) == ["inputs"]:
        return "inputs", arrays
    return {name: f"inputs[{name!r}]" for name in by_name}, arrays


def checkpoint_weights(store: Store, tenant: str, job_id: str) -> tuple[bytes, int]:
    """The weights of a job's newest checkpoint, as the weights file of a succeeded job
    (Keras's names, layouts and order), and the epochs it had done: what a client's
    callback reads with `model.get_weights()` while the job waits between epochs."""
    spec, data, epoch = store.jobs.latest_checkpoint(tenant, job_id)
    return weights_file(_trained(store, tenant, spec, load_state(data)["model"]).model), epoch
