"""Keras's `compile` and `fit`, carried out by the service.

`fit` takes the data as Keras does (arrays, a PyDataset, a generator; see
`cornu.data_adapters`), uploads it (each content once), submits the job, and follows its
live stream with Keras's progress bar and the user's own callbacks; Ctrl-C cancels the
job. The model's layers then hold the weights the job trained (`cornu.weights`).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from cornu import weights
from cornu.callbacks.client import Callback, History, LearningRateScheduler
from cornu.callbacks.runner import ClientCallbacks
from cornu.capture import current_capture
from cornu.core.errors import CornuError, JobFailed
from cornu.core.spec import JobStatus
from cornu.data_adapters import Batch, as_arrays, draw, is_arrays
from cornu.model_data import batch_size_of, first_array, validation_arrays
from cornu.objects import KerasObject, jsonable
from cornu.optimizers import optimizer_object
from cornu.prediction import Predictor
from cornu.remote_job import RemoteJob, follow
from cornu.utils.rng import job_seed


class Trainer(Predictor):
    """Keras's `Trainer`: what `Model` and `Sequential` share for training and inference."""

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
        """Keras's `compile`. `jit_compile=True` trains the model under torch.compile on
        the worker (Keras 3's torch backend) and `steps_per_execution` spaces the
        batch-level callbacks as in Keras; `run_eagerly` is how Keras runs its own step,
        accepted."""
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
        if jit_compile is True:
            self._compile["jit_compile"] = True
        if steps_per_execution != 1:
            self._compile["steps_per_execution"] = steps_per_execution

    def _compile_now(self) -> dict[str, Any] | None:
        """compile's arguments as the service takes them, with the optimizer as it is
        now: a rate set since compile (by the user, a callback or a scheduler) holds."""
        if self._compile is None:
            return None
        return {**self._compile, "optimizer": jsonable(self.optimizer)}

    @property
    def metrics_names(self) -> list[str]:
        """Keras 3's names: `["loss"]`, and `"compile_metrics"` for all compiled metrics
        together (Keras 3 no longer lists them one by one; evaluate's `return_dict=True`
        names each)."""
        compiled = self._compile or {}
        has_metrics = bool(compiled.get("metrics") or compiled.get("weighted_metrics"))
        return ["loss", "compile_metrics"] if has_metrics else ["loss"]

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
        name: str | None = None,
        tags: Sequence[str] = (),
        **kwargs: Any,
    ) -> History | RemoteJob:
        """Train on the service; returns Keras's History (or the job, with `wait=False`).
        Cornu's own arguments: `name` and `tags` tell the run apart on the service (the job
        list filters by tag); `seed`; `wait`."""
        if self._compile is None:
            raise RuntimeError("You must call `compile()` before using the model (Keras)")
        if "nb_epoch" in kwargs:  # Keras 1's name, which Keras 2 still took with a warning
            epochs = kwargs.pop("nb_epoch")
            warnings.warn("The `nb_epoch` argument in `fit` has been renamed `epochs`.",
                          stacklevel=2)  # fmt: skip
        _refuse_fit_options(kwargs)
        self._settle()
        service_callbacks, client_callbacks = _split(callbacks or [])
        fit: dict[str, Any] = {"epochs": epochs, "initial_epoch": initial_epoch, "shuffle": shuffle}
        if validation_data is not None:
            validation_split = 0.0  # Keras: validation_data overrides it
        fit |= {"batch_size": batch_size, "steps_per_epoch": steps_per_epoch,
                "validation_split": validation_split}  # fmt: skip
        data, steps = self._training_data(x, y, sample_weight, fit)
        if validation_data is not None:
            fit["validation_data"] = self._validation(validation_data, validation_steps)
            # Drawn validation data holds validation_steps batches already.
            drawn = fit["validation_data"].get("type") != "timeseries"
            drawn = drawn and not validation_arrays(validation_data)
            fit["validation_steps"] = None if drawn else validation_steps
        fit |= {"validation_batch_size": validation_batch_size, "validation_freq": validation_freq}
        if class_weight is not None:
            fit["class_weight"] = {str(k): float(v) for k, v in class_weight.items()}
        capture = current_capture()
        fit["seed"] = seed if seed is not None else capture.seed if capture else job_seed()
        if client_callbacks and capture is not None:
            warnings.warn(
                "a study's trials run on the service: your own callbacks "
                f"({', '.join(type(c).__name__ for c in client_callbacks)}) do not run in "
                "them; the service's callbacks (EarlyStopping, …) do",
                stacklevel=2,
            )
            client_callbacks = []
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
        fit["callbacks"] = [*service_callbacks, *self._schedules(client_callbacks, fit)]
        runner.epoch_begin(initial_epoch)
        fit["client_callbacks"] = runner.holds_epochs
        spec = self._compiled_spec()
        fit["initial_weights"] = weights.initial_weights(self, spec)  # type: ignore[arg-type]
        body = {"model": spec, "compile": self._compile_now(), "fit": _without_none(fit),
                "data": data, "name": name, "tags": list(tags)}  # fmt: skip
        if capture is not None:
            capture.bodies.append(body)
            capture.fitted.add(id(self))
            return History()
        job = self.client.submit(body)
        self._job, self._job_spec = job.id, spec
        if not wait:
            return RemoteJob(self.client, job.id)
        self.history = self._follow(job.id, fit["epochs"], verbose, runner)
        return self.history

    def _training_data(
        self, x: Any, y: Any, sample_weight: Any, fit: dict[str, Any]
    ) -> tuple[Any, int]:
        """The training data as the job takes it (arrays uploaded; a generator's epochs
        drawn and uploaded one by one, `fit` updated with what they say) and the steps
        of an epoch (Keras's History.params["steps"])."""
        if is_arrays(x):
            if x is None or (y is None and not self._unsupervised_ok()):
                raise ValueError("give the training data: fit(x, y, …) with arrays")
            x, y, sample_weight = as_arrays(x), as_arrays(y), as_arrays(sample_weight)
            fit["batch_size"] = size = batch_size_of(fit["batch_size"])
            self._build_from(x)
            data = self._data(x, y, sample_weight)
            # Keras trains on the first int(n * (1 - validation_split)) samples.
            trained = int(len(first_array(x)) * (1 - fit["validation_split"]))
            return data, fit["steps_per_epoch"] or -(-trained // size)
        if fit["validation_split"]:
            raise ValueError(
                "`validation_split` is only supported for Tensors or NumPy arrays, not "
                "for a dataset or generator: pass validation_data instead (Keras)"
            )
        if y is not None:
            raise ValueError(
                "`y` cannot be given when x is a dataset or generator: it yields the "
                "targets with the inputs (Keras)"
            )
        windows = self._timeseries(x)
        if windows is not None:  # the worker cuts the windows: nothing drawn here
            fit["batch_size"] = windows["batch_size"]
            return windows, fit["steps_per_epoch"] or len(x)

        def send(batch: Batch) -> dict[str, Any]:
            self._build_from(batch.x)  # the first epoch's tells a new model its input
            return self._batch_data(batch)

        initial = fit["initial_epoch"]
        drawn = draw(x, epochs=fit["epochs"] - initial, steps_per_epoch=fit["steps_per_epoch"],
                     shuffle=fit["shuffle"], send=send)  # fmt: skip
        each = drawn.epochs
        if len(each) > 1 or drawn.stopped_early:  # each epoch its own: as many as drawn
            fit["epochs"] = initial + len(each)
        fit |= {"batch_size": drawn.batch_size, "shuffle": drawn.shuffle, "steps_per_epoch": None}
        return (each if len(each) > 1 else each[0]), drawn.steps

    def _follow(self, job_id: str, epochs: int, verbose: Any, runner: ClientCallbacks) -> History:
        """Follow the job to its end, the user's callbacks meanwhile reading its weights;
        then the layers hold what it trained. JobFailed unless it succeeded."""
        self._fitting = weights.Fitting(job_id)
        for layer in self._layers():
            layer._fitting = self._fitting
        try:
            follow(self, job_id, epochs, verbose, runner)
        except KeyboardInterrupt:
            with contextlib.suppress(CornuError):  # it may have ended meanwhile
                self.client.cancel(job_id)
            raise
        finally:
            self._fitting = None
            for layer in self._layers():
                layer._fitting = None
        done = self.client.job(job_id)
        if done.status is not JobStatus.succeeded:
            self._settled = job_id
            raise JobFailed(f"job {job_id} {done.status.value}: {done.error or 'cancelled'}")
        weights.trained(job_id, self._job_spec, self._layers())  # what _settle would do
        self._settled = job_id
        history = runner.history
        history.params = {**history.params, "job": job_id}
        rates = history.history.get("learning_rate")
        if rates and isinstance(getattr(self.optimizer, "learning_rate", None), int | float):
            self.optimizer.learning_rate = rates[-1]  # a scheduler changed it, as in Keras
        runner.train_end(done.metrics)
        return history

    def fit_generator(self, generator: Any, steps_per_epoch: int | None = None,
                      epochs: int = 1, **kwargs: Any) -> History | RemoteJob:  # fmt: skip
        """Keras 2's `fit_generator`: `fit` on a generator or PyDataset (its `workers`,
        `use_multiprocessing` and `max_queue_size` are taken and left alone by fit)."""
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs, **kwargs)

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
                table = callback.table(float(rate), fit["epochs"], fit["initial_epoch"])
                callback._rates = table  # type: ignore[attr-defined]
                out.append({"type": "LearningRateScheduler", "schedule": table})
        return out


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
