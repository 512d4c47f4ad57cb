"""Core, activation, regularization layers and Flatten: shapes and parameter counts as
Keras reports them, outputs and gradients equal to hand-built torch modules, and
Keras's weight penalties and constraints."""

from __future__ import annotations

import math
import re

import pytest
import torch
from torch import nn

from cornu.core.engine.layers import LAYERS, ShapeError
from cornu.core.spec.layers import activations, core, parse_layer, regularization, reshaping
from tests.core.engine.layers import more_reference as more


class spec:  # noqa: N801  (the layer specs by Keras name, as the tests read best)
    Dense = core.Dense
    Activation = activations.Activation
    Dropout = regularization.Dropout
    Flatten = reshaping.Flatten
    LayerSpec = core.LayerSpec


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
    assert built.count_params() == (params, params)
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


def test_keras_weights_are_named_and_laid_out_as_keras() -> None:
    dense = LAYERS["Dense"](spec.Dense(units=3), (5,))
    weights = dense.keras_weights()
    assert list(weights) == ["kernel", "bias"] and weights["kernel"].shape == (5, 3)


def test_l2_penalty_is_l2_times_the_sum_of_squares() -> None:
    layer = parse_layer(
        {
            "type": "Dense",
            "units": 2,
            "kernel_regularizer": {"type": "l2", "l2": 0.5},
            "kernel_initializer": "ones",
        }
    )
    dense = LAYERS["Dense"](layer, (3,))
    assert dense.regularization_loss().item() == pytest.approx(0.5 * 6)  # 6 ones


def test_string_regularizers_use_kerass_default_factor() -> None:
    layer = parse_layer(
        {"type": "Dense", "units": 2, "kernel_regularizer": "l1", "bias_regularizer": "l1_l2"}
    )
    assert layer.kernel_regularizer.l1 == 0.01
    assert (layer.bias_regularizer.l1, layer.bias_regularizer.l2) == (0.01, 0.01)


def test_max_norm_constraint_caps_each_units_incoming_norm() -> None:
    layer = parse_layer(
        {"type": "Dense", "units": 2, "kernel_constraint": {"type": "MaxNorm", "max_value": 1.0}}
    )
    dense = LAYERS["Dense"](layer, (4,))
    with torch.no_grad():
        dense.kernel.fill_(3.0)  # each column has norm 6
    dense.apply_constraints()
    torch.testing.assert_close(dense.kernel.norm(dim=0), torch.ones(2), atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    ("args", "x", "expected"),
    [
        ({"type": "ReLU"}, [-2.0, 0.5, 9.0], [0.0, 0.5, 9.0]),
        ({"type": "ReLU", "max_value": 6.0}, [-2.0, 0.5, 9.0], [0.0, 0.5, 6.0]),
        (
            {"type": "ReLU", "negative_slope": 0.1, "threshold": 1.0},
            [-2.0, 0.5, 9.0],
            [-0.3, -0.05, 9.0],
        ),
        ({"type": "LeakyReLU"}, [-2.0, 3.0], [-0.6, 3.0]),  # Keras 3's slope: 0.3
        ({"type": "LeakyReLU", "alpha": 0.1}, [-2.0, 3.0], [-0.2, 3.0]),  # tf.keras 2's name
    ],
)
def test_activation_layers(args: dict[str, object], x: list[float], expected: list[float]) -> None:
    layer = LAYERS[str(args["type"])](parse_layer(args), (len(x),))
    torch.testing.assert_close(layer(torch.tensor([x])), torch.tensor([expected]))


def test_softmax_layer_on_the_last_axis() -> None:
    layer = LAYERS["Softmax"](parse_layer({"type": "Softmax"}), (3,))
    x = torch.randn(2, 3)
    torch.testing.assert_close(layer(x), torch.softmax(x, -1))
    assert layer.activation_name == "softmax"  # a cross-entropy may use its logits


def test_spatial_dropout_drops_whole_channels() -> None:
    torch.manual_seed(0)
    layer = LAYERS["SpatialDropout2D"](
        parse_layer({"type": "SpatialDropout2D", "rate": 0.5}), (4, 4, 64)
    )
    y = layer.train()(torch.ones(2, 4, 4, 64))
    per_channel = y.amax(dim=(1, 2))
    assert torch.equal(y, per_channel[:, None, None, :].expand_as(y))  # constant over H, W
    assert 0 < (per_channel == 0).float().mean() < 1


@pytest.mark.parametrize(
    ("kind", "good", "layout"),
    [("SpatialDropout1D", (5, 3), "(steps, channels)"),
     ("SpatialDropout2D", (4, 4, 3), "(H, W, channels)"),
     ("SpatialDropout3D", (2, 2, 2, 3), "(D, H, W, channels)")],
)  # fmt: skip
def test_spatial_dropouts_take_their_rank_and_share_draws_per_channel(
    kind: str, good: tuple[int, ...], layout: str
) -> None:
    spec = parse_layer({"type": kind, "rate": 0.5})
    assert LAYERS[kind].compute_output_shape(spec, good) == good
    with pytest.raises(ShapeError, match=f"{kind} needs {re.escape(layout)} inputs"):
        LAYERS[kind].compute_output_shape(spec, (*good, 2))
    torch.manual_seed(1)
    y = LAYERS[kind](spec, good).train()(torch.ones(8, *good))
    first = y[(slice(None), *[slice(0, 1)] * (len(good) - 1))]
    assert torch.equal(y, first.expand_as(y))  # one draw per sample and channel
    assert (first == 0).any() and (first == 2).any()  # dropped, or kept and scaled by 1/0.5
    assert torch.equal(LAYERS[kind](spec, good).eval()(torch.ones(2, *good)), torch.ones(2, *good))


def test_dropout_noise_shape_shares_the_mask_along_none_axes() -> None:
    torch.manual_seed(0)
    layer = LAYERS["Dropout"](
        parse_layer({"type": "Dropout", "rate": 0.5, "noise_shape": [None, 1, 8]}), (5, 8)
    )
    y = layer.train()(torch.ones(3, 5, 8))
    assert torch.equal(y, y[:, :1, :].expand_as(y))


def test_gaussian_noise_only_while_training() -> None:
    layer = LAYERS["GaussianNoise"](parse_layer({"type": "GaussianNoise", "stddev": 0.5}), (1000,))
    x = torch.zeros(4, 1000)
    assert torch.equal(layer.eval()(x), x)
    assert layer.train()(x).std().item() == pytest.approx(0.5, rel=0.1)


# -- Identity, ELU, PReLU, ActivityRegularization and the noise layers against Keras ------
# (more_layers_outputs.json, from tests/data/keras/gen_more_layers.py)

MORE_CORE = more.cases_of(
    "Identity", "ELU", "PReLU", "ActivityRegularization", "AlphaDropout", "GaussianDropout",
    "SpatialDropout3D",
)  # fmt: skip


@pytest.mark.parametrize("case_id", MORE_CORE)
def test_outputs_masks_and_weights_match_keras(case_id: str) -> None:
    """Keras's output shape, parameter counts, weight names and shapes, outputs for the
    same weights (inference mode: the noise layers pass inputs on) and output masks."""
    more.check_outputs(case_id)


def test_prelu_alpha_is_shared_along_shared_axes_and_learns() -> None:
    layer = more.keras_layer("prelu_shared_12")
    x = torch.randn(2, 3, 3, 4, requires_grad=True)
    y = layer(x)
    torch.testing.assert_close(y, torch.where(x >= 0, x, layer.alpha * x))
    y.sum().backward()
    assert layer.alpha.grad is not None and layer.alpha.grad.shape == (1, 1, 4)


@pytest.mark.parametrize("shared_axes", [[0], [3], [1, 4]])
def test_prelu_shared_axes_must_be_axes_of_the_input(shared_axes: list[int]) -> None:
    with pytest.raises(ShapeError, match="shared_axes"):
        LAYERS["PReLU"](parse_layer({"type": "PReLU", "shared_axes": shared_axes}), (5, 4))


def test_prelu_takes_one_shared_axis_as_keras_does() -> None:
    assert parse_layer({"type": "PReLU", "shared_axes": 1}).shared_axes == [1]


def test_activity_regularization_adds_kerass_loss_to_the_model() -> None:
    """Dense → ActivityRegularization(l1=0.05, l2=0.1) from Keras's JSON: the loss Keras
    adds (`model.losses`, divided by the batch size) for the same weights and inputs."""
    case = more.MODELS["activity_regularization"]
    model = more.keras_model("activity_regularization")
    forward = model.run([torch.tensor(case["inputs"][0])])
    torch.testing.assert_close(forward.outputs[0], torch.tensor(case["outputs"][0]))
    assert len(forward.losses) == 1
    assert forward.losses[0].item() == pytest.approx(case["losses"][0], rel=1e-5)


def test_alpha_dropout_gives_kerass_two_values_while_training() -> None:
    """On a constant input Keras's training output takes two values: `a·x + b` for kept
    inputs, `a·alpha_p + b` for dropped ones; about `rate` of them are dropped."""
    case = more.CASES["alpha_dropout"]
    layer = more.keras_layer("alpha_dropout").train()
    torch.manual_seed(0)
    out = layer(torch.tensor(case["training"]["input"]))
    values = out.unique()
    torch.testing.assert_close(values, torch.tensor(case["training"]["values"]))
    assert (out == values.max()).float().mean().item() == pytest.approx(0.8, abs=0.02)


def test_gaussian_dropout_noise_has_kerass_mean_and_deviation() -> None:
    """Keras multiplies by N(1, rate/(1-rate)): mean 1 and std sqrt(0.3/0.7) ≈ 0.655."""
    training = more.CASES["gaussian_dropout"]["training"]
    layer = more.keras_layer("gaussian_dropout").train()
    torch.manual_seed(0)
    out = layer(torch.full(training["shape"], training["input_value"]))
    # 32,000 draws: the sample mean is within 4 standard errors (0.015) of 1, Keras's too.
    for mean in (out.mean().item(), training["mean"]):
        assert mean == pytest.approx(1.0, abs=0.015)
    for std in (out.std().item(), training["std"]):
        assert std == pytest.approx(math.sqrt(0.3 / 0.7), rel=0.02)


def test_spatial_dropout3d_drops_whole_channels_as_keras() -> None:
    training = more.CASES["spatial_dropout3d"]["training"]
    layer = more.keras_layer("spatial_dropout3d").train()
    torch.manual_seed(0)
    y = layer(torch.tensor(training["input"]))
    per_channel = y.amax(dim=(1, 2, 3))
    assert torch.equal(y, per_channel[:, None, None, None, :].expand_as(y))
    torch.testing.assert_close(y.unique(), torch.tensor(training["values"]))


@pytest.mark.parametrize(
    ("kind", "args", "shape"),
    [
        ("AlphaDropout", {"rate": 0.3}, (6, 5)),
        ("AlphaDropout", {"rate": 0.3, "noise_shape": [None, 1, 5]}, (6, 5)),
        ("GaussianDropout", {"rate": 0.3}, (6, 5)),
        ("SpatialDropout3D", {"rate": 0.3}, (2, 2, 2, 5)),
    ],
)
def test_noise_layers_pass_inputs_on_at_inference(
    kind: str, args: dict[str, object], shape: tuple[int, ...]
) -> None:
    layer = LAYERS[kind](parse_layer({"type": kind, **args}), shape)
    x = torch.randn(3, *shape)
    assert torch.equal(layer.eval()(x), x)
    assert not torch.equal(layer.train()(x), x)


def test_alpha_dropout_noise_shape_shares_the_draw() -> None:
    torch.manual_seed(0)
    layer = LAYERS["AlphaDropout"](
        parse_layer({"type": "AlphaDropout", "rate": 0.5, "noise_shape": [None, 1, 8]}), (5, 8)
    )
    y = layer.train()(torch.ones(3, 5, 8))
    assert torch.equal(y, y[:, :1, :].expand_as(y))


def test_spatial_dropout3d_needs_volumes() -> None:
    with pytest.raises(ShapeError, match=r"\(D, H, W, channels\)"):
        LAYERS["SpatialDropout3D"](parse_layer({"type": "SpatialDropout3D", "rate": 0.5}), (4, 4))


def test_keras_loads_the_json_cornu_writes_for_these_layers() -> None:
    torch.manual_seed(0)
    more.keras_agrees(
        [
            {"type": "Input", "shape": [5, 4]},
            {"type": "Masking", "mask_value": 0.0},
            {"type": "PReLU", "shared_axes": [1], "alpha_initializer": "random_normal"},
            {"type": "ELU", "alpha": 0.7},
            {"type": "Identity"},
            {"type": "GaussianDropout", "rate": 0.2},
            {"type": "AlphaDropout", "rate": 0.1, "noise_shape": [None, 1, 4]},
            {"type": "ActivityRegularization", "l1": 0.01},
            {"type": "LSTM", "units": 3},
        ],
        torch.randn(3, 5, 4) * (torch.arange(5) < 4).float()[None, :, None],
    )
    more.keras_agrees(
        [{"type": "Input", "shape": [2, 3, 2, 4]}, {"type": "SpatialDropout3D", "rate": 0.5}],
        torch.randn(2, 2, 3, 2, 4),
    )


@pytest.mark.parametrize("case_id", more.cases_of("EinsumDense"))
def test_einsum_dense_matches_keras(case_id: str) -> None:
    """Keras's kernel and bias shapes (bias on some output axes only, ellipses on the
    left and right), parameter counts, outputs; no output mask, as in Keras."""
    more.check_outputs(case_id)


@pytest.mark.parametrize(
    ("args", "input_shape", "message"),
    [
        ({"equation": "ab,bc>ac", "output_shape": 4}, (5,), "not of the form"),
        ({"equation": "ab,bc->ac", "output_shape": 4}, (5, 3), "inputs of 2 axes"),
        ({"equation": "abc,cd->abd", "output_shape": [6, 4]}, (5, 3), "5 in the input but 6"),
        ({"equation": "ab,bc->ae", "output_shape": 4}, (5,), "output axis 'e'"),
        ({"equation": "ab,bce->ac", "output_shape": 4}, (5,), "kernel axis 'e'"),
        ({"equation": "ab,bc->ac", "output_shape": 4, "bias_axes": "x"}, (5,), "bias_axes"),
        ({"equation": "ab,bc->ac", "output_shape": [None]}, (5,), "unknown size"),
    ],
)
def test_einsum_dense_shape_errors_say_what_is_wrong(
    args: dict[str, object], input_shape: tuple[int, ...], message: str
) -> None:
    with pytest.raises(ShapeError, match=message):
        LAYERS["EinsumDense"](parse_layer({"type": "EinsumDense", **args}), input_shape)


def test_einsum_dense_fans_are_kerass_input_and_output_axes() -> None:
    """Keras gives VarianceScaling the kernel's input and output axes: for
    `abc,cde->abde` with kernel (64, 8, 16), fans 64 and 128 (not 512 and 16)."""
    torch.manual_seed(0)
    layer = LAYERS["EinsumDense"](
        parse_layer(
            {"type": "EinsumDense", "equation": "abc,cde->abde", "output_shape": [None, 8, 16]}
        ),
        (10, 64),
    )
    limit = math.sqrt(6 / (64 + 128))
    assert layer.kernel.abs().max() <= limit
    assert layer.kernel.var().item() == pytest.approx(limit**2 / 3, rel=0.05)


def test_keras_loads_the_json_cornu_writes_for_einsum_dense() -> None:
    torch.manual_seed(0)
    more.keras_agrees(
        [
            {"type": "Input", "shape": [5, 4]},
            {
                "type": "EinsumDense",
                "equation": "abc,cde->abde",
                "output_shape": [None, 3, 2],
                "bias_axes": "de",
                "activation": "tanh",
                "bias_initializer": "random_normal",
            },
            {"type": "EinsumDense", "equation": "...de,def->...f", "output_shape": 2},
        ],
        torch.randn(2, 5, 4),
    )
