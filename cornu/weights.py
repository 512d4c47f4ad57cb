"""Weights belong to layers, as in Keras.

A layer's weights are where its last training left them — the weights a job on the
service trained (fetched when first read) — or arrays the user gave (`set_weights`,
`load_model`), or none yet: a layer that was never in a trained model gets new weights
from the service when a model that holds it first needs some (predict, save, weights).
So a layer shared by two models carries its training from one to the other, and a
layer added to a trained model leaves the other layers' weights as they were.

What the service needs for a model follows from its layers: the job whose weights they
all are (`fit.initial_weights: "<job>"`), or Keras's arrays of those that have any
(uploaded once per content; the others start new), or nothing.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import safetensors.numpy

from cornu import connection
from cornu.core.errors import JobFailed, NotFound
from cornu.core.spec import JobStatus, tensorfile

if TYPE_CHECKING:
    from cornu.layers import Layer
    from cornu.models.model import Model


@dataclass(frozen=True)
class JobWeights:
    """The weights job `job_id` holds for the layer it calls `layer`."""

    job_id: str
    layer: str


WeightSource = JobWeights | dict[str, np.ndarray]
"""Where a layer's weights are: a job's, or arrays by Keras's name within the layer."""


@dataclass
class Fitting:
    """A fit in progress: its job, and the epochs the client has seen end. While it
    runs, the layers it trains (`layer._fitting`) read their weights from the job's
    newest checkpoint, so callbacks — and models built from those layers — see the
    weights as of the latest epoch, as in Keras."""

    job_id: str
    epochs_done: int = 0


_JOB_SPECS: OrderedDict[str, dict[str, Any]] = OrderedDict()  # job → the model spec it trained
_KEPT_SPECS = 256  # past it a model starts from its arrays (uploaded) instead of the job
_DOWNLOADED: OrderedDict[str, dict[str, np.ndarray]] = OrderedDict()
_KEPT_DOWNLOADS = 8  # jobs whose weights stay in memory
_CHECKPOINT: dict[tuple[str, int], dict[str, np.ndarray]] = {}  # the running fit's, one epoch


def _read(data: bytes) -> dict[str, np.ndarray]:
    arrays = safetensors.numpy.load(data)
    return {name: arrays[name] for name in tensorfile.keras_order(data)}


def job_arrays(job_id: str) -> dict[str, np.ndarray]:
    """A job's weights, `{"dense/kernel": array}` in Keras's order and layouts
    (downloaded once; the last few jobs' are kept)."""
    if job_id in _DOWNLOADED:
        _DOWNLOADED.move_to_end(job_id)
        return _DOWNLOADED[job_id]
    _DOWNLOADED[job_id] = _read(connection.client().weights(job_id))
    while len(_DOWNLOADED) > _KEPT_DOWNLOADS:
        _DOWNLOADED.popitem(last=False)
    return _DOWNLOADED[job_id]


def trained(job_id: str, spec: dict[str, Any], layers: Sequence[Layer]) -> None:
    """Job `job_id` trained the model `spec` made of `layers`: their weights are its."""
    _JOB_SPECS[job_id] = spec
    _JOB_SPECS.move_to_end(job_id)
    while len(_JOB_SPECS) > _KEPT_SPECS:
        _JOB_SPECS.popitem(last=False)
    for layer in layers:
        layer._weights = JobWeights(job_id, layer.name)


def checkpoint_arrays(fitting: Fitting) -> dict[str, np.ndarray] | None:
    """The running fit's weights as of its latest epoch (fetched once per epoch), or
    its final ones once it ended; None before its first epoch ends."""
    key = (fitting.job_id, fitting.epochs_done)
    if key not in _CHECKPOINT:
        latest = None
        try:
            latest = _read(connection.client().weights(fitting.job_id, checkpoint=True))
        except NotFound:  # the job ended (its final weights), or has not ended an epoch
            with contextlib.suppress(NotFound):
                latest = job_arrays(fitting.job_id)
        if latest is None:
            return None
        _CHECKPOINT.clear()
        _CHECKPOINT[key] = latest
    return _CHECKPOINT[key]


def layer_arrays(layer: Layer) -> dict[str, np.ndarray]:
    """The layer's weights by their names within it (`kernel`, `forward_lstm/kernel`),
    getting the model that holds it new ones from the service if it has none."""
    if layer._fitting is not None:  # its fit runs (a callback reads): the latest epoch's
        latest = checkpoint_arrays(layer._fitting)
        if latest is not None:
            prefix = f"{layer.name}/"
            return {k.removeprefix(prefix): v for k, v in latest.items() if k.startswith(prefix)}
        if layer._weights is None:
            raise RuntimeError(
                f"layer {layer.name!r} gets its first weights on the service when its fit "
                "starts; they can be read from the end of the first epoch on"
            )
    source = layer._weights
    if source is None:
        if layer._owner is None:
            return {}
        layer._owner._weights_job()  # gives every layer of the model its weights
        source = layer._weights
    if isinstance(source, dict):
        return source
    assert source is not None
    prefix = f"{source.layer}/"
    return {
        name.removeprefix(prefix): array
        for name, array in job_arrays(source.job_id).items()
        if name.startswith(prefix)
    }


class Variable:
    """One of a layer's weights, as Keras's `model.weights` lists them; its value is
    read from the layer's weights when asked (`numpy()`)."""

    def __init__(self, layer: Layer, name: str, shape: Sequence[int], trainable: bool) -> None:
        self.layer = layer
        self.path = f"{layer.name}/{name}"
        self.name = name.rsplit("/", 1)[-1]
        self._within = name
        self.shape = tuple(shape)
        self.trainable = trainable
        self.dtype = "float32"

    def numpy(self) -> np.ndarray:
        return layer_arrays(self.layer)[self._within]

    @property
    def value(self) -> np.ndarray:
        return self.numpy()

    def assign(self, value: Any) -> None:
        """Keras's `variable.assign(value)`: this weight of the layer becomes `value`."""
        arrays = dict(layer_arrays(self.layer))
        arrays[self._within] = _checked(self.path, self.shape, value)
        self.layer._weights = arrays

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self.numpy(), dtype=dtype)

    def __repr__(self) -> str:
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"


class HasWeights:
    """Keras's views of `weights` that layers and models share."""

    @property
    def weights(self) -> list[Variable]:
        raise NotImplementedError

    @property
    def trainable_weights(self) -> list[Variable]:
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        return [w for w in self.weights if not w.trainable]

    @property
    def variables(self) -> list[Variable]:
        return self.weights

    def get_weights(self) -> list[np.ndarray]:
        """The weights as numpy arrays, in Keras's order and layouts."""
        return [w.numpy() for w in self.weights]


def layer_variables(layer: Layer) -> list[Variable]:
    """The layer's weights (none until a model that holds it knows its input shape)."""
    owner = layer._owner
    return [] if owner is None else model_variables(owner, [layer])[0]


def model_variables(model: Model, layers: Sequence[Layer] | None = None) -> list[list[Variable]]:
    """The weights of each of `layers` (the model's by default) as the model's summary
    lists them (read once for all of them)."""
    summary = model._summary_or_none()
    rows = {} if summary is None else {r.name: r for r in summary.layers}
    out = []
    for layer in model._layers() if layers is None else layers:
        row, prefix = rows.get(layer.name), f"{layer.name}/"
        weights = [] if row is None else row.weights
        out.append([Variable(layer, w.name.removeprefix(prefix), w.shape, w.trainable)
                    for w in weights])  # fmt: skip
    return out


def _checked(path: str, shape: tuple[int, ...], value: Any) -> np.ndarray:
    array = np.asarray(value, dtype=np.float32)
    if array.shape != shape:
        raise ValueError(
            f"weight {path} has shape {shape}; the value given has shape {array.shape}"
        )
    return array


def set_layer_weights(
    layer: Layer, weights: Sequence[Any], variables: list[Variable] | None = None
) -> None:
    """Keras's `layer.set_weights`: arrays in the layer's order and Keras's layouts."""
    variables = layer_variables(layer) if variables is None else variables
    if len(weights) != len(variables):
        raise ValueError(
            f"layer {layer.name!r} has {len(variables)} weights "
            f"({', '.join(str(v.shape) for v in variables) or 'none: it is not built yet'}); "
            f"{len(weights)} were given"
        )
    layer._weights = {
        v._within: _checked(v.path, v.shape, w) for v, w in zip(variables, weights, strict=True)
    }


def set_model_weights(model: Model, weights: Sequence[Any]) -> None:
    """Keras's `model.set_weights`: every layer's weights, in the model's order."""
    held = [
        (layer, variables)
        for layer, variables in zip(model._layers(), model_variables(model), strict=True)
        if variables
    ]
    expected = sum(len(variables) for _, variables in held)
    if len(weights) != expected:
        raise ValueError(
            f"the model has {expected} weights in {len(held)} layers; {len(weights)} were given"
        )
    start = 0
    for layer, variables in held:
        set_layer_weights(layer, weights[start : start + len(variables)], variables)
        start += len(variables)


def initial_weights(model: Model, spec: dict[str, Any]) -> str | dict[str, str] | None:
    """What a job for `spec` starts from: the job whose weights all its layers hold (if
    it trained this very model), else the arrays of the layers that have some, uploaded
    (the others start new), else nothing."""
    layers = model._layers()
    # A layer whose fit runs (a callback builds a model of it) has its latest epoch's.
    sources = [layer._weights if layer._fitting is None else {} for layer in layers]
    if all(s is None for s in sources):
        return None
    jobs = {s.job_id for s in sources if isinstance(s, JobWeights)}
    if len(jobs) == 1 and all(isinstance(s, JobWeights) for s in sources):
        (job,) = jobs
        same_names = all(
            isinstance(s, JobWeights) and s.layer == layer.name
            for s, layer in zip(sources, layers, strict=True)
        )
        if same_names and _JOB_SPECS.get(job) == spec:
            return job
    client = connection.client()
    given: dict[str, str] = {}
    for layer, source in zip(layers, sources, strict=True):
        if source is None:
            continue
        for name, array in layer_arrays(layer).items():
            # A dataset needs a first axis: a scalar weight (a Normalization's `count`)
            # travels as one element, which the service reads back as a scalar.
            given[f"{layer.name}/{name}"] = client.upload(
                np.reshape(array, (1,)) if np.ndim(array) == 0 else array,
                name=f"{layer.name}/{name}",
                keras_dtypes=True,
            ).id
    return given


def materialize(model: Model) -> str:
    """A job whose weights are the model's (submitting one that trains nothing when no
    job holds exactly them); afterwards every layer's weights are that job's."""
    spec = model.model_spec()
    start = initial_weights(model, spec)
    if isinstance(start, str):
        return start
    from cornu.utils.rng import job_seed

    fit: dict[str, Any] = {"epochs": 0, "seed": job_seed()}
    if start:
        fit["initial_weights"] = start
    body: dict[str, Any] = {"model": spec, "fit": fit}
    if model._compile is not None:
        body["compile"] = model._compile
    client = connection.client()
    job = client.wait(client.submit(body).id, poll_s=0.1)
    if job.status is not JobStatus.succeeded:
        raise JobFailed(f"job {job.id} could not give the model its weights: {job.error}")
    trained(job.id, spec, model._layers())
    return job.id
