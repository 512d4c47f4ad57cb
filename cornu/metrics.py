"""Keras's metrics as objects (`metrics.AUC(curve="PR")`); a metric may also be given by
name in `compile(metrics=["accuracy"])`."""

from __future__ import annotations

from typing import Any

from cornu.objects import family

_CLASSES = family(
    dict.fromkeys(
        (
            "Accuracy",
            "BinaryAccuracy",
            "CategoricalAccuracy",
            "SparseCategoricalAccuracy",
            "TopKCategoricalAccuracy",
            "SparseTopKCategoricalAccuracy",
            "AUC",
            "Precision",
            "Recall",
            "MeanAbsoluteError",
            "MeanSquaredError",
            "RootMeanSquaredError",
            "MeanAbsolutePercentageError",
        ),
        (),
    ),
    __name__,
)
globals().update(_CLASSES)


def __getattr__(name: str) -> Any:
    raise AttributeError(f"cornu.metrics has no {name!r} (it has {', '.join(_CLASSES)})")


__all__ = list(_CLASSES)
