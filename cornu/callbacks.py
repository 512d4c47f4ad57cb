"""Keras's callbacks that run on the service: EarlyStopping, ReduceLROnPlateau,
ModelCheckpoint (the job's weights are the kept ones) and TerminateOnNaN."""

from __future__ import annotations

from typing import Any

from cornu.objects import family

_CLASSES = family(
    {
        "EarlyStopping": ("monitor", "min_delta", "patience"),
        "ReduceLROnPlateau": ("monitor", "factor", "patience"),
        "ModelCheckpoint": ("filepath", "monitor"),
        "TerminateOnNaN": (),
    },
    __name__,
)
globals().update(_CLASSES)


def __getattr__(name: str) -> Any:
    raise AttributeError(
        f"cornu.callbacks has no {name!r}: callbacks run on the service, which has "
        f"{', '.join(_CLASSES)} (a Python callback of your own would run user code there)"
    )


__all__ = list(_CLASSES)
