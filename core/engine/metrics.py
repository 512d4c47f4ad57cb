"""Keras's metrics, computed over an epoch exactly as Keras does, on the device.

A metric accumulates sums in device tensors on every batch (no `.item()` there) and
reads its value once, at the end of the epoch. Mean metrics are weighted running
means (sample weights apply only to `weighted_metrics`, as in Keras); Precision,
Recall and AUC accumulate confusion counts at their thresholds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from cornu.core.engine import losses
from cornu.core.errors import SpecError
from cornu.core.spec.layers import KerasObject
from cornu.core.spec.metrics import ACCURACY_NAMES, METRIC_SPECS, MetricSpec
from cornu.core.spec.names import snake_case, unknown_name

Shape = tuple[int, ...]
SampleFn = Callable[[Tensor, Tensor], Tensor]
EPSILON = 1e-7


class Metric:
    """A running Keras metric: `update` per batch, `result` once per epoch."""

    def __init__(self, name: str) -> None:
        self.name = name

    def update(self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> None:
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError

    def fresh(self) -> Metric:
        """A copy with the same configuration and empty state (one per epoch)."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.reset()
        return clone

    def reset(self) -> None:
        raise NotImplementedError

    def get_state(self) -> dict[str, Any]:
        """What `set_state` needs to continue the running value (for checkpoints)."""
        raise NotImplementedError

    def set_state(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def sums(self) -> Tensor:
        """The state as one float64 vector of sums, its size fixed by the metric's
        configuration (zeros when empty): what replicas add up (`EpochLogs.merge`)."""
        raise NotImplementedError

    def set_sums(self, sums: Tensor, device: torch.device) -> None:
        """The state `sums` describes (a vector `sums()` gave, added up)."""
        raise NotImplementedError


class Mean(Metric):
    """Running mean of values, each weighted (Keras's `Mean`)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.reset()

    def reset(self) -> None:
        self.total: Tensor | None = None
        self.count: Tensor | float = 0.0

    def add(self, value: Tensor, count: Tensor | float, weight: float = 1.0) -> None:
        """Add `weight * value` to the total and `count` to the count."""
        value = value.detach()
        if self.total is None:
            self.total = value * weight
        else:
            self.total.add_(value, alpha=weight)
        self.count = self.count + count

    def result(self) -> float:
        if self.total is None:
            return 0.0
        count = float(self.count)
        return float(self.total.double().item() / count) if count else 0.0

    def get_state(self) -> dict[str, Any]:
        return {"total": self.total, "count": float(self.count)}

    def set_state(self, state: dict[str, Any]) -> None:
        self.total, self.count = state["total"], state["count"]

    def sums(self) -> Tensor:
        total = 0.0 if self.total is None else self.total.double().item()
        return torch.tensor([total, float(self.count)], dtype=torch.float64)

    def set_sums(self, sums: Tensor, device: torch.device) -> None:
        total, count = sums.tolist()
        self.total = torch.tensor(total, dtype=torch.float64, device=device)
        self.count = count


class MeanMetricWrapper(Mean):
    """The weighted mean of a per-sample function of `(y_true, y_pred)`."""

    def __init__(self, name: str, fn: SampleFn) -> None:
        super().__init__(name)
        self.fn = fn

    def update(self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> None:
        values = self.fn(y_true, y_pred).detach()
        if sample_weight is None:
            self.add(values.sum(), values.numel())
            return
        weights = sample_weight.reshape(-1, *([1] * (values.dim() - 1))).expand_as(values)
        self.add((values * weights).sum(), weights.sum().detach())


class RootMeanSquaredError(MeanMetricWrapper):
    def __init__(self, name: str = "root_mean_squared_error") -> None:
        super().__init__(name, lambda t, p: (t - p).square())

    def result(self) -> float:
        return float(super().result() ** 0.5)


def binary_accuracy(threshold: float = 0.5) -> SampleFn:
    def fn(y_true: Tensor, y_pred: Tensor) -> Tensor:
        return (y_true == (y_pred > threshold).to(y_true.dtype)).float().mean(dim=-1)

    return fn


def categorical_accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    return (y_true.argmax(dim=-1) == y_pred.argmax(dim=-1)).float()


def sparse_categorical_accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    return (y_true == y_pred.argmax(dim=-1)).float()


def _in_top_k(labels: Tensor, y_pred: Tensor, k: int) -> Tensor:
    # Keras's in_top_k: the label's score is among the k largest.
    target = y_pred.gather(-1, labels.unsqueeze(-1))
    return ((y_pred > target).sum(dim=-1) < k).float()


def top_k_categorical_accuracy(k: int = 5) -> SampleFn:
    return lambda y_true, y_pred: _in_top_k(y_true.argmax(dim=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(k: int = 5) -> SampleFn:
    return lambda y_true, y_pred: _in_top_k(y_true.long(), y_pred, k)


def accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Keras's `metrics.Accuracy`: the share of outputs equal to their targets."""
    y_true = y_true.reshape(y_pred.shape) if y_true.numel() == y_pred.numel() else y_true
    return (y_true == y_pred).float().reshape(len(y_pred), -1).mean(dim=-1)


def cosine_similarity(y_true: Tensor, y_pred: Tensor) -> Tensor:
    return -losses.CosineSimilarity().values(y_true, y_pred)


class ConfusionMetric(Metric):
    """True/false positives/negatives at thresholds (Precision, Recall, AUC)."""

    def __init__(self, name: str, thresholds: list[float]) -> None:
        super().__init__(name)
        self.thresholds = thresholds
        self._edges: Tensor | None = None
        self.reset()

    def reset(self) -> None:
        self.counts: Tensor | None = None  # (4, thresholds): tp, fp, tn, fn

    def update(self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> None:
        if self._edges is None or self._edges.device != y_pred.device:
            self._edges = torch.tensor(self.thresholds, device=y_pred.device, dtype=y_pred.dtype)
        predicted = y_pred.detach().reshape(y_pred.shape[0], -1, 1) > self._edges  # (N, k, T)
        actual = (y_true.reshape(y_true.shape[0], -1, 1) > 0.5).to(y_pred.dtype)
        weight = (
            torch.ones_like(actual)
            if sample_weight is None
            else sample_weight.reshape(-1, 1, 1).to(y_pred.dtype)
        )
        hit = predicted.to(y_pred.dtype)
        counts = torch.stack(
            [
                (hit * actual * weight).sum(dim=(0, 1)),
                (hit * (1 - actual) * weight).sum(dim=(0, 1)),
                ((1 - hit) * (1 - actual) * weight).sum(dim=(0, 1)),
                ((1 - hit) * actual * weight).sum(dim=(0, 1)),
            ]
        ).double()
        self.counts = counts if self.counts is None else self.counts + counts

    def get_state(self) -> dict[str, Any]:
        return {"counts": self.counts}

    def set_state(self, state: dict[str, Any]) -> None:
        self.counts = state["counts"]

    def sums(self) -> Tensor:
        if self.counts is None:
            return torch.zeros(4 * len(self.thresholds), dtype=torch.float64)
        return self.counts.detach().reshape(-1).double().cpu()

    def set_sums(self, sums: Tensor, device: torch.device) -> None:
        self.counts = sums.reshape(4, len(self.thresholds)).to(device)

    def _tp_fp_tn_fn(self) -> tuple[Tensor, ...]:
        if self.counts is None:
            zeros = torch.zeros(len(self.thresholds), dtype=torch.float64)
            return zeros, zeros, zeros, zeros
        tp, fp, tn, fn = self.counts.cpu()
        return tp, fp, tn, fn


def _divide(a: Tensor, b: Tensor) -> Tensor:
    """Keras's divide_no_nan."""
    return torch.where(b == 0, torch.zeros_like(a), a / torch.where(b == 0, torch.ones_like(b), b))


class Precision(ConfusionMetric):
    def __init__(self, name: str = "precision", thresholds: float | None = None) -> None:
        super().__init__(name, [0.5 if thresholds is None else float(thresholds)])

    def result(self) -> float:
        tp, fp, _, _ = self._tp_fp_tn_fn()
        return float(_divide(tp, tp + fp)[0])


class Recall(ConfusionMetric):
    def __init__(self, name: str = "recall", thresholds: float | None = None) -> None:
        super().__init__(name, [0.5 if thresholds is None else float(thresholds)])

    def result(self) -> float:
        tp, _, _, fn = self._tp_fp_tn_fn()
        return float(_divide(tp, tp + fn)[0])


class ConfusionCount(ConfusionMetric):
    """Keras's TruePositives, FalsePositives, TrueNegatives, FalseNegatives: the
    (weighted) count at `thresholds` (0.5 by default) over the epoch."""

    which = 0  # index in the counts: tp, fp, tn, fn

    def __init__(self, name: str, thresholds: float | None = None) -> None:
        super().__init__(name, [0.5 if thresholds is None else float(thresholds)])

    def result(self) -> float:
        return float(self._tp_fp_tn_fn()[self.which][0])


def _count(kind: str, which: int) -> type[ConfusionCount]:
    def init(self: ConfusionCount, name: str = kind, thresholds: float | None = None) -> None:
        ConfusionCount.__init__(self, name, thresholds)

    return type(kind, (ConfusionCount,), {"which": which, "__init__": init})


TruePositives = _count("true_positives", 0)
FalsePositives = _count("false_positives", 1)
TrueNegatives = _count("true_negatives", 2)
FalseNegatives = _count("false_negatives", 3)


class AUC(ConfusionMetric):
    """Keras's AUC: confusion counts at `num_thresholds` evenly spaced thresholds, summed
    with Keras's "interpolation" rule (trapezoids for ROC; Davis & Goadrich for PR)."""

    def __init__(
        self,
        name: str = "auc",
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        from_logits: bool = False,
    ) -> None:
        if num_thresholds < 2:
            raise SpecError("AUC: num_thresholds must be at least 2")
        if curve not in ("ROC", "PR") or summation_method not in (
            "interpolation",
            "minoring",
            "majoring",
        ):
            raise SpecError(
                "AUC: curve must be ROC or PR; summation_method interpolation, minoring or majoring"
            )
        inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        super().__init__(name, [0.0 - EPSILON, *inner, 1.0 + EPSILON])
        self.curve = curve
        self.summation_method = summation_method
        self.from_logits = from_logits

    def update(self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> None:
        super().update(y_true, torch.sigmoid(y_pred) if self.from_logits else y_pred, sample_weight)

    def result(self) -> float:
        tp, fp, tn, fn = self._tp_fp_tn_fn()
        if self.curve == "PR" and self.summation_method == "interpolation":
            return float(self._interpolate_pr(tp, fp, fn))
        recall = _divide(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide(fp, fp + tn), recall
        else:
            x, y = recall, _divide(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        return float(((x[:-1] - x[1:]) * heights).sum())

    @staticmethod
    def _interpolate_pr(tp: Tensor, fp: Tensor, fn: Tensor) -> Tensor:
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide(dtp, dp.clamp(min=0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = torch.where(both, _divide(p[:-1], p[1:].clamp(min=0)), torch.ones_like(p[1:]))
        increments = _divide(
            slope * (dtp + intercept * torch.log(ratio)), (tp[1:] + fn[1:]).clamp(min=0)
        )
        return increments.sum()


ACCURACY_ALIASES = ACCURACY_NAMES


def resolve_accuracy(y_shape: Shape, output_shape: Shape) -> SampleFn:
    """Keras 3's choice for `"accuracy"`, from the shapes of targets and outputs.

    Binary when the output has one unit; sparse categorical when targets have fewer
    axes than the output or one index per sample; categorical otherwise
    (`keras/src/trainers/compile_utils.py`, `get_metric`).
    """
    y_last = y_shape[-1] if y_shape else 1
    if output_shape[-1] == 1:
        return binary_accuracy()
    if len(y_shape) < len(output_shape) or (y_last == 1 and output_shape[-1] > 1):
        return sparse_categorical_accuracy
    return categorical_accuracy


# Functions by Keras name (history key: the name as written); each factory takes the
# metric's arguments when given as an object.
FUNCTIONS: dict[str, Callable[..., SampleFn]] = {
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": lambda: categorical_accuracy,
    "sparse_categorical_accuracy": lambda: sparse_categorical_accuracy,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
    "cosine_similarity": lambda: cosine_similarity,
}
FUNCTION_ALIASES = {"acc": "accuracy"}
# Classes by Keras class name; their history key is the object's name.
CLASSES: dict[str, Callable[..., Metric]] = {
    "AUC": AUC,
    "TruePositives": TruePositives,
    "FalsePositives": FalsePositives,
    "TrueNegatives": TrueNegatives,
    "FalseNegatives": FalseNegatives,
    "Precision": Precision,
    "Recall": Recall,
    "RootMeanSquaredError": RootMeanSquaredError,
}


def _loss_metric(name: str) -> SampleFn | None:
    """Any Keras loss function is also a metric (mae, mse, binary_crossentropy, …)."""
    try:
        loss = losses.get(name)
    except SpecError:
        return None
    return loss.values


def get(spec: str | KerasObject | MetricSpec, y_shape: Shape, output_shape: Shape) -> Metric:
    """The metric a spec names, with Keras's history key: a string keeps its exact
    spelling (`"acc"` → `acc`, `"AUC"` → `AUC`); an object takes its `name`, or its
    class's default name (`{"type": "AUC"}` → `auc`, `BinaryAccuracy` → `binary_accuracy`)."""
    name, args = (spec, {}) if isinstance(spec, str) else (spec.type, spec.args)
    given = args.pop("name", None)
    args.pop("dtype", None)
    # "BinaryAccuracy" is the class of the function "binary_accuracy": the same metric.
    key = snake_case(name) if name[:1].isupper() else name

    def named(metric: Metric) -> Metric:
        metric.name = spec if isinstance(spec, str) else (given or metric.name)
        return metric

    if not isinstance(spec, str) and name == "Accuracy":  # the class: exact equality
        return named(MeanMetricWrapper("accuracy", accuracy))
    if key.lower() in ACCURACY_ALIASES:
        return named(MeanMetricWrapper(key, resolve_accuracy(y_shape, output_shape)))
    try:
        if name in CLASSES:
            return named(CLASSES[name](**args))
        if key in FUNCTIONS:
            return named(MeanMetricWrapper(key, FUNCTIONS[key](**args)))
    except TypeError:
        raise SpecError(f"metric {name!r} does not take the arguments {sorted(args)}") from None
    loss = METRIC_SPECS[name].loss if name in METRIC_SPECS else None  # LogCoshError: log_cosh
    fn = _loss_metric(loss or name) if not args else None
    if fn is None:
        valid = [*ACCURACY_ALIASES, *FUNCTIONS, *CLASSES, "mae", "mse", "any loss's name"]
        raise SpecError(unknown_name("metric", name, valid))
    return named(MeanMetricWrapper(key, fn))
