"""Keras's initializers: bounds and variances from Keras's VarianceScaling formulas."""

from __future__ import annotations

import math

import pytest
import torch

from cornu.core.engine import initializers
from cornu.core.errors import SpecError
from cornu.core.spec.layers import KerasObject


@pytest.mark.parametrize(
    ("name", "variance"),
    [
        ("glorot_uniform", 2 / (300 + 200)),
        ("glorot_normal", 2 / (300 + 200)),
        ("he_uniform", 2 / 300),
        ("he_normal", 2 / 300),
        ("lecun_uniform", 1 / 300),
        ("lecun_normal", 1 / 300),
    ],
)
def test_variance_scaling_family(name: str, variance: float) -> None:
    torch.manual_seed(0)
    t = torch.empty(300, 200)
    initializers.get(name)(t, (300, 200))
    assert t.var().item() == pytest.approx(variance, rel=0.05)
    if name.endswith("uniform"):
        assert t.abs().max().item() <= math.sqrt(3 * variance)
    else:  # truncated at two (corrected) standard deviations, as Keras does
        assert t.abs().max().item() <= 2 * math.sqrt(variance) / 0.87962566103423978


def test_conv_kernel_fans_include_the_receptive_field() -> None:
    assert initializers.compute_fans((3, 3, 16, 32)) == (144.0, 288.0)


def test_class_names_and_arguments_are_accepted() -> None:
    t = torch.empty(400, 300)
    initializers.get("GlorotUniform")(t, (400, 300))
    assert t.abs().max().item() <= math.sqrt(6 / 700)
    scaled = KerasObject(
        type="VarianceScaling", scale=3.0, mode="fan_out", distribution="uniform", seed=1
    )
    initializers.get(scaled)(t, (400, 300))
    assert t.var().item() == pytest.approx(3.0 / 300, rel=0.05)
    initializers.get(KerasObject(type="Constant", value=0.25))(t, (400, 300))
    assert torch.all(t == 0.25)


def test_orthogonal_columns_are_orthonormal() -> None:
    t = torch.empty(64, 32)
    initializers.get("orthogonal")(t, (64, 32))
    torch.testing.assert_close(t.T @ t, torch.eye(32), atol=1e-5, rtol=0)


def test_unknown_initializer_lists_valid_names() -> None:
    with pytest.raises(SpecError, match="unknown initializer 'glorot'.*glorot_uniform"):
        initializers.get("glorot")
