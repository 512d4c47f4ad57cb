"""Every Keras loss against the value Keras 3 computes for the same inputs
(tests/data/keras/losses.json, made by real Keras), plus hand-computed checks of the
reduction and of the logits path."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch

from cornu.core.engine import losses
from cornu.core.engine.losses import reduce
from cornu.core.errors import SpecError
from cornu.core.spec.layers import KerasObject

KERAS = json.loads((Path(__file__).parents[2] / "data" / "keras" / "losses.json").read_text())
INPUTS = KERAS["inputs"]
INTEGER_INPUTS = {"y_true_sparse", "ctc_y_true"}


def tensor(name: str) -> torch.Tensor:
    dtype = torch.int64 if name in INTEGER_INPUTS else torch.float32
    return torch.tensor(INPUTS[name], dtype=dtype)


@pytest.mark.parametrize("case", sorted(KERAS["cases"]))
def test_matches_keras(case: str) -> None:
    spec: dict[str, Any] = KERAS["cases"][case]
    loss = losses.get(KerasObject(type=spec["class"], **spec["kwargs"]))
    y_true, y_pred = tensor(spec["y_true"]), tensor(spec["y_pred"])
    weight = tensor(spec["sample_weight"]) if "sample_weight" in spec else None
    values = loss.values(y_true, y_pred)
    got = reduce(values, weight, loss.mask(y_true)).item()
    assert got == pytest.approx(KERAS["values"][case], rel=1e-5, abs=1e-6)
    if "per_sample" in spec:
        expected = torch.tensor(spec["per_sample"], dtype=torch.float32)
        mask = loss.mask(y_true)
        shown = values if mask is None else torch.where(mask, values, torch.zeros_like(values))
        torch.testing.assert_close(shown.reshape(expected.shape), expected, rtol=1e-5, atol=1e-6)


def test_mse_by_hand() -> None:
    y_true, y_pred = torch.tensor([[1.0, 2.0], [3.0, -1.0]]), torch.tensor([[1.5, 1.0], [2.0, 0.5]])
    per_sample = [(0.25 + 1.0) / 2, (1.0 + 2.25) / 2]
    assert reduce(losses.get("mse").values(y_true, y_pred)).item() == pytest.approx(
        sum(per_sample) / 2
    )


def test_sample_weights_divide_by_the_count_not_the_weights() -> None:
    values = torch.tensor([1.0, 3.0])
    assert reduce(values, torch.tensor([0.5, 2.0])).item() == pytest.approx((0.5 + 6.0) / 2)


def test_a_mask_averages_over_valid_entries_only() -> None:
    values = torch.tensor([[1.0, 5.0, 3.0]])
    mask = torch.tensor([[True, False, True]])
    assert reduce(values, None, mask).item() == pytest.approx(2.0, rel=1e-6)


def test_categorical_crossentropy_renormalises_and_clips_as_keras() -> None:
    y_pred = torch.tensor([[0.0, 2.0]])  # sums to 2: Keras divides by the sum first
    values = losses.get("categorical_crossentropy").values(torch.tensor([[1.0, 0.0]]), y_pred)
    assert values.item() == pytest.approx(-math.log(1e-7))


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
    assert loss.fuses == activation
    logits = torch.randn(3, 5 if activation == "softmax" else 1, requires_grad=True)
    probs = torch.softmax(logits, -1) if activation == "softmax" else torch.sigmoid(logits)
    fused = reduce(loss.values_from_logits(targets, logits))
    plain = reduce(loss.values(targets, probs))
    torch.testing.assert_close(fused, plain)
    (g_fused,) = torch.autograd.grad(fused, logits)
    (g_plain,) = torch.autograd.grad(plain, logits)
    torch.testing.assert_close(g_fused, g_plain)


def test_a_loss_given_logits_fuses_nothing() -> None:
    assert losses.get(KerasObject(type="BinaryCrossentropy", from_logits=True)).fuses is None


def test_names_aliases_and_class_names() -> None:
    for name in ("mse", "mean_squared_error", "MeanSquaredError", "MSE"):
        assert isinstance(losses.get(name), losses.MeanSquaredError)
    assert isinstance(losses.get("kld"), losses.KLDivergence)
    assert isinstance(losses.get("huber_loss"), losses.Huber)


def test_unknown_loss_and_bad_arguments() -> None:
    with pytest.raises(SpecError, match="unknown loss 'mse2'.*mean_squared_error"):
        losses.get("mse2")
    with pytest.raises(SpecError, match="loss 'huber' does not take the arguments \\['delta2'\\]"):
        losses.get(KerasObject(type="Huber", delta2=1.0))
    with pytest.raises(SpecError, match="label_smoothing must be in"):
        losses.get(KerasObject(type="CategoricalCrossentropy", label_smoothing=2.0))


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


def test_ctc_targets_are_label_sequences_no_longer_than_the_output() -> None:
    ctc = losses.get("ctc")
    assert ctc.check_targets((4,), (6, 5)) is None
    assert "no longer than time_steps" in str(ctc.check_targets((8,), (6, 5)))
