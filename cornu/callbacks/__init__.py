"""Keras's callbacks that run on the service: EarlyStopping, ReduceLROnPlateau,
ModelCheckpoint (the job's weights are the kept ones) and TerminateOnNaN."""

from __future__ import annotations

from cornu.core.spec.callbacks import CALLBACK_SPECS
from cornu.objects import family, missing

# Keras's positional arguments of the callbacks the service runs.
POSITIONAL: dict[str, tuple[str, ...]] = {
    "EarlyStopping": ("monitor", "min_delta", "patience"),
    "ReduceLROnPlateau": ("monitor", "factor", "patience"),
    "ModelCheckpoint": ("filepath", "monitor"),
}
_CLASSES = family({name: POSITIONAL.get(name, ()) for name in CALLBACK_SPECS}, __name__)
globals().update(_CLASSES)
__getattr__ = missing(
    "callback",
    _CLASSES,
    "; callbacks run on the service (a Python callback of your own would run user code there)",
)


__all__ = list(_CLASSES)
