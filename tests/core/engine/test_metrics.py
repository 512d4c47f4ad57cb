"""Metrics: Keras 3's resolution of "accuracy" and its running means."""

from __future__ import annotations

import pytest
import torch

from core.engine import metrics
from core.engine.metrics import (
    binary_accuracy,
    categorical_accuracy,
    resolve_accuracy,
    sparse_categorical_accuracy,
)
from core.errors import SpecError


@pytest.mark.parametrize(
    ("y_shape", "output_shape", "expected"),
    [
        ((), (1,), binary_accuracy),  # IMDB: labels (n,), Dense(1, sigmoid)
        ((1,), (1,), binary_accuracy),
        ((), (10,), sparse_categorical_accuracy),  # MNIST with integer labels
        ((1,), (10,), sparse_categorical_accuracy),
        ((10,), (10,), categorical_accuracy),  # one-hot labels
        ((46,), (46,), categorical_accuracy),
    ],
)
def test_accuracy_is_resolved_from_shapes_as_keras_3_does(
    y_shape: tuple[int, ...], output_shape: tuple[int, ...], expected: object
) -> None:
    assert resolve_accuracy(y_shape, output_shape) is expected


def test_history_key_is_the_name_as_written() -> None:
    assert metrics.get("acc", (), (10,)).name == "acc"
    assert metrics.get("mae", (1,), (1,)).name == "mae"


def test_running_mean_over_batches_of_different_sizes() -> None:
    metric = metrics.get("accuracy", (), (3,))
    probs = torch.tensor([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
    metric.update(torch.tensor([0, 1]), probs[:2])  # 2 of 2 right
    metric.update(torch.tensor([0]), probs[2:])  # 0 of 1 right
    assert metric.result() == pytest.approx(2 / 3)


def test_binary_accuracy_thresholds_at_one_half() -> None:
    values = binary_accuracy(
        torch.tensor([[1.0], [0.0], [1.0]]), torch.tensor([[0.6], [0.4], [0.5]])
    )
    assert values.flatten().tolist() == [1.0, 1.0, 0.0]


def test_mae_metric() -> None:
    metric = metrics.get("mae", (2,), (2,))
    metric.update(torch.tensor([[1.0, 2.0]]), torch.tensor([[1.5, 1.0]]))
    assert metric.result() == pytest.approx(0.75)


def test_unknown_metric() -> None:
    with pytest.raises(SpecError, match="unknown metric 'accuracyy'; did you mean 'accuracy'"):
        metrics.get("accuracyy", (), (3,))
