"""Each loss against a value computed by hand with Keras's formula."""

from __future__ import annotations

import math

import pytest
import torch

from core.engine import losses
from core.errors import SpecError

Y_TRUE = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
Y_PRED = torch.tensor([[0.2, 0.8], [0.6, 0.4]])


def test_mse_and_mae() -> None:
    # per sample: mean over the last axis; then mean over the batch
    mse = ((0.2**2 + 0.2**2) / 2 + (0.4**2 + 0.4**2) / 2) / 2
    mae = ((0.2 + 0.2) / 2 + (0.4 + 0.4) / 2) / 2
    assert losses.get("mse")(Y_TRUE, Y_PRED).item() == pytest.approx(mse)
    assert losses.get("mean_absolute_error")(Y_TRUE, Y_PRED).item() == pytest.approx(mae)


def test_categorical_crossentropy() -> None:
    expected = (-math.log(0.8) - math.log(0.6)) / 2
    assert losses.get("categorical_crossentropy")(Y_TRUE, Y_PRED).item() == pytest.approx(expected)


def test_categorical_crossentropy_renormalises_and_clips_as_keras() -> None:
    y_pred = torch.tensor([[0.0, 2.0]])  # sums to 2: Keras divides by the sum first
    got = losses.get("categorical_crossentropy")(torch.tensor([[1.0, 0.0]]), y_pred).item()
    assert got == pytest.approx(-math.log(1e-7))


def test_sparse_categorical_crossentropy() -> None:
    labels = torch.tensor([1, 0])
    expected = (-math.log(0.8) - math.log(0.6)) / 2
    loss = losses.get("sparse_categorical_crossentropy")
    assert loss(labels, Y_PRED).item() == pytest.approx(expected)


def test_binary_crossentropy() -> None:
    y_true, y_pred = torch.tensor([[1.0], [0.0]]), torch.tensor([[0.9], [0.3]])
    expected = (-math.log(0.9) - math.log(0.7)) / 2
    assert losses.get("binary_crossentropy")(y_true, y_pred).item() == pytest.approx(expected)


@pytest.mark.parametrize(
    ("name", "targets", "activation"),
    [
        ("categorical_crossentropy", torch.eye(5)[torch.tensor([0, 3, 1])], "softmax"),
        ("sparse_categorical_crossentropy", torch.tensor([0, 3, 1]), "softmax"),
        ("binary_crossentropy", torch.tensor([[1.0], [0.0], [1.0]]), "sigmoid"),
    ],
)
def test_from_logits_equals_from_probabilities(
    name: str, targets: torch.Tensor, activation: str
) -> None:
    loss = losses.get(name)
    logits = torch.randn(3, 5 if activation == "softmax" else 1, requires_grad=True)
    probs = torch.softmax(logits, -1) if activation == "softmax" else torch.sigmoid(logits)
    fused, plain = loss.from_logits(targets, logits), loss(targets, probs)
    torch.testing.assert_close(fused, plain)
    (g_fused,) = torch.autograd.grad(fused, logits)
    (g_plain,) = torch.autograd.grad(plain, logits)
    torch.testing.assert_close(g_fused, g_plain)


def test_class_names_and_aliases() -> None:
    assert isinstance(losses.get("MeanSquaredError"), losses.MeanSquaredError)
    assert isinstance(
        losses.get("SparseCategoricalCrossentropy"), losses.SparseCategoricalCrossentropy
    )


def test_unknown_loss() -> None:
    with pytest.raises(SpecError, match="unknown loss 'mse2'.*mean_squared_error"):
        losses.get("mse2")


def test_one_hot_width_mismatch_is_explained() -> None:
    problem = losses.get("categorical_crossentropy").check_targets((7,), (10,))
    assert problem is not None
    assert "one-hot targets y have shape (7,) per sample but the model outputs (10,)" in problem
    assert "(10 classes)" in problem


def test_class_indices_with_categorical_crossentropy_suggest_the_sparse_loss() -> None:
    problem = losses.get("categorical_crossentropy").check_targets((), (10,))
    assert problem is not None and "use sparse_categorical_crossentropy" in problem


@pytest.mark.parametrize("y_shape", [(), (1,)])
def test_sparse_targets_are_one_index_per_sample(y_shape: tuple[int, ...]) -> None:
    loss = losses.get("sparse_categorical_crossentropy")
    assert loss.check_targets(y_shape, (10,)) is None
    assert "use categorical_crossentropy" in str(loss.check_targets((10,), (10,)))


def test_binary_targets_may_omit_the_unit_axis() -> None:
    assert losses.get("binary_crossentropy").check_targets((), (1,)) is None
