"""Keras's `compile` / `fit` / `evaluate` / `predict`, carried out by the service.

`fit` takes the data as Keras does (arrays, a PyDataset, a generator; see
`cornu.data_adapters`), uploads it (each content once), submits the job, and follows its
live stream with Keras's progress bar and the user's own callbacks; Ctrl-C cancels the
job. The model's layers then hold the weights the job trained (`cornu.weights`).
"""

from __future__ import annotations

import contextlib
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from cornu import connection, weights
from cornu.callbacks.client import Callback, History, LearningRateScheduler
from cornu.callbacks.runner import ClientCallbacks
from cornu.client import Client
from cornu.core.errors import CornuError, JobFailed, PayloadTooLarge
from cornu.data_adapters import Batch, draw, is_arrays
from cornu.objects import KerasObject, jsonable
from cornu.optimizers import optimizer_object
from cornu.progress import print_steps
from cornu.remote_job import RemoteJob, follow
from cornu.utils.rng import job_seed

if TYPE_CHECKING:
    from cornu.layers import Layer


class Trainer:
    """Keras's `Trainer`: what `Model` and `Sequential` share for training and inference."""

    name: str
    _compile: dict[str, Any] | None
    optimizer: Any
    loss: Any
    stop_training: bool
    history: Any
    _job: str | None
    _settled: str | None
    _job_spec: dict[str, Any]
    _fitting: weights.Fitting | None = None  # the fit running now
    _compiled_trainable: dict[int, bool]  # each layer's `trainable` when compiled

    # What each kind of model gives (cornu.models).
    def model_spec(self) -> dict[str, Any]:
        raise NotImplementedError

    def _layers(self) -> list[Layer]:
        raise NotImplementedError

    @property
    def input_names(self) -> list[str]:
        raise NotImplementedError

    @property
    def output_names(self) -> list[str]:
        raise NotImplementedError

    def _build_from(self, x: Any) -> None:
        """A model that does not know its input shape takes it from the data (Keras)."""

    @property
    def client(self) -> Client:
        return connection.client()

    # -- compile ---------------------------------------------------------------------

    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        loss_weights: Any = None,
        metrics: Any = None,
        weighted_metrics: Any = None,
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
        jit_compile: Any = "auto",
        auto_scale_loss: bool = True,
        **kwargs: Any,
    ) -> None:
        """Keras's `compile`. `run_eagerly`, `steps_per_execution` and `jit_compile` are
        how Keras runs the step; the service decides that, so they are accepted."""
        if isinstance(metrics, list) and metrics and all(isinstance(m, list) for m in metrics):
            metrics = dict(zip(self.output_names, metrics, strict=True))  # one list per output
        # Keras 3 keeps the last compile's loss when given none, and its metrics when
        # given neither metrics nor weighted_metrics (keras/src/trainers/trainer.py).
        before = self._compile or {}
        if loss is None:
            loss_spec = before.get("loss")
        else:
            loss_spec = jsonable(loss)
            self.loss = loss
        keep_metrics = metrics is None and weighted_metrics is None
        self.optimizer = optimizer_object(optimizer)
        # Keras 3: which weights train is decided here; `trainable` changed after this
        # takes effect at the next compile (fit warns, as Keras does).
        self._compiled_trainable = {id(layer): layer.trainable for layer in self._layers()}
        self._compile = {
            "optimizer": jsonable(self.optimizer),
            "loss": loss_spec,
            "metrics": before.get("metrics", []) if keep_metrics else jsonable(metrics or []),
            "weighted_metrics": (
                before.get("weighted_metrics", [])
                if keep_metrics
                else jsonable(weighted_metrics or [])
            ),
            # Keras keeps the last loss with its weights when given no loss.
            "loss_weights": before.get("loss_weights") if loss is None else jsonable(loss_weights),
        }

    def _compile_now(self) -> dict[str, Any] | None:
        """compile's arguments as the service takes them, with the optimizer as it is
        now: a rate set since compile (by the user, a callback or a scheduler) holds."""
        if self._compile is None:
            return None
        return {**self._compile, "optimizer": jsonable(self.optimizer)}

    @property
    def compiled(self) -> bool:
        return self._compile is not None

    # -- fit -------------------------------------------------------------------------

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
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int | list[int] = 1,
        seed: int | None = None,
        wait: bool = True,
        **kwargs: Any,
    ) -> History | RemoteJob:
        """Train on the service; returns Keras's History (or the job, with `wait=False`)."""
        if self._compile is None:
            raise RuntimeError("You must call `compile()` before using the model (Keras)")
        if "nb_epoch" in kwargs:  # Keras 1's name, which Keras 2 still took with a warning
            epochs = kwargs.pop("nb_epoch")
            warnings.warn("The `nb_epoch` argument in `fit` has been renamed `epochs`.",
                          stacklevel=2)  # fmt: skip
        _refuse_fit_options(kwargs)
        self._settle()
        service_callbacks, client_callbacks = _split(callbacks or [])
        fit: dict[str, Any] = {"epochs": epochs, "initial_epoch": initial_epoch}
        if is_arrays(x):
            if x is None or (y is None and not self._unsupervised_ok()):
                raise ValueError("give the training data: fit(x, y, …) with arrays")
            size = _batch_size(batch_size)
            self._build_from(x)
            data: Any = self._data(x, y, sample_weight)
            fit |= {"batch_size": size, "shuffle": shuffle}
            fit |= {"steps_per_epoch": steps_per_epoch, "validation_split": validation_split}
            # Keras trains on the first int(n * (1 - validation_split)) samples.
            trained = int(len(_first_array(x)) * (1 - validation_split))
            steps = steps_per_epoch or -(-trained // size)
        else:
            if validation_split:
                raise ValueError(
                    "`validation_split` is only supported for Tensors or NumPy arrays, not "
                    "for a dataset or generator: pass validation_data instead (Keras)"
                )
            if y is not None:
                raise ValueError(
                    "`y` cannot be given when x is a dataset or generator: it yields the "
                    "targets with the inputs (Keras)"
                )

            def send(batch: Batch) -> dict[str, Any]:
                self._build_from(batch.x)  # the first epoch's tells a new model its input
                return self._batch_data(batch)

            drawn = draw(x, epochs=epochs - initial_epoch, steps_per_epoch=steps_per_epoch,
                         shuffle=shuffle, send=send)  # fmt: skip
            each = drawn.epochs
            if len(each) > 1 or drawn.stopped_early:  # each epoch its own: as many as drawn
                fit["epochs"] = initial_epoch + len(each)
            data = each if len(each) > 1 else each[0]
            fit |= {"batch_size": drawn.batch_size, "shuffle": drawn.shuffle}
            steps = drawn.steps
        if validation_data is not None:
            arrays = _validation_arrays(validation_data)
            fit["validation_data"] = self._validation(validation_data, validation_steps)
            fit["validation_split"] = 0.0
            # Drawn validation data holds validation_steps batches already.
            fit["validation_steps"] = validation_steps if arrays else None
        fit |= {"validation_batch_size": validation_batch_size, "validation_freq": validation_freq}
        if class_weight is not None:
            fit["class_weight"] = {str(k): float(v) for k, v in class_weight.items()}
        fit["seed"] = seed if seed is not None else job_seed()
        if client_callbacks and not wait:
            warnings.warn(
                "fit(wait=False) runs none of your own callbacks (they run in this process "
                "while fit follows the job); the service's callbacks run as usual",
                stacklevel=2,
            )
            client_callbacks = []
        runner = ClientCallbacks(
            client_callbacks, self, {"verbose": verbose, "epochs": fit["epochs"], "steps": steps}
        )
        # Keras calls these before the first batch: what they set (the learning rate,
        # the weights) is what the job starts from.
        self.stop_training = False
        runner.train_begin()
        runner.epoch_begin(initial_epoch)
        fit["callbacks"] = [*service_callbacks, *self._schedules(client_callbacks, fit)]
        fit["client_callbacks"] = runner.holds_epochs
        spec = self._compiled_spec()
        fit["initial_weights"] = weights.initial_weights(self, spec)  # type: ignore[arg-type]
        body = {"model": spec, "compile": self._compile_now(), "fit": _without_none(fit),
                "data": data}  # fmt: skip
        job = self.client.submit(body)
        self._job, self._job_spec = job.id, spec
        if not wait:
            return RemoteJob(self.client, job.id)
        self._fitting = weights.Fitting(job.id)  # callbacks meanwhile read the job's weights
        for layer in self._layers():
            layer._fitting = self._fitting
        try:
            follow(self, job.id, fit["epochs"], verbose, runner)
        except KeyboardInterrupt:
            with contextlib.suppress(CornuError):  # it may have ended meanwhile
                self.client.cancel(job.id)
            raise
        finally:
            self._fitting = None
            for layer in self._layers():
                layer._fitting = None
        done = self.client.job(job.id)
        if done.status.value != "succeeded":
            self._settled = job.id
            raise JobFailed(f"job {job.id} {done.status.value}: {done.error or 'cancelled'}")
        self._settle()
        history = runner.history
        history.params = {**history.params, "job": job.id}
        rates = history.history.get("learning_rate")
        if rates and isinstance(getattr(self.optimizer, "learning_rate", None), int | float):
            self.optimizer.learning_rate = rates[-1]  # a scheduler changed it, as in Keras
        runner.train_end(done.metrics)
        self.history = history
        return history

    def fit_generator(self, generator: Any, steps_per_epoch: int | None = None,
                      epochs: int = 1, **kwargs: Any) -> History | RemoteJob:  # fmt: skip
        """Keras 2's `fit_generator`: `fit` on a generator or PyDataset."""
        kwargs.pop("workers", None), kwargs.pop("use_multiprocessing", None)
        kwargs.pop("max_queue_size", None)
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs, **kwargs)

    def _compiled_spec(self) -> dict[str, Any]:
        """The model as compiled: each layer trainable as it was at `compile` (Keras 3)."""
        spec = self.model_spec()
        layers = {layer.name: layer for layer in self._layers()}
        changed = []
        for entry in spec["layers"]:
            layer = layers.get(entry.get("name", ""))
            if layer is None or id(layer) not in self._compiled_trainable:
                continue
            compiled = self._compiled_trainable[id(layer)]
            if compiled != layer.trainable:
                changed.append(layer.name)
            if compiled:
                entry.pop("trainable", None)
            else:
                entry["trainable"] = False
        if changed:
            warnings.warn(
                "A layer's `trainable` state has changed since the model was compiled. This "
                "can result in unexpected behavior, as the compiled optimizer and loss "
                "functions may not track the correct variables. Please recompile your model "
                "(e.g. `model.compile(...)`) before calling `fit()` or `evaluate()` so the "
                f"change takes effect. Changed layers: {changed}",
                stacklevel=3,
            )
        return spec

    def _unsupervised_ok(self) -> bool:
        return False

    def _settle(self) -> None:
        """Take the outcome of the last fit (one sent with wait=False may have ended
        since): its layers' weights are the job's once it succeeded; a failed or
        cancelled fit leaves them as they were, as in Keras."""
        job_id = self._job
        if job_id is None or job_id == self._settled:
            return
        status = self.client.job(job_id).status.value
        if status in ("queued", "running"):
            raise RuntimeError(
                f"this model's last fit (job {job_id}) is still {status}: wait for it "
                "(RemoteJob.wait()) or cancel it first"
            )
        if status == "succeeded":
            weights.trained(job_id, self._job_spec, self._layers())
        else:
            warnings.warn(
                f"job {job_id} {status}; the model keeps the weights it had", stacklevel=3
            )
        self._settled = job_id

    def _schedules(self, callbacks: list[Callback], fit: dict[str, Any]) -> list[dict[str, Any]]:
        """LearningRateScheduler's function, called here, as the service's table."""
        out = []
        for callback in callbacks:
            if isinstance(callback, LearningRateScheduler):
                rate = getattr(self.optimizer, "learning_rate", None)
                if not isinstance(rate, int | float):
                    raise ValueError(
                        "LearningRateScheduler needs an optimizer with a fixed learning_rate"
                    )
                table = callback.table(float(rate), fit["epochs"])
                callback._rates = table  # type: ignore[attr-defined]
                out.append({"type": "LearningRateScheduler", "schedule": table})
        return out

    # -- data ------------------------------------------------------------------------

    def _arrays(self, value: Any, names: list[str], what: str) -> str | dict[str, str]:
        """Upload arrays (one, a list in model order, or a map by name) as dataset ids."""
        client = self.client

        def up(array: Any, label: str) -> str:
            return client.upload(array, name=label, progress=True, keras_dtypes=True).id

        if isinstance(value, Mapping):
            return {name: up(v, f"{what}[{name!r}]") for name, v in value.items()}
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
                    f"the model has {len(names)} {what}s ({', '.join(names)}); "
                    f"got {len(value)} arrays"
                )
            return {n: up(v, f"{what}[{n!r}]") for n, v in zip(names, value, strict=True)}
        return up(value, what)

    def _data(self, x: Any, y: Any, sample_weight: Any = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "x": self._arrays(x, self.input_names, "x"),
            "y": self._arrays(y, self.output_names, "y"),
        }
        if sample_weight is not None:
            data["sample_weight"] = self.client.upload(
                sample_weight, name="sample_weight", keras_dtypes=True
            ).id
        return data

    def _batch_data(self, batch: Batch) -> dict[str, Any]:
        if batch.y is None:
            raise ValueError("the data yields inputs without targets; fit needs (x, y)")
        return self._data(batch.x, batch.y, batch.sample_weight)

    def _validation(self, validation_data: Any, steps: int | None) -> dict[str, Any]:
        if _validation_arrays(validation_data):
            if len(validation_data) not in (2, 3):
                raise ValueError("validation_data is (x_val, y_val) or (x_val, y_val, weights)")
            return self._data(*validation_data)
        drawn = draw(validation_data, epochs=1, steps_per_epoch=steps, shuffle=False,
                     what="validation_data")  # fmt: skip
        return self._batch_data(drawn.epochs[0])

    # -- evaluate and predict --------------------------------------------------------

    def evaluate(
        self, x: Any = None, y: Any = None, batch_size: int | None = None, verbose: Any = "auto",
        sample_weight: Any = None, steps: int | None = None, callbacks: Any = None,
        return_dict: bool = False, **kwargs: Any,
    ) -> Any:  # fmt: skip
        """`model.evaluate`: the loss alone, `[loss, *metrics]`, or a dict with `return_dict`."""
        if self._compile is None:
            raise RuntimeError("You must call `compile()` before using the model (Keras)")
        started = time.perf_counter()
        if is_arrays(x):
            size = _batch_size(batch_size)
            data = self._data(x, y, sample_weight)
            samples = len(_first_array(x))
        else:
            drawn = draw(x, epochs=1, steps_per_epoch=steps, shuffle=False)
            data, size = self._batch_data(drawn.epochs[0]), drawn.batch_size
            samples = len(_first_array(drawn.epochs[0].x))
        job, checkpoint = self._weights_now()
        request = {**data, "batch_size": size, "compile": self._compile, "checkpoint": checkpoint}
        logs = self.client.evaluate(job, **request)
        print_steps(sys.stdout, verbose, -(-samples // size), time.perf_counter() - started, logs)
        if return_dict:
            return logs
        if len(logs) == 1:
            return logs["loss"]
        return [logs["loss"], *(value for name, value in logs.items() if name != "loss")]

    def evaluate_generator(self, generator: Any, steps: int | None = None, **kwargs: Any) -> Any:
        """Keras 2's `evaluate_generator`."""
        return self.evaluate(generator, steps=steps, verbose=kwargs.get("verbose", 0))

    def predict(
        self, x: Any, batch_size: int | None = None, verbose: Any = "auto",
        steps: int | None = None, callbacks: Any = None, **kwargs: Any,
    ) -> Any:  # fmt: skip
        """`model.predict`: an array per output (a list of them for several outputs).
        Inputs, or answers, larger than the service takes at once go in parts."""
        started = time.perf_counter()
        if not is_arrays(x):
            drawn = draw(x, epochs=1, steps_per_epoch=steps, shuffle=False)
            x, batch_size = drawn.epochs[0].x, drawn.batch_size
        self._build_from(x)
        arrays = self._input_arrays(x)
        size = _batch_size(batch_size)
        outputs = self._predict(arrays, size, *self._weights_now())
        print_steps(sys.stdout, verbose, -(-len(arrays[0]) // size), time.perf_counter() - started)
        return outputs[0] if len(outputs) == 1 else outputs

    def predict_generator(self, generator: Any, steps: int | None = None, **kwargs: Any) -> Any:
        """Keras 2's `predict_generator`."""
        return self.predict(generator, steps=steps, verbose=kwargs.get("verbose", 0))

    def predict_on_batch(self, x: Any) -> Any:
        return self.predict(x, batch_size=len(self._input_arrays(x)[0]), verbose=0)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      return_dict: bool = False) -> Any:  # fmt: skip
        size = len(self._input_arrays(x)[0])
        return self.evaluate(x, y, batch_size=size, sample_weight=sample_weight, verbose=0,
                             return_dict=return_dict)  # fmt: skip

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: Any = None, return_dict: bool = False) -> Any:  # fmt: skip
        """One optimizer step on one batch: a job of one epoch of one batch (each call
        is a job on the service: a loop of them is slow)."""
        size = len(self._input_arrays(x)[0])
        history = self.fit(x, y, batch_size=size, epochs=1, verbose=0, shuffle=False,
                           sample_weight=sample_weight, class_weight=class_weight)  # fmt: skip
        assert isinstance(history, History)
        logs = {k: v[-1] for k, v in history.history.items()}
        if return_dict:
            return logs
        return logs["loss"] if len(logs) == 1 else [logs["loss"], *(
            v for k, v in logs.items() if k != "loss")]  # fmt: skip

    def _predict(
        self, x: list[np.ndarray], batch_size: int, job: str, checkpoint: bool = False
    ) -> list[np.ndarray]:
        try:
            inputs = dict(zip(self.input_names, x, strict=True)) if len(x) > 1 else x[0]
            request = {"x": self._arrays(inputs, self.input_names, "x"), "batch_size": batch_size}
            result = self.client.predict(job, checkpoint=checkpoint, **request)
        except PayloadTooLarge:
            samples = len(x[0])
            if samples < 2:
                raise
            half = samples // 2
            head = self._predict([a[:half] for a in x], batch_size, job, checkpoint)
            tail = self._predict([a[half:] for a in x], batch_size, job, checkpoint)
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

    def _weights_now(self) -> tuple[str, bool]:
        """The job that holds the model's weights now, and whether at its newest
        checkpoint (a callback predicting while its fit runs: the latest epoch's)."""
        if self._fitting is not None:
            return self._fitting.job_id, True
        return self._weights_job(), False

    def _weights_job(self) -> str:
        """A job whose weights are the model's now (one that trains nothing, if needed)."""
        self._settle()
        return weights.materialize(self)  # type: ignore[arg-type]

    @property
    def job_id(self) -> str | None:
        """The job of the model's last `fit`."""
        return self._job


def _validation_arrays(validation_data: Any) -> bool:
    """`(x_val, y_val[, weights])` of arrays, rather than a dataset or generator."""
    return isinstance(validation_data, tuple | list) and is_arrays(validation_data[0])


def _first_array(x: Any) -> Any:
    if isinstance(x, Mapping):
        return np.asarray(next(iter(x.values())))
    if isinstance(x, list | tuple) and x and not np.isscalar(x[0]) and not isinstance(x[0], list):
        return np.asarray(x[0])
    return np.asarray(x)


def _batch_size(given: Any) -> int:
    """Keras's default of 32 for None; anything but a positive integer is a ValueError."""
    if given is None:
        return 32
    if isinstance(given, bool) or not isinstance(given, int | np.integer) or given < 1:
        raise ValueError(f"batch_size must be a positive integer; got {given!r}")
    return int(given)


def _without_none(fit: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fit.items() if v is not None}


def _split(callbacks: Sequence[Any]) -> tuple[list[Any], list[Callback]]:
    """The service's callbacks (as specs) and the user's (run here)."""
    service, client = [], []
    for callback in callbacks:
        if isinstance(callback, Callback):
            client.append(callback)
        elif isinstance(callback, KerasObject):
            service.append(jsonable(callback))
        else:
            raise TypeError(
                f"{type(callback).__name__} is not a Keras callback; subclass "
                "keras.callbacks.Callback (it runs in your process)"
            )
    return service, client


def _refuse_fit_options(kwargs: dict[str, Any]) -> None:
    for accepted in ("workers", "use_multiprocessing", "max_queue_size"):
        kwargs.pop(accepted, None)  # Keras 2's generator options: drawing is the SDK's
    if kwargs:
        raise TypeError(f"fit got unexpected arguments: {', '.join(kwargs)}")
