"""Keras's callbacks that run on the service, inside the training loop: EarlyStopping,
ReduceLROnPlateau and TerminateOnNaN. (The service's ModelCheckpoint, which keeps the
best epoch's weights as the job's, is for JobSpecs; the SDK's writes files, as Keras's.)"""

from __future__ import annotations

from cornu.objects import family

# Keras's positional arguments of the callbacks the service runs.
POSITIONAL: dict[str, tuple[str, ...]] = {
    "EarlyStopping": ("monitor", "min_delta", "patience"),
    "ReduceLROnPlateau": ("monitor", "factor", "patience"),
}
# The service's callbacks the SDK makes by name alone (LearningRateScheduler is the SDK's
# own, which turns a function into the service's table).
_PLAIN = ["EarlyStopping", "ReduceLROnPlateau", "TerminateOnNaN"]
_CLASSES = family({name: POSITIONAL.get(name, ()) for name in _PLAIN}, __name__)
EarlyStopping = _CLASSES["EarlyStopping"]
ReduceLROnPlateau = _CLASSES["ReduceLROnPlateau"]
TerminateOnNaN = _CLASSES["TerminateOnNaN"]


__all__ = ["EarlyStopping", "ReduceLROnPlateau", "TerminateOnNaN"]
