"""Dense, Dropout, Flatten, Activation: shapes and parameter counts as Keras reports
them, and outputs and gradients equal to hand-built torch modules."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from core.engine.layers import LAYERS, ShapeError
from core.spec import layers as spec


@pytest.mark.parametrize(
    ("layer", "input_shape", "output_shape", "params"),
    [
        # The numbers Keras's model.summary() prints for the same layers.
        (spec.Dense(units=512), (784,), (512,), 401_920),
        (spec.Dense(units=10), (512,), (10,), 5_130),
        (spec.Dense(units=64), (64,), (64,), 4_160),
        (spec.Dense(units=32), (10, 8), (10, 32), 288),
        (spec.Dense(units=3, use_bias=False), (4,), (3,), 12),
        (spec.Flatten(), (26, 26, 32), (21_632,), 0),
        (spec.Flatten(), (7,), (7,), 0),
        (spec.Dropout(rate=0.5), (5, 3), (5, 3), 0),
        (spec.Activation(activation="relu"), (5, 3), (5, 3), 0),
    ],
)
def test_shapes_and_parameter_counts_match_keras(
    layer: spec.LayerSpec, input_shape: tuple[int, ...], output_shape: tuple[int, ...], params: int
) -> None:
    built = LAYERS[layer.type](layer, input_shape)
    assert built.output_shape == output_shape
    assert sum(p.numel() for p in built.parameters()) == params
    x = torch.randn(2, *input_shape)
    assert tuple(built(x).shape) == (2, *output_shape)


def test_dense_needs_a_feature_axis() -> None:
    with pytest.raises(ShapeError, match="at least one feature axis"):
        LAYERS["Dense"](spec.Dense(units=3), ())


@pytest.mark.parametrize("activation", [None, "relu", "sigmoid", "tanh", "softmax"])
def test_dense_equals_linear_with_the_transposed_kernel(activation: str | None) -> None:
    dense = LAYERS["Dense"](spec.Dense(units=5, activation=activation), (7,))
    linear = nn.Linear(7, 5)
    with torch.no_grad():
        linear.weight.copy_(dense.kernel.T)  # Keras stores (in, out); torch (out, in)
        linear.bias.copy_(dense.bias)
    act = {
        None: lambda t: t,
        "relu": torch.relu,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "softmax": lambda t: torch.softmax(t, -1),
    }[activation]
    x = torch.randn(9, 7)
    ours, reference = dense(x), act(linear(x))
    torch.testing.assert_close(ours, reference)
    weights = torch.randn(9, 5)
    (ours * weights).sum().backward()
    (reference * weights).sum().backward()
    torch.testing.assert_close(dense.kernel.grad.T, linear.weight.grad)
    torch.testing.assert_close(dense.bias.grad, linear.bias.grad)


def test_dense_on_a_sequence_acts_on_the_last_axis() -> None:
    dense = LAYERS["Dense"](spec.Dense(units=4), (6, 3))
    x = torch.randn(2, 6, 3)
    torch.testing.assert_close(dense(x), x @ dense.kernel + dense.bias)


def test_dense_initialises_as_keras_glorot_uniform_and_zero_bias() -> None:
    torch.manual_seed(0)
    dense = LAYERS["Dense"](spec.Dense(units=512), (784,))
    limit = math.sqrt(6 / (784 + 512))
    kernel = dense.kernel.detach()
    assert kernel.abs().max() <= limit
    assert kernel.var().item() == pytest.approx(limit**2 / 3, rel=0.02)
    assert torch.count_nonzero(dense.bias) == 0


def test_not_trainable_dense_has_no_gradients() -> None:
    dense = LAYERS["Dense"](spec.Dense(units=2, trainable=False), (3,))
    assert not any(p.requires_grad for p in dense.parameters())


def test_dropout_drops_and_rescales_only_while_training() -> None:
    torch.manual_seed(0)
    dropout = LAYERS["Dropout"](spec.Dropout(rate=0.25), (10_000,))
    x = torch.ones(1, 10_000)
    y = dropout.train()(x)
    kept = y[y != 0]
    assert (y == 0).float().mean().item() == pytest.approx(0.25, abs=0.02)
    torch.testing.assert_close(kept, torch.full_like(kept, 1 / 0.75))
    assert torch.equal(dropout.eval()(x), x)


def test_flatten_is_channels_last_order() -> None:
    flatten = LAYERS["Flatten"](spec.Flatten(), (2, 2, 3))
    x = torch.arange(12.0).reshape(1, 2, 2, 3)  # (batch, H, W, C) as Keras takes images
    assert flatten(x).tolist() == [list(range(12))]
