"""Callbacks that run in the user's process, on the job's live stream, with Keras's hooks.

`on_epoch_end(epoch, logs)` gets each finished epoch's logs as the job reports them;
`on_train_batch_end` is called for the progress reports (a few a second, not every
batch); `self.model` is the SDK model, and `self.model.stop_training = True` stops the
job after the current epoch (or batch), ending it `succeeded` with its weights, as
Keras's own stop does. A fit with callbacks of the user's own waits between epochs for
them (the service holds the next epoch until the client says go on), so what they
decide takes effect where Keras would apply it.

CSVLogger and TensorBoard write their files here from the stream; History,
ProgbarLogger and BackupAndRestore (the service already resumes a job after a lost
worker) are accepted.
"""

from __future__ import annotations

import csv
import math
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cornu.core.spec.callbacks import maximises

Logs = dict[str, Any]


class Callback:
    """Keras's `keras.callbacks.Callback`: override the hooks you need."""

    # Built-in callbacks that only record what happens set this: they need not hold the
    # job between epochs.
    observes_only = False

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self._model: Any = None

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def set_model(self, model: Any) -> None:
        self._model = model

    @property
    def model(self) -> Any:
        return self._model

    def on_train_begin(self, logs: Logs | None = None) -> None: ...

    def on_train_end(self, logs: Logs | None = None) -> None: ...

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None: ...

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None: ...

    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None: ...

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None: ...

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs: Logs | None = None) -> None: ...

    def on_test_end(self, logs: Logs | None = None) -> None: ...

    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None: ...

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None: ...

    def on_predict_begin(self, logs: Logs | None = None) -> None: ...

    def on_predict_end(self, logs: Logs | None = None) -> None: ...

    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None: ...

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None: ...

    def holds_epochs(self) -> bool:
        """Whether the job must wait for this callback between epochs (it may stop the
        training or change the learning rate there)."""
        if self.observes_only:
            return False
        own = type(self)
        return any(
            getattr(own, hook) is not getattr(Callback, hook)
            for hook in ("on_epoch_end", "on_epoch_begin")
        )


class LambdaCallback(Callback):
    """Keras's `LambdaCallback(on_epoch_begin=…, on_epoch_end=…, on_train_batch_end=…)`."""

    def __init__(
        self,
        on_epoch_begin: Callable[..., Any] | None = None,
        on_epoch_end: Callable[..., Any] | None = None,
        on_train_begin: Callable[..., Any] | None = None,
        on_train_end: Callable[..., Any] | None = None,
        on_train_batch_begin: Callable[..., Any] | None = None,
        on_train_batch_end: Callable[..., Any] | None = None,
        **kwargs: Callable[..., Any],
    ) -> None:
        super().__init__()
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin or kwargs.pop("on_batch_begin", None),
            "on_train_batch_end": on_train_batch_end or kwargs.pop("on_batch_end", None),
        }
        unknown = [k for k in kwargs if not k.startswith("on_")]
        if unknown:
            raise TypeError(f"LambdaCallback got unexpected arguments: {', '.join(unknown)}")
        self._hooks = {k: v for k, v in {**hooks, **kwargs}.items() if v is not None}
        for name, function in self._hooks.items():
            setattr(self, name, function)

    def holds_epochs(self) -> bool:
        return "on_epoch_end" in self._hooks or "on_epoch_begin" in self._hooks


class History(Callback):
    """Keras's `History`: `history.history["loss"]` lists each epoch's loss; `params`
    holds `epochs`, `steps` and `verbose`; `model` the model fit trained."""

    observes_only = True

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        return f"<History {', '.join(self.history)} over {len(self.epoch)} epochs>"


class ProgbarLogger(Callback):
    """Accepted: fit draws Keras's progress bar itself (its `verbose` argument)."""

    observes_only = True

    def __init__(self, count_mode: str = "samples") -> None:
        super().__init__()


class BackupAndRestore(Callback):
    """Accepted: the service checkpoints every epoch and resumes a job whose worker was
    lost from its last checkpoint, which is what this callback does in Keras."""

    observes_only = True

    def __init__(
        self,
        backup_dir: str | Path,
        save_freq: str | int = "epoch",
        double_checkpoint: bool = False,
        delete_checkpoint: bool = True,
    ) -> None:
        super().__init__()
        self.backup_dir = backup_dir


class CSVLogger(Callback):
    """Keras's `CSVLogger(filename, separator=",", append=False)`: one row per epoch,
    `epoch` first then the logs' keys in sorted order, written here as epochs end."""

    observes_only = True

    def __init__(self, filename: str | Path, separator: str = ",", append: bool = False) -> None:
        super().__init__()
        self.filename, self.separator, self.append = Path(filename), separator, append
        self._keys: list[str] | None = None
        self._header_written = False

    def on_train_begin(self, logs: Logs | None = None) -> None:
        exists = self.append and self.filename.exists() and self.filename.stat().st_size > 0
        self._header_written = bool(exists)
        if not self.append:
            self.filename.write_text("")
        self._keys = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            if self._keys and not any(k.startswith("val_") for k in self._keys):
                # Keras writes validation columns (NA) even for a fit without validation.
                self._keys += [f"val_{k}" for k in self._keys]
        row = {"epoch": epoch, **{k: _csv_value(logs.get(k, "NA")) for k in self._keys}}
        with self.filename.open("a", newline="") as out:
            writer = csv.DictWriter(out, ["epoch", *self._keys], delimiter=self.separator)
            if not self._header_written:
                writer.writeheader()
                self._header_written = True
            writer.writerow(row)


def _csv_value(value: Any) -> Any:
    return value if not isinstance(value, np.generic) else value.item()


class TensorBoard(Callback):
    """Keras's `TensorBoard(log_dir)`: each epoch's logs as scalars in event files under
    `log_dir/train` and `log_dir/validation` (the `val_` logs), named `epoch_<metric>`
    as Keras names them, written here with tensorboardX. Histograms, images and
    profiling need the model's tensors, which stay on the service: accepted, not written.
    """

    observes_only = True

    def __init__(self, log_dir: str | Path = "logs", **kwargs: Any) -> None:
        super().__init__()
        self.log_dir = Path(log_dir)
        self._writers: dict[str, Any] = {}

    def _writer(self, kind: str) -> Any:
        if kind not in self._writers:
            from tensorboardX import SummaryWriter

            self._writers[kind] = SummaryWriter(str(self.log_dir / kind))
        return self._writers[kind]

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        for key, value in (logs or {}).items():
            if not isinstance(value, int | float) or not math.isfinite(value):
                continue
            kind = "validation" if key.startswith("val_") else "train"
            name = key.removeprefix("val_")
            self._writer(kind).add_scalar(f"epoch_{name}", value, epoch)

    def on_train_end(self, logs: Logs | None = None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()


class ModelCheckpoint(Callback):
    """Keras's `ModelCheckpoint(filepath, monitor="val_loss", save_best_only=False,
    save_weights_only=False, mode="auto", save_freq="epoch", initial_value_threshold)`:
    after each epoch (the job waits for it), the model or its weights are written here,
    to `filepath` with Keras's `{epoch:02d}`/`{val_loss:.2f}` fields filled — the
    weights that epoch ended with. The model keeps training from the last epoch's
    weights, as in Keras. `save_freq` in batches saves at the epoch's end (the service
    holds an epoch's weights, not a batch's)."""

    def __init__(
        self,
        filepath: str | Path,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__()
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(
                f"Unrecognized save_freq: {save_freq}. Expected save_freq are 'epoch' or "
                "integer values"
            )
        plain = re.sub(r"\{[^}]*\}", "", Path(self.filepath).name)  # without {epoch} fields
        if "." not in plain:
            pass  # tf.keras 2's TensorFlow formats: save and save_weights say what they write
        elif save_weights_only and not self.filepath.endswith((".weights.h5", ".h5")):
            raise ValueError(
                "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath "
                "provided must end in `.weights.h5` (Keras weights format). Received: "
                f"filepath={self.filepath}"
            )
        elif not save_weights_only and not self.filepath.endswith((".keras", ".h5")):
            raise ValueError(
                "The filepath provided must end in `.keras` (Keras model format). "
                f"Received: filepath={self.filepath}"
            )
        maximise = mode == "max" or (mode == "auto" and maximises(monitor))
        self._better = (lambda a, b: a > b) if maximise else (lambda a, b: a < b)
        self.best = initial_value_threshold

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(
                    f"Can save best model only with {self.monitor} available, skipping.",
                    stacklevel=2,
                )
                return
            if self.best is not None and not self._better(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")  # fmt: skip
                return
            if self.verbose > 0:
                before = "inf" if self.best is None else f"{self.best:.5f}"
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {before} to "
                      f"{current:.5f}, saving model to {path}")  # fmt: skip
            self.best = current
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {path}")


class LearningRateScheduler(Callback):
    """Keras's `LearningRateScheduler(schedule, verbose=0)`: `schedule(epoch, lr)` (or
    `schedule(epoch)`) gives each epoch's learning rate. It is called here, before the
    job is sent, epoch after epoch from the optimizer's learning rate (rounded to
    float32 in between, as Keras's variable holds it); the service applies the table
    and logs `learning_rate`."""

    observes_only = True

    def __init__(self, schedule: Callable[..., Any], verbose: int = 0) -> None:
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def table(self, learning_rate: float, epochs: int, initial_epoch: int = 0) -> list[float]:
        """Each epoch's rate, by epoch index; a fit from `initial_epoch` calls the
        schedule from there (the epochs before it keep `learning_rate`, unused)."""
        current = float(np.float32(learning_rate))
        rates: list[float] = [current] * initial_epoch
        for epoch in range(initial_epoch, epochs):
            try:
                value = self.schedule(epoch, current)
            except TypeError:  # Keras's older form: schedule(epoch)
                value = self.schedule(epoch)
            if not isinstance(value, float | int | np.floating | np.integer):
                raise ValueError(
                    f'The output of the "schedule" function should be a float. Got: {value}'
                )
            current = float(np.float32(value))
            rates.append(current)
        return rates

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        if self.verbose > 0 and self.model is not None:
            rates = getattr(self, "_rates", None)
            if rates is not None and epoch < len(rates):
                print(
                    f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                    f"{rates[epoch]}."
                )


__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgbarLogger",
    "TensorBoard",
]
