"""What the SDK's models share: Keras's `compile` / `fit` / `evaluate` / `predict` /
`summary` / weights, carried out by the service.

`fit` uploads the arrays (each content once), submits the job and follows its live
stream with a Keras-style progress bar; Ctrl-C cancels the job on the service.
"""

from __future__ import annotations

import contextlib
import json
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.numpy
from pydantic import TypeAdapter, ValidationError

from cornu import connection
from cornu.client import Client
from cornu.core import tensorfile
from cornu.core.errors import CornuError, JobFailed, PayloadTooLarge
from cornu.core.spec import FunctionalSpec, ModelSpec, spec_error
from cornu.display import print_summary
from cornu.layers import _jsonable
from cornu.progress import ProgressBar

_MODEL: TypeAdapter[Any] = TypeAdapter(ModelSpec)


class History:
    """Keras's `History`: `history.history["loss"]` is the list of each epoch's loss."""

    def __init__(
        self, history: dict[str, list[float]], epochs: list[int], params: dict[str, Any]
    ) -> None:
        self.history = history
        self.epoch = epochs
        self.params = params

    def __repr__(self) -> str:
        return f"<History {', '.join(self.history)} over {len(self.epoch)} epochs>"


class RemoteJob:
    """A training job on the service (what `fit(..., wait=False)` returns)."""

    def __init__(self, client: Client, job_id: str) -> None:
        self.client, self.id = client, job_id

    @property
    def status(self) -> str:
        return self.client.job(self.id).status.value

    def wait(self, timeout_s: float | None = None) -> RemoteJob:
        self.client.wait(self.id, timeout_s=timeout_s)
        return self

    def cancel(self) -> None:
        self.client.cancel(self.id)

    def history(self) -> History:
        metrics = self.client.metrics(self.id)
        return History(metrics.history, [e.epoch - 1 for e in metrics.epochs], {"job": self.id})

    def stream(self) -> Any:
        return self.client.stream(self.id)

    def __repr__(self) -> str:
        return f"<RemoteJob {self.id}>"


class TrainedModel:
    """Base of Sequential, Model and JSON models: the Keras methods, run on the service."""

    default_name = "model"  # what Keras calls an unnamed model of the kind

    def __init__(self, name: str | None) -> None:
        self.name = name
        self._compile: dict[str, Any] | None = None
        self._job: str | None = None  # the last fit's job
        self._settled: str | None = None  # the last fit whose outcome this model has taken
        self._weights: str | None = None  # the job that trained the model's weights

    def model_spec(self) -> dict[str, Any]:
        """The model as the service takes it (each kind of model gives its own)."""
        raise NotImplementedError

    @property
    def input_names(self) -> list[str]:
        """The inputs' names, in order, as the service names them (data maps use them)."""
        return self._io_names()[0]

    @property
    def output_names(self) -> list[str]:
        """The outputs' names, in order: Keras's names for a model's several outputs."""
        return self._io_names()[1]

    def _io_names(self) -> tuple[list[str], list[str]]:
        try:
            model = _MODEL.validate_python(self.model_spec())
        except ValidationError as exc:
            raise spec_error(exc.errors(), strip=("model",)) from None
        if isinstance(model, FunctionalSpec):
            return [i.name for i in model.inputs], model.output_names()
        return ["input"], ["output"]  # one of each: the names are never used

    @property
    def client(self) -> Client:
        return connection.client()

    # -- Keras's API -----------------------------------------------------------------

    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: Any = None,
        loss_weights: Any = None,
        weighted_metrics: Any = None,
    ) -> None:
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='sparse_categorical_crossentropy'")
        self._compile = {
            "optimizer": _jsonable(optimizer),
            "loss": _jsonable(loss),
            "metrics": _jsonable(metrics or []),
            "weighted_metrics": _jsonable(weighted_metrics or []),
            "loss_weights": _jsonable(loss_weights),
        }

    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: Sequence[Any] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        class_weight: Mapping[int, float] | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        seed: int | None = None,
        wait: bool = True,
    ) -> History | RemoteJob:
        """Train on the service; returns Keras's History (or the job, with `wait=False`)."""
        if self._compile is None:
            raise RuntimeError("compile the model before fit, as in Keras")
        initial_weights = self._trained_weights()  # as in Keras, a fit goes on from them
        data = self._data(x, y, sample_weight)
        fit: dict[str, Any] = {"epochs": epochs, "shuffle": shuffle, "initial_epoch": initial_epoch}
        fit |= {"batch_size": batch_size or 32, "validation_split": validation_split, "seed": seed}
        if validation_data is not None:  # Keras ignores validation_split then
            fit |= {"validation_data": self._data(*validation_data), "validation_split": 0.0}
        if class_weight is not None:
            fit["class_weight"] = {str(k): float(v) for k, v in class_weight.items()}
        if callbacks:
            fit["callbacks"] = [_jsonable(c) for c in callbacks]
        if initial_weights is not None:
            fit["initial_weights"] = initial_weights
        spec = {"model": self.model_spec(), "compile": self._compile, "fit": fit, "data": data}
        job = self.client.submit(spec)
        self._job = job.id
        if not wait:
            return RemoteJob(self.client, job.id)
        try:
            self._follow(job.id, epochs, verbose)
        except KeyboardInterrupt:
            with contextlib.suppress(CornuError):  # it may have ended meanwhile
                self.client.cancel(job.id)
            raise
        done = self.client.job(job.id)
        self._settled = job.id  # the outcome is known, and raised below if it is not success
        if done.status.value != "succeeded":
            raise JobFailed(f"job {job.id} {done.status.value}: {done.error or 'cancelled'}")
        self._weights = job.id
        history = RemoteJob(self.client, job.id).history()
        history.params = {"epochs": epochs, "job": job.id, "verbose": verbose}
        return history

    def evaluate(
        self, x: Any = None, y: Any = None, batch_size: int | None = None, verbose: Any = "auto",
        sample_weight: Any = None, return_dict: bool = False,
    ) -> Any:  # fmt: skip
        """`model.evaluate`: the loss alone, `[loss, *metrics]`, or a dict with `return_dict`."""
        request = {**self._data(x, y, sample_weight), "batch_size": batch_size or 32}
        logs = self.client.evaluate(self._trained(), **request)
        if return_dict:
            return logs
        if len(logs) == 1:
            return logs["loss"]
        return [logs["loss"], *(value for name, value in logs.items() if name != "loss")]

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto") -> Any:
        """`model.predict`: an array per output (a list of them for several outputs).
        Inputs, or answers, larger than the service takes at once go in parts."""
        outputs = self._predict(self._input_arrays(x), batch_size or 32)
        return outputs[0] if len(outputs) == 1 else outputs

    def _predict(self, x: list[np.ndarray], batch_size: int) -> list[np.ndarray]:
        try:
            inputs = dict(zip(self.input_names, x, strict=True)) if len(x) > 1 else x[0]
            request = {"x": self._arrays(inputs, self.input_names), "batch_size": batch_size}
            result = self.client.predict(self._trained(), **request)
        except PayloadTooLarge:
            samples = len(x[0])
            if samples < 2:
                raise
            half = samples // 2
            head = self._predict([a[:half] for a in x], batch_size)
            tail = self._predict([a[half:] for a in x], batch_size)
            return [np.concatenate(pair) for pair in zip(head, tail, strict=True)]
        if isinstance(result, dict):
            return [np.asarray(result[name], dtype=np.float32) for name in result]
        return [np.asarray(result, dtype=np.float32)]

    def _input_arrays(self, x: Any) -> list[np.ndarray]:
        """The model's input arrays in order, from one array, a list or a map by name."""
        names = self.input_names
        if isinstance(x, Mapping):
            return [np.asarray(x[name]) for name in names]
        if isinstance(x, list | tuple) and len(x) == len(names) and len(names) > 1:
            return [np.asarray(a) for a in x]
        if isinstance(x, list | tuple) and len(x) == 1 and isinstance(x[0], np.ndarray):
            return [x[0]]
        return [np.asarray(x)]

    def summary(self) -> None:
        """Print Keras's summary table (layers, output shapes, parameters), from the service."""
        from rich.console import Console

        summary = self.client.summary(self.model_spec())
        print_summary(summary, Console(), title=f'Model: "{self.name or self.default_name}"')

    def get_weights(self) -> list[np.ndarray]:
        """The trained weights in Keras's order and layouts (as `model.get_weights()`)."""
        data = self.client.weights(self._trained())
        arrays = safetensors.numpy.load(data)
        metadata = tensorfile.header(data).get("__metadata__") or {}
        order = json.loads(metadata.get("keras_order", "null")) or list(arrays)
        return [arrays[name] for name in order]

    def save_weights(self, filepath: str | Path) -> None:
        """The trained weights as a safetensors file (`{layer}/{weight}` keys)."""
        self.client.download_weights(self._trained(), filepath)

    def to_json(self) -> str:
        """The model as JSON the service accepts (`models.model_from_json` reads it back)."""
        return json.dumps(self.model_spec())

    @property
    def job_id(self) -> str | None:
        """The job of the model's last `fit`."""
        return self._job

    # -- plumbing --------------------------------------------------------------------

    def _trained_weights(self) -> str | None:
        """The job whose trained weights the model holds: the last fit's once it succeeded;
        a failed or cancelled fit leaves the model's weights as they were, as in Keras."""
        if self._job is not None and self._job != self._settled:
            status = self.client.job(self._job).status.value
            if status in ("queued", "running"):
                raise RuntimeError(
                    f"this model's last fit (job {self._job}) is still {status}: wait for it "
                    "(RemoteJob.wait()) or cancel it first"
                )
            if status == "succeeded":
                self._weights = self._job
            else:
                kept = (
                    f"keeps the weights job {self._weights} trained"
                    if self._weights
                    else "has no trained weights"
                )
                warnings.warn(f"job {self._job} {status}; the model {kept}", stacklevel=3)
            self._settled = self._job
        return self._weights

    def _trained(self) -> str:
        job = self._trained_weights()
        if job is None:
            raise RuntimeError("the model has not been trained: call fit first")
        return job

    def _forget_training(self) -> None:
        """The model changed: its next fit starts from new weights."""
        if self._weights is not None:
            warnings.warn(
                f"the model changed after job {self._weights} trained it; its next fit starts "
                "from new weights (Cornu cannot yet carry trained weights into a changed model)",
                stacklevel=3,
            )
        self._job = self._settled = self._weights = None

    def _arrays(self, value: Any, names: list[str]) -> str | dict[str, str]:
        """Upload arrays (one, a list in model order, or a map by name) as dataset ids."""
        if isinstance(value, Mapping):
            return {name: self.client.upload(np.asarray(v)).id for name, v in value.items()}
        if isinstance(value, list | tuple) and len(value) == len(names) == 1:
            if isinstance(value[0], np.ndarray):  # `[x]` for the one input, as Keras takes it
                value = value[0]
        if (
            isinstance(value, list | tuple)
            and value
            and not np.isscalar(value[0])
            and len(names) > 1
        ):
            if len(value) != len(names):
                raise ValueError(
                    f"the model has {len(names)} inputs/outputs ({', '.join(names)}); "
                    f"got {len(value)} arrays"
                )
            return {
                name: self.client.upload(np.asarray(v)).id
                for name, v in zip(names, value, strict=True)
            }
        return self.client.upload(np.asarray(value)).id

    def _data(self, x: Any, y: Any, sample_weight: Any = None) -> dict[str, Any]:
        if x is None or y is None:
            raise ValueError("give the training data as numpy arrays: fit(x, y, …)")
        data: dict[str, Any] = {
            "x": self._arrays(x, self.input_names),
            "y": self._arrays(y, self.output_names),
        }
        if sample_weight is not None:
            data["sample_weight"] = self.client.upload(np.asarray(sample_weight)).id
        return data

    def _follow(self, job_id: str, epochs: int, verbose: Any) -> None:
        """Draw the job's progress from its live stream until it ends."""
        bar = ProgressBar(sys.stdout, 0 if verbose in (0, False) else 2 if verbose == 2 else 1)
        shown: int | None = None  # the epoch whose bar is drawn
        batches: int | None = None  # steps per epoch, from the first progress event
        for event in self.client.stream(job_id):
            data = event.data
            if event.event == "progress":
                batches = data["batches"]
                if data["epoch"] != shown:
                    shown = data["epoch"]
                    bar.start_epoch(data["epoch"], epochs, batches)
                bar.update(data["batch"], data["logs"])
            elif event.event == "epoch":
                logs = {k: v for k, v in data.items() if k not in ("epoch", "seconds")}
                if data["epoch"] != shown:
                    bar.start_epoch(data["epoch"], epochs, batches)
                bar.end_epoch(logs, data["seconds"])
                shown = data["epoch"]
            elif event.event in ("failed", "cancelled"):
                reason = data.get("reason")
                bar.message(f"job {event.event}" + (f": {reason}" if reason else ""))
