"""Keras's metrics as objects (`metrics.AUC(curve="PR")`); a metric may also be given by
name in `compile(metrics=["accuracy"])`."""

from __future__ import annotations

from cornu.objects import family, missing

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


__getattr__ = missing("metric", _CLASSES)


__all__ = list(_CLASSES)
