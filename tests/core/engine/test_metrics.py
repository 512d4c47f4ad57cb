"""Metrics against Keras 3's results and names (tests/data/keras/metrics.json, made by
real Keras), and Keras 3's resolution of "accuracy"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from cornu.core.engine import metrics
from cornu.core.engine.metrics import (
    categorical_accuracy,
    resolve_accuracy,
    sparse_categorical_accuracy,
)
from cornu.core.errors import SpecError
from cornu.core.spec.layers import KerasObject

KERAS = json.loads((Path(__file__).parents[2] / "data" / "keras" / "metrics.json").read_text())


def tensor(name: str) -> torch.Tensor:
    values = KERAS["inputs"][name]
    return torch.tensor(values, dtype=torch.int64 if name.endswith("sparse") else torch.float32)


@pytest.mark.parametrize("case", sorted(KERAS["cases"]))
def test_matches_keras_and_keeps_its_name(case: str) -> None:
    spec: dict[str, Any] = KERAS["cases"][case]
    y_true, y_pred = tensor(spec["y_true"]), tensor(spec["y_pred"])
    if y_true.dim() == 1 and not spec["y_true"].endswith("sparse"):  # binary: (n,) → (n, 1)
        y_true, y_pred = y_true[:, None], y_pred[:, None]
    metric = metrics.get(KerasObject(type=spec["class"], **spec["kwargs"]), (), (1,))
    metric.update(y_true, y_pred)
    assert metric.result() == pytest.approx(KERAS["values"][case], rel=1e-5)
    assert metric.name == spec["name"]


@pytest.mark.parametrize(
    ("identifier", "output_shape"),
    [
        ("accuracy", (1,)),
        ("acc", (1,)),
        ("mae", (1,)),
        ("AUC", (1,)),
        ("Precision", (1,)),
        ("top_k_categorical_accuracy", (10,)),
    ],
)
def test_a_string_keeps_its_spelling_as_the_history_key(
    identifier: str, output_shape: tuple[int, ...]
) -> None:
    y_shape = output_shape
    assert metrics.get(identifier, y_shape, output_shape).name == identifier


def test_running_weighted_means_over_batches_of_different_sizes() -> None:
    metric = metrics.get("accuracy", (), (3,))
    probs = torch.tensor([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
    metric.update(torch.tensor([0, 1]), probs[:2])  # 2 of 2 right
    metric.update(torch.tensor([0]), probs[2:], torch.tensor([2.0]))  # 0 of 1 right, weight 2
    assert metric.result() == pytest.approx(2 / 4)


@pytest.mark.parametrize(
    ("y_shape", "output_shape", "expected"),
    [
        ((), (1,), "binary"),  # IMDB: labels (n,), Dense(1, sigmoid)
        ((1,), (1,), "binary"),
        ((), (10,), sparse_categorical_accuracy),  # MNIST with integer labels
        ((1,), (10,), sparse_categorical_accuracy),
        ((10,), (10,), categorical_accuracy),  # one-hot labels
    ],
)
def test_accuracy_is_resolved_from_shapes_as_keras_3_does(
    y_shape: tuple[int, ...], output_shape: tuple[int, ...], expected: object
) -> None:
    resolved = resolve_accuracy(y_shape, output_shape)
    if expected == "binary":
        assert resolved.__qualname__.startswith("binary_accuracy")
    else:
        assert resolved is expected


def test_any_loss_is_a_metric() -> None:
    metric = metrics.get("huber", (2,), (2,))
    metric.update(torch.tensor([[0.0, 0.0]]), torch.tensor([[0.5, 2.0]]))
    assert metric.result() == pytest.approx((0.125 + 1.5) / 2)


def test_unknown_metric() -> None:
    with pytest.raises(SpecError, match="unknown metric 'accuracyy'; did you mean 'accuracy'"):
        metrics.get("accuracyy", (), (3,))
