"""Keras's callbacks. Those that act inside the training loop run on the service
(EarlyStopping, ReduceLROnPlateau, TerminateOnNaN); the others, and every callback of
your own, run in this process on the job's live stream (Callback, LambdaCallback,
ModelCheckpoint, LearningRateScheduler, CSVLogger, TensorBoard, History, …)."""

from __future__ import annotations

from cornu.callbacks.client import (
    BackupAndRestore,
    Callback,
    CSVLogger,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgbarLogger,
    TensorBoard,
)
from cornu.callbacks.service import EarlyStopping, ReduceLROnPlateau, TerminateOnNaN
from cornu.objects import missing

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TensorBoard",
    "TerminateOnNaN",
]

__getattr__ = missing(
    "callback",
    __all__,
    "; Cornu does not have this callback (subclass callbacks.Callback to write your own: it "
    "runs in your process)",
)
