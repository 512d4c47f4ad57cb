"""Using a trained job's model: `evaluate` and `predict`, as Keras's methods.

The model is rebuilt from the job's spec and its stored state, on the CPU of the
worker that runs the call (`core.calls`; never the API's). Sizes are bounded: datasets
by the upload limit, inline inputs by `max_predict_samples`, answers by
`max_predict_values`.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import safetensors.torch
import torch

from cornu.core.config import Settings
from cornu.core.engine import build_model, plan_job
from cornu.core.engine.build import fits_keras
from cornu.core.engine.fit import as_inputs, load_state, to_data
from cornu.core.engine.model import Model, weights_file
from cornu.core.engine.plan import Plan, check_stateful_batches, with_windows
from cornu.core.engine.trainer import Trainer
from cornu.core.errors import ErrorItem, InvalidDataset, NotFound, PayloadTooLarge, SpecError
from cornu.core.ids import new_id
from cornu.core.spec import (
    DataRef,
    EvaluateRequest,
    JobSpec,
    PredictRequest,
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
    data_ref = _evaluated(request)
    eval_spec = _on_data(spec, data_ref)
    plan, _, batch_size = _planned(store, tenant, eval_spec, request.batch_size)
    model = _reload(eval_spec, plan, state)
    arrays = {d: store.datasets.load(d) for d in data_ref.ids()}
    data = to_data(plan, plan.data[0], arrays, model, CPU)
    return Trainer(model, plan.heads).evaluate(data, batch_size=batch_size)


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


def _planned(store: Store, tenant: str, spec: JobSpec, batch_size: int) -> tuple[Plan, int, int]:
    """`spec` planned on its data (datasets, or windows over a series as fit plans them),
    the samples (windows) it holds and the batch size it runs with (a source's own, as
    Keras takes a dataset's batches), checked for stateful layers."""
    ref = spec.epoch_data[0]
    shapes = store.datasets.shapes(tenant, ref.ids())
    try:
        plan = plan_job(spec, shapes)  # checks a source's batches for stateful layers too
    except SpecError as exc:
        if not isinstance(ref, TimeseriesSource):
            raise
        raise SpecError(  # the request's source is its x
            [
                ErrorItem(("x", *e.loc[1:]) if e.loc[:1] == ("data",) else e.loc, e.msg)
                for e in exc.errors
            ]
        ) from None
    ids = plan.data[0]
    count = with_windows(spec, shapes)[ids.x[0]][0]
    if ids.windows is not None:
        return plan, count, ids.windows.batch_size
    check_stateful_batches(spec.model, batch_size, [("x", count)], ("batch_size",))
    return plan, count, batch_size


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


def _on_data(spec: JobSpec, data: DataRef | TimeseriesSource | None) -> JobSpec:
    """The job's spec on other data, without what fit needs beyond it (validation, …)."""
    fit = spec.fit.model_copy(
        update={
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
    if isinstance(request.x, TimeseriesSource):
        return _predict_windows(store, tenant, job_id, request, settings)
    spec, plan, model = trained(store, tenant, job_id, request.checkpoint)
    arrays = _arrays(store, tenant, request, plan, model.declared_shapes, settings)
    given = [tuple(a.shape[1:]) for a in arrays]
    if given != [tuple(s) for s in plan.input_shapes]:  # other sizes where None allows them
        trained_model = model
        model = build_model(spec.model, given).eval()
        model.load_state_dict(trained_model.state_dict())
    samples = arrays[0].shape[0]
    check_stateful_batches(spec.model, request.batch_size, [("x", samples)], ("batch_size",))
    _check_answer_size(model, samples, settings, request.answer)
    x = [
        as_inputs(a, f"x[{name!r}]", dtype, CPU)
        for a, name, dtype in zip(arrays, plan.input_names, model.input_dtypes, strict=True)
    ]
    outputs = Trainer(model, plan.heads).predict(x, batch_size=request.batch_size)
    if request.answer == "npy":
        return _prediction_file(store, tenant, job_id, plan, outputs)
    return _predictions(plan, outputs)


def _predict_windows(
    store: Store,
    tenant: str,
    job_id: str,
    request: PredictRequest,
    settings: Settings,
) -> dict[str, Any]:
    """One prediction per window, in the source's (first epoch's) order, the windows
    gathered batch by batch as fit gathers them."""
    source = request.x
    assert isinstance(source, TimeseriesSource)
    spec, state = _state(store, tenant, job_id, request.checkpoint)
    # No loss: the targets only bound the windows' count, as in Keras's predict.
    spec = _on_data(spec.model_copy(update={"compile": None}), source)
    plan, count, batch_size = _planned(store, tenant, spec, source.batch_size)
    model = _reload(spec, plan, state)
    _check_answer_size(model, count, settings, request.answer)
    arrays = {d: store.datasets.load(d) for d in source.ids()}
    data = to_data(plan, plan.data[0], arrays, model, CPU)
    outputs = Trainer(model, plan.heads).predict(data.x, batch_size=batch_size)
    if request.answer == "npy":
        return _prediction_file(store, tenant, job_id, plan, outputs)
    return _predictions(plan, outputs)


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


def _arrays(
    store: Store,
    tenant: str,
    request: PredictRequest,
    plan: Plan,
    declared: Sequence[Sequence[int | None]],
    settings: Settings,
) -> list[np.ndarray]:
    names = plan.input_names
    if request.inputs is not None:
        given: Any = request.inputs
        by_name = (
            given if isinstance(given, dict) else {names[0]: given} if len(names) == 1 else None
        )
        if by_name is None or set(by_name) != set(names):
            raise SpecError(
                f"inputs must give a batch for each model input: {', '.join(names)}", ("inputs",)
            )
        arrays = []
        for name, shape in zip(names, declared, strict=True):
            try:
                array = np.asarray(by_name[name], dtype=np.float64)
            except (ValueError, TypeError):  # ragged, or not numbers ({}, "a", null)
                raise SpecError(
                    f"inputs[{name!r}] must be nested lists of numbers", ("inputs",)
                ) from None
            if not fits_keras(array.shape[1:], shape):
                raise SpecError(
                    f"inputs[{name!r}] holds samples of shape {array.shape[1:]} but the input "
                    f"{name!r} has shape {tuple(shape)}",
                    ("inputs",),
                )
            if array.shape[0] > settings.max_predict_samples:
                raise PayloadTooLarge(
                    f"inline inputs hold {array.shape[0]} samples; at most "
                    f"{settings.max_predict_samples} — upload larger batches as a dataset"
                )
            arrays.append(array)
        return arrays
    ids = (
        request.x
        if isinstance(request.x, dict)
        else {names[0]: request.x}
        if len(names) == 1
        else None
    )
    if ids is None or set(ids) != set(names):
        raise SpecError(f"x must name a dataset for each model input: {', '.join(names)}", ("x",))
    shapes = store.datasets.shapes(tenant, [str(v) for v in ids.values()])
    arrays = []
    for name, shape in zip(names, declared, strict=True):
        dataset = str(ids[name])
        if dataset not in shapes:
            raise SpecError(f"no dataset {dataset!r}; upload it first (POST /v1/datasets)", ("x",))
        if not fits_keras(shapes[dataset][1:], shape):
            raise InvalidDataset(
                f"dataset {dataset} holds samples of shape {shapes[dataset][1:]} but the input "
                f"{name!r} has shape {tuple(shape)}"
            )
        arrays.append(store.datasets.load(dataset))
    return arrays


def checkpoint_weights(store: Store, tenant: str, job_id: str) -> tuple[bytes, int]:
    """The weights of a job's newest checkpoint, as the weights file of a succeeded job
    (Keras's names, layouts and order), and the epochs it had done: what a client's
    callback reads with `model.get_weights()` while the job waits between epochs."""
    spec, data, epoch = store.jobs.latest_checkpoint(tenant, job_id)
    return weights_file(_trained(store, tenant, spec, load_state(data)["model"]).model), epoch
