"""Keras's metrics as objects (`metrics.AUC(curve="PR")`) and as functions
(`metrics.binary_accuracy`, any loss function), given to `compile(metrics=…)`, where the
service computes them.

A metric object also works on its own, as in Keras (`update_state(y_true, y_pred)`,
`result()`, `reset_state()`), computed here with numpy: the running (sample-weighted)
mean of a per-sample value, or confusion counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from cornu.core.spec.metrics import METRIC_FUNCTIONS, METRIC_SPECS
from cornu.losses import FUNCTIONS as LOSS_FUNCTIONS
from cornu.objects import KerasObject, functions, missing

Values = Callable[[np.ndarray, np.ndarray, dict[str, Any]], np.ndarray]


def _squeeze_labels(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        return y_true[..., 0]
    return y_true


def _per_sample(values: np.ndarray) -> np.ndarray:
    return values.reshape(values.shape[0], -1).mean(axis=1) if values.ndim > 1 else values


# Per-sample values of the metrics that are running means (Keras's MeanMetricWrapper).
_VALUES: dict[str, Values] = {
    "Accuracy": lambda t, p, c: (t == p).astype(np.float64),
    "BinaryAccuracy": lambda t, p, c: (
        (p > c.get("threshold", 0.5)).astype(np.float64) == t
    ).astype(np.float64),
    "CategoricalAccuracy": lambda t, p, c: (t.argmax(-1) == p.argmax(-1)).astype(np.float64),
    "SparseCategoricalAccuracy": lambda t, p, c: (
        _squeeze_labels(t, p).astype(np.int64) == p.argmax(-1)
    ).astype(np.float64),
    "TopKCategoricalAccuracy": lambda t, p, c: _in_top_k(t.argmax(-1), p, c.get("k", 5)),
    "SparseTopKCategoricalAccuracy": lambda t, p, c: _in_top_k(
        _squeeze_labels(t, p).astype(np.int64), p, c.get("k", 5)
    ),
    "MeanSquaredError": lambda t, p, c: np.mean((t - p) ** 2, axis=-1),
    "MeanAbsoluteError": lambda t, p, c: np.mean(np.abs(t - p), axis=-1),
    "MeanAbsolutePercentageError": lambda t, p, c: (
        100.0 * np.mean(np.abs((t - p) / np.maximum(np.abs(t), 1e-7)), axis=-1)
    ),
    "RootMeanSquaredError": lambda t, p, c: np.mean((t - p) ** 2, axis=-1),
}
_COUNTS = {"TruePositives": 0, "FalsePositives": 1, "TrueNegatives": 2, "FalseNegatives": 3}


def _in_top_k(labels: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    top = np.argsort(-y_pred, axis=-1)[..., :k]
    return (top == labels[..., None]).any(axis=-1).astype(np.float64)


class Metric(KerasObject):
    """A Keras metric: by name for `compile`, or computing on its own here."""

    kind: ClassVar[str] = "mean"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reset_state()

    def reset_state(self) -> None:
        self._total = 0.0
        self._count = 0.0
        self._confusion = np.zeros(4)

    def update_state(self, y_true: Any, y_pred: Any = None, sample_weight: Any = None) -> None:
        """Add a batch: `(y_true, y_pred)`, or the values themselves for Mean and Sum."""
        kind = self.type
        if kind in ("Mean", "Sum"):
            values = np.asarray(y_true, dtype=np.float64).reshape(-1)
            weights = _weights(sample_weight, values.shape[0])
            self._total += float((values * weights).sum())
            self._count += float(weights.sum()) if kind == "Mean" else 0.0
            return
        truth = np.asarray(y_true, dtype=np.float64)
        predicted = np.asarray(y_pred, dtype=np.float64)
        if kind in _VALUES:
            values = _per_sample(np.asarray(_VALUES[kind](truth, predicted, self.config)))
            weights = _weights(sample_weight, values.shape[0])
            self._total += float((values * weights).sum())
            self._count += float(weights.sum())
        elif kind in ("Precision", "Recall", *_COUNTS):
            threshold = self.config.get("thresholds", 0.5)
            hit = (predicted > (0.5 if threshold is None else threshold)).reshape(len(truth), -1)
            actual = (truth > 0.5).reshape(len(truth), -1)
            weights = _weights(sample_weight, len(truth))[:, None]
            self._confusion += [
                float((weights * (hit & actual)).sum()),
                float((weights * (hit & ~actual)).sum()),
                float((weights * (~hit & ~actual)).sum()),
                float((weights * (~hit & actual)).sum()),
            ]
        else:
            raise NotImplementedError(
                f"{kind} computes on the service only: give it to compile(metrics=[…]) and "
                "read it from fit's history or evaluate"
            )

    def result(self) -> np.float32:
        """The metric's value so far (Keras returns a scalar tensor; here a float32)."""
        kind = self.type
        tp, fp, _, fn = self._confusion
        if kind in _COUNTS:
            value = self._confusion[_COUNTS[kind]]
        elif kind == "Precision":
            value = tp / (tp + fp) if tp + fp else 0.0
        elif kind == "Recall":
            value = tp / (tp + fn) if tp + fn else 0.0
        elif kind == "Sum":
            value = self._total
        else:
            value = self._total / self._count if self._count else 0.0
            if kind == "RootMeanSquaredError":
                value = float(np.sqrt(value))
        return np.float32(value)

    def reset_states(self) -> None:
        """Keras 2's name of `reset_state`."""
        self.reset_state()


def _weights(sample_weight: Any, count: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(count)
    return np.broadcast_to(np.asarray(sample_weight, dtype=np.float64).reshape(-1), (count,))


_CLASSES: dict[str, type[Metric]] = {
    name: type(name, (Metric,), {"type": name, "__module__": __name__}) for name in METRIC_SPECS
}
# Mean and Sum only compute here: a model's compiled metrics are computed from outputs.
_LOCAL = {
    name: type(name, (Metric,), {"type": name, "__module__": __name__}) for name in ("Mean", "Sum")
}
globals().update(_CLASSES)
globals().update(_LOCAL)

FUNCTIONS = {
    **{name: f for name, f in LOSS_FUNCTIONS.items() if name not in ("ctc", "dice", "tversky")},
    **functions(METRIC_FUNCTIONS, "metric"),
}
globals().update(FUNCTIONS)


__getattr__ = missing("metric", [*_CLASSES, *_LOCAL, *FUNCTIONS])


__all__ = list(_CLASSES)
