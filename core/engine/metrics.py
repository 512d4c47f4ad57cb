"""Keras's metrics as running means over an epoch, accumulated on the device.

`update` adds to device tensors and never synchronises (no `.item()` in the training
step); `result` reads the value once, at the end of the epoch.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

from core.errors import SpecError
from core.spec.names import unknown_name

Shape = tuple[int, ...]
SampleFn = Callable[[Tensor, Tensor], Tensor]


def binary_accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    return (y_true == (y_pred > 0.5).to(y_true.dtype)).float()


def categorical_accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    return (y_true.argmax(dim=-1) == y_pred.argmax(dim=-1)).float()


def sparse_categorical_accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    return (y_true == y_pred.argmax(dim=-1)).float()


def mean_absolute_error(y_true: Tensor, y_pred: Tensor) -> Tensor:
    return (y_true - y_pred).abs()


def mean_squared_error(y_true: Tensor, y_pred: Tensor) -> Tensor:
    return (y_true - y_pred).square()


class Mean:
    """Running mean of values, weighted by how many each batch holds (Keras's `Mean`)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.total: Tensor | None = None
        self.count = 0

    def add(self, value_sum: Tensor, count: int) -> None:
        if self.total is None:
            self.total = value_sum.detach().clone()
        else:
            self.total.add_(value_sum.detach())
        self.count += count

    def result(self) -> float:
        if self.total is None or self.count == 0:
            return 0.0
        return float(self.total.double().item() / self.count)


class MeanMetric(Mean):
    """A metric that averages a per-element function of `(y_true, y_pred)`."""

    def __init__(self, name: str, fn: SampleFn) -> None:
        super().__init__(name)
        self.fn = fn

    def update(self, y_true: Tensor, y_pred: Tensor) -> None:
        values = self.fn(y_true, y_pred)
        self.add(values.sum(), values.numel())


METRICS: dict[str, SampleFn] = {
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "mean_absolute_error": mean_absolute_error,
    "mae": mean_absolute_error,
    "mean_squared_error": mean_squared_error,
    "mse": mean_squared_error,
}
ACCURACY_ALIASES = ("accuracy", "acc")


def resolve_accuracy(y_shape: Shape, output_shape: Shape) -> SampleFn:
    """Keras 3's choice for `"accuracy"`, from the shapes of targets and outputs.

    Binary when the output has one unit; sparse categorical when targets have fewer
    axes than the output or one index per sample; categorical otherwise
    (`keras/src/trainers/compile_utils.py`, `get_metric`).
    """
    y_last = y_shape[-1] if y_shape else 1
    if output_shape[-1] == 1:
        return binary_accuracy
    if len(y_shape) < len(output_shape) or (y_last == 1 and output_shape[-1] > 1):
        return sparse_categorical_accuracy
    return categorical_accuracy


def get(name: str, y_shape: Shape, output_shape: Shape) -> MeanMetric:
    """The metric called `name`; its history key is the name as the user wrote it."""
    if name.lower() in ACCURACY_ALIASES:
        return MeanMetric(name, resolve_accuracy(y_shape, output_shape))
    fn = METRICS.get(name)
    if fn is None:
        valid = [*ACCURACY_ALIASES, *METRICS]
        raise SpecError(unknown_name("metric", name, valid), loc=("compile", "metrics"))
    return MeanMetric(name, fn)
