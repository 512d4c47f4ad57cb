"""Keras callbacks a job may ask for, with Keras's arguments and defaults."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, NonNegativeFloat, NonNegativeInt

from cornu.core.spec.layers import keras_object

Mode = Literal["auto", "min", "max"]


class _Callback(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EarlyStopping(_Callback):
    """Stop when `monitor` has not improved by `min_delta` for `patience` epochs."""

    type: Literal["EarlyStopping"] = "EarlyStopping"
    monitor: str = "val_loss"
    min_delta: NonNegativeFloat = 0.0
    patience: NonNegativeInt = 0
    verbose: int = 0
    mode: Mode = "auto"
    baseline: float | None = None
    restore_best_weights: bool = False
    start_from_epoch: NonNegativeInt = 0


class ReduceLROnPlateau(_Callback):
    """Multiply the learning rate by `factor` when `monitor` stops improving."""

    type: Literal["ReduceLROnPlateau"] = "ReduceLROnPlateau"
    monitor: str = "val_loss"
    factor: float = Field(default=0.1, gt=0.0, lt=1.0)
    patience: NonNegativeInt = 10
    verbose: int = 0
    mode: Mode = "auto"
    min_delta: NonNegativeFloat = 1e-4
    cooldown: NonNegativeInt = 0
    min_lr: NonNegativeFloat = 0.0


class ModelCheckpoint(_Callback):
    """Keep the weights of the best epoch (`save_best_only`) or of the last one.

    Cornu stores the kept weights as the job's weights; `filepath` is accepted for
    Keras compatibility and ignored.
    """

    type: Literal["ModelCheckpoint"] = "ModelCheckpoint"
    filepath: str | None = None
    monitor: str = "val_loss"
    verbose: int = 0
    save_best_only: bool = False
    save_weights_only: bool = False
    mode: Mode = "auto"
    save_freq: Literal["epoch"] = "epoch"
    initial_value_threshold: float | None = None


class LearningRateScheduler(_Callback):
    """Keras's `LearningRateScheduler(schedule)`, with the schedule as a table: the
    learning rate of each epoch, index 0 first (the SDK calls the user's Python function
    to fill it before submitting; no user code runs here). Each epoch's logs gain
    `learning_rate`, as in Keras."""

    type: Literal["LearningRateScheduler"] = "LearningRateScheduler"
    schedule: list[Annotated[float, Field(ge=0.0, allow_inf_nan=False)]] = Field(
        min_length=1, max_length=100_000
    )
    verbose: int = 0


class TerminateOnNaN(_Callback):
    """Stop (and fail the job) at the first batch whose loss is NaN or infinite."""

    type: Literal["TerminateOnNaN"] = "TerminateOnNaN"


CALLBACK_SPECS: dict[str, type[_Callback]] = {
    c.model_fields["type"].default: c
    for c in (
        EarlyStopping,
        ReduceLROnPlateau,
        ModelCheckpoint,
        TerminateOnNaN,
        LearningRateScheduler,
    )
}

AnyCallback = Annotated[
    EarlyStopping | ReduceLROnPlateau | ModelCheckpoint | TerminateOnNaN | LearningRateScheduler,
    Field(discriminator="type"),
    BeforeValidator(keras_object),
]


# The metrics Keras's "auto" mode expects to rise (their `_direction` is "up"), by name.
_RISING = ("acc", "auc", "precision", "recall", "f1", "fbeta", "fmeasure", "io_u", "r2",
           "cosine_similarity", "correlation")  # fmt: skip


def maximises(monitor: str) -> bool:
    """Keras's "auto" mode (keras/src/callbacks/monitor_callback.py, each metric's
    `_direction`): accuracy-like metrics rise; losses and errors fall."""
    name = monitor.removeprefix("val_")
    return any(word in name for word in _RISING)
