"""Keras's `evaluate` and `predict` (and their Keras 2 forms), computed by the service
with the model's weights as they are now: its last fit's, those set, or — from a
callback while a fit runs — that fit's latest epoch's."""

from __future__ import annotations

import sys
import time
import warnings
from typing import Any

import numpy as np

from cornu import weights
from cornu.capture import refuse_while_capturing
from cornu.core.errors import PayloadTooLarge
from cornu.core.spec import JobStatus
from cornu.data_adapters import as_arrays, draw, is_arrays
from cornu.model_data import ModelBase, batch_size_of, first_array
from cornu.progress import print_steps


class Predictor(ModelBase):
    """Keras's inference methods; the weights they use (`_weights_now`)."""

    def evaluate(
        self, x: Any = None, y: Any = None, batch_size: int | None = None, verbose: Any = "auto",
        sample_weight: Any = None, steps: int | None = None, callbacks: Any = None,
        return_dict: bool = False, **kwargs: Any,
    ) -> Any:  # fmt: skip
        """`model.evaluate`: the loss alone, `[loss, *metrics]`, or a dict with `return_dict`."""
        if self._compile is None:
            raise RuntimeError("You must call `compile()` before using the model (Keras)")
        started = time.perf_counter()
        windows = None if steps is not None else self._timeseries(x)
        if windows is not None:  # the series goes once; the worker cuts the windows
            data, size, batches = {"x": windows}, windows["batch_size"], len(x)
        elif is_arrays(x):
            x, y, sample_weight = as_arrays(x), as_arrays(y), as_arrays(sample_weight)
            size = batch_size_of(batch_size)
            data = self._data(x, y, sample_weight)
            batches = -(-len(first_array(x)) // size)
        else:
            drawn = draw(x, epochs=1, steps_per_epoch=steps, shuffle=False)
            data, size = self._batch_data(drawn.epochs[0]), drawn.batch_size
            batches = -(-len(first_array(drawn.epochs[0].x)) // size)
        job, checkpoint = self._weights_now()
        request = {**data, "batch_size": size, "compile": self._compile, "checkpoint": checkpoint}
        logs = self.client.evaluate(job, **request)
        print_steps(sys.stdout, verbose, batches, time.perf_counter() - started, logs)
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
        windows = None if steps is not None else self._timeseries(x)
        if windows is not None:
            try:  # one prediction per window, in the windows' order
                job, checkpoint = self._weights_now()
                answer = self.client.predict(job, checkpoint=checkpoint, x=windows)
                outputs = self._answer_arrays(answer)
                print_steps(sys.stdout, verbose, len(x), time.perf_counter() - started)
                return outputs[0] if len(outputs) == 1 else outputs
            except PayloadTooLarge:
                pass  # more answers than one response holds: windows drawn, sent in parts
        if not is_arrays(x):
            drawn = draw(x, epochs=1, steps_per_epoch=steps, shuffle=False)
            x, batch_size = drawn.epochs[0].x, drawn.batch_size
        x = as_arrays(x)
        self._build_from(x)
        arrays = self._input_arrays(x)
        size = batch_size_of(batch_size)
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

    def _predict(
        self, x: list[np.ndarray], batch_size: int, job: str, checkpoint: bool = False
    ) -> list[np.ndarray]:
        try:
            inputs = dict(zip(self.input_names, x, strict=True)) if len(x) > 1 else x[0]
            request = {"x": self._arrays(inputs, self.input_names, "x"), "batch_size": batch_size}
            try:
                result = self.client.predict(job, checkpoint=checkpoint, **request)
            except PayloadTooLarge:  # more than a JSON answer holds: as a file
                result = self.client.predict(job, checkpoint=checkpoint, answer="npy", **request)
        except PayloadTooLarge:  # more than a file answer holds: in halves
            samples = len(x[0])
            if samples < 2:
                raise
            half = samples // 2
            head = self._predict([a[:half] for a in x], batch_size, job, checkpoint)
            tail = self._predict([a[half:] for a in x], batch_size, job, checkpoint)
            return [np.concatenate(pair) for pair in zip(head, tail, strict=True)]
        return self._answer_arrays(result)

    @staticmethod
    def _answer_arrays(result: Any) -> list[np.ndarray]:
        """A predict answer (one list, or one per output by name) as arrays."""
        if isinstance(result, dict):
            return [np.asarray(result[name], dtype=np.float32) for name in result]
        return [np.asarray(result, dtype=np.float32)]

    def _weights_now(self) -> tuple[str, bool]:
        """The job that holds the model's weights now, and whether at its newest
        checkpoint (a callback predicting while its fit runs: the latest epoch's)."""
        if self._fitting is not None:
            return self._fitting.job_id, True
        return self._weights_job(), False

    def _weights_job(self) -> str:
        """A job whose weights are the model's now (one that trains nothing, if needed)."""
        refuse_while_capturing(self)
        self._settle()
        return weights.materialize(self)  # type: ignore[arg-type]

    def _settle(self) -> None:
        """Take the outcome of the last fit (one sent with wait=False may have ended
        since): its layers' weights are the job's once it succeeded; a failed or
        cancelled fit leaves them as they were, as in Keras."""
        job_id = self._job
        if job_id is None or job_id == self._settled:
            return
        status = self.client.job(job_id).status
        if not status.finished:
            raise RuntimeError(
                f"this model's last fit (job {job_id}) is still {status}: wait for it "
                "(RemoteJob.wait()) or cancel it first"
            )
        if status is JobStatus.succeeded:
            weights.trained(job_id, self._job_spec, self._layers())
        else:
            warnings.warn(
                f"job {job_id} {status}; the model keeps the weights it had", stacklevel=3
            )
        self._settled = job_id

    @property
    def job_id(self) -> str | None:
        """The job of the model's last `fit`."""
        return self._job
