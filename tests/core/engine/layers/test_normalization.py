"""BatchNormalization and LayerNormalization against real Keras: shapes, parameter counts,
weight names, outputs and moving statistics for the same weights and inputs (masks
included); Keras's rules that differ from torch's; gradients; the meta device."""

from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError

from cornu.core.engine.layers import LAYERS, Shape, ShapeError
from cornu.core.spec.layers import parse_layer
from cornu.core.spec.layers.normalization import BatchNormalization, LayerNormalization
from tests.core.engine.layers import more_reference as more
from tests.core.engine.layers.keras_reference import (
    OUTPUTS,
    build,
    check_against_keras_summary,
    expected,
    inputs_of,
    with_keras_weights,
)

BN_CASES = [k for k in OUTPUTS if k.startswith("bn_")]
LN_CASES = [k for k in OUTPUTS if k.startswith("ln_")]


@pytest.mark.parametrize("case_id", ["bn", "bn_img", "bn_nocenter", "ln", "ln_noscale"])
def test_shapes_counts_and_weights_match_keras(case_id: str) -> None:
    check_against_keras_summary(case_id)


@pytest.mark.parametrize(
    ("spec", "input_shape", "params", "trainable"),
    [
        # keras.layers.X(**spec) on keras.Input(input_shape): count_params(), trainable size
        ({"type": "BatchNormalization", "center": False}, (10, 32), 96, 32),
        ({"type": "BatchNormalization", "scale": False, "center": False}, (10,), 20, 0),
        ({"type": "LayerNormalization", "axis": [1, 2]}, (10, 32), 640, 640),
        ({"type": "LayerNormalization", "axis": [1, 3]}, (4, 5, 6), 48, 48),
        ({"type": "LayerNormalization", "rms_scaling": True}, (10, 32), 32, 32),
    ],
)
def test_more_parameter_counts_match_keras(
    spec: dict[str, object], input_shape: tuple[int, ...], params: int, trainable: int
) -> None:
    layer = build(spec, [input_shape])
    assert layer.output_shape == input_shape
    assert layer.count_params() == (params, trainable)


@pytest.mark.parametrize("case_id", BN_CASES)
def test_batch_normalization_matches_keras_in_training_and_inference(case_id: str) -> None:
    case = OUTPUTS[case_id]
    layer = with_keras_weights(case)
    (x,), (mask,) = inputs_of(case)
    torch.testing.assert_close(layer.eval()(x, mask=mask), expected(case["inference"]))
    torch.testing.assert_close(layer.train()(x, mask=mask), expected(case["training"]))
    # One training call moves the statistics with the batch's *biased* variance, masked
    # steps left out; torch's own BatchNorm would use the unbiased one.
    torch.testing.assert_close(layer.moving_mean, expected(case["moving_mean"]))
    torch.testing.assert_close(layer.moving_variance, expected(case["moving_variance"]))


def test_a_frozen_batch_normalization_runs_in_inference_mode_while_training() -> None:
    case = OUTPUTS["bn_dense"]
    frozen = with_keras_weights({**case, "layer": {**case["layer"], "trainable": False}})
    (x,), _ = inputs_of(case)
    before = frozen.moving_mean.clone()
    torch.testing.assert_close(frozen.train()(x), expected(case["inference"]))
    assert torch.equal(frozen.moving_mean, before)
    assert frozen.count_params() == (16, 0)


def test_batch_normalization_of_a_single_sample_does_not_fail() -> None:
    """A last batch of one sample: the biased variance is 0, not undefined as in torch."""
    layer = LAYERS["BatchNormalization"](BatchNormalization(), (3,))
    out = layer.train()(torch.tensor([[1.0, 2.0, 3.0]]))
    torch.testing.assert_close(out, torch.zeros(1, 3))


def test_bfloat16_inputs_are_normalised_in_float32_and_returned_in_bfloat16() -> None:
    """As Keras: statistics in 16 bits lose too much, so they are computed in float32."""
    case = OUTPUTS["bn_seq_masked"]
    layer = with_keras_weights(case).train()
    (x,), (mask,) = inputs_of(case)
    out = layer(x.bfloat16(), mask=mask)
    assert out.dtype == torch.bfloat16 and layer.moving_mean.dtype == torch.float32
    torch.testing.assert_close(out.float(), expected(case["training"]), atol=0.02, rtol=0.01)


@pytest.mark.parametrize("case_id", LN_CASES)
def test_layer_normalization_matches_keras(case_id: str) -> None:
    case = OUTPUTS[case_id]
    layer = with_keras_weights(case)
    (x,), _ = inputs_of(case)
    torch.testing.assert_close(layer(x), expected(case["output"]))


@pytest.mark.parametrize(
    ("axis", "shape"),
    # Keras: LayerNormalization(axis) on keras.Input((4, 5, 6)): the weights' shape
    [([1, 3], (4, 6)), ([-2, -1], (5, 6)), ([-1, 1], (6, 4))],
)
def test_layer_normalization_weights_have_kerass_shape(axis: list[int], shape: Shape) -> None:
    layer = LAYERS["LayerNormalization"](LayerNormalization(axis=axis), (4, 5, 6))
    assert {k: tuple(v.shape) for k, v in layer.keras_weights().items()} == {
        "gamma": shape,
        "beta": shape,
    }


def test_keras_defaults_not_torchs() -> None:
    bn, ln = BatchNormalization(), LayerNormalization()
    assert (bn.momentum, bn.epsilon, ln.epsilon) == (0.99, 1e-3, 1e-3)
    layer = LAYERS["BatchNormalization"](bn, (4,))
    weights = layer.keras_weights()
    assert weights["moving_variance"].tolist() == [1.0] * 4
    assert weights["gamma"].tolist() == [1.0] * 4
    assert weights["moving_mean"].tolist() == weights["beta"].tolist() == [0.0] * 4


def test_moving_statistics_are_buffers_the_optimizer_never_sees() -> None:
    layer = LAYERS["BatchNormalization"](BatchNormalization(), (32,))
    assert {n for n, _ in layer.named_parameters()} == {"gamma", "beta"}
    assert {n for n, _ in layer.named_buffers()} == {"moving_mean", "moving_variance"}


@pytest.mark.parametrize(
    ("spec", "input_shape", "message"),
    [
        ({"type": "BatchNormalization", "axis": 1}, (10, 32), "channels axis"),
        ({"type": "BatchNormalization", "axis": 1}, (8, 8, 3), "use axis=-1"),
        ({"type": "LayerNormalization", "axis": 3}, (10, 32), "out of range"),
        ({"type": "LayerNormalization", "axis": [0, 1]}, (10, 32), "batch axis"),
    ],
)
def test_unsupported_axes_are_shape_errors(
    spec: dict[str, object], input_shape: tuple[int, ...], message: str
) -> None:
    with pytest.raises(ShapeError, match=message):
        build(spec, [input_shape])


def test_the_last_axis_may_be_given_positively_or_as_tf_keras_2_list() -> None:
    assert build({"type": "BatchNormalization", "axis": 3}, [(8, 8, 3)]).output_shape == (8, 8, 3)
    assert BatchNormalization.model_validate({"axis": [3]}).axis == 3


def test_accepts_every_key_of_keras_3_get_config() -> None:
    """`BatchNormalization().get_config()` from Keras 3.15 (dtype is dropped on import)."""
    config = {
        "name": "batch_normalization",
        "trainable": True,
        "axis": -1,
        "momentum": 0.99,
        "epsilon": 0.001,
        "center": True,
        "scale": True,
        "beta_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}},
        "gamma_initializer": {"module": "keras.initializers", "class_name": "Ones", "config": {}},
        "moving_mean_initializer": "zeros",
        "moving_variance_initializer": "ones",
        "beta_regularizer": None,
        "gamma_regularizer": None,
        "beta_constraint": None,
        "gamma_constraint": None,
        "synchronized": False,
        "renorm": False,
        "renorm_clipping": None,
        "renorm_momentum": 0.99,
    }
    assert parse_layer({"type": "BatchNormalization", **config}).name == "batch_normalization"
    layer_norm = {"axis": -1, "epsilon": 0.001, "center": True, "scale": True}
    assert parse_layer({"type": "LayerNormalization", **layer_norm, "rms_scaling": False})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"renorm": True}, "renorm=True"),
        ({"synchronized": True}, "synchronized=True"),
        ({"virtual_batch_size": 8}, "virtual_batch_size"),
        ({"axis": [1, 2]}, "one axis"),
        ({"momentum": 1.5}, "less than or equal to 1"),
    ],
)
def test_refused_batch_normalization_options_say_why(args: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_layer({"type": "BatchNormalization", **args})


@pytest.mark.parametrize("kind", ["BatchNormalization", "LayerNormalization"])
def test_gradients_reach_inputs_gamma_and_beta(kind: str) -> None:
    layer = LAYERS[kind](parse_layer({"type": kind}), (5, 4)).train()
    x = torch.randn(3, 5, 4, requires_grad=True)
    (layer(x) * torch.randn(3, 5, 4)).sum().backward()
    for tensor in (x, layer.gamma, layer.beta):
        assert tensor.grad is not None and tensor.grad.abs().sum() > 0


def test_builds_on_the_meta_device() -> None:
    with torch.device("meta"):
        layer = LAYERS["BatchNormalization"](BatchNormalization(), (32,))
        norm = LAYERS["LayerNormalization"](LayerNormalization(axis=[1, 2]), (10, 32))
    assert layer.moving_mean.is_meta and norm.gamma.is_meta
    assert layer.count_params() == (128, 64)


# -- GroupNormalization, UnitNormalization, RMSNormalization against Keras ----------------
# (more_layers_outputs.json, from tests/data/keras/gen_more_layers.py)


@pytest.mark.parametrize(
    "case_id", more.cases_of("GroupNormalization", "UnitNormalization", "RMSNormalization")
)
def test_more_normalizations_match_keras(case_id: str) -> None:
    """Keras's output shape, parameter counts and weights, outputs for the same weights
    (groups, instance normalization, channels on axis 1; unit norms over one or several
    axes, an all-zero row; RMS over one or two trailing axes) and output masks."""
    more.check_outputs(case_id)


@pytest.mark.parametrize(
    ("spec", "input_shape", "message"),
    [
        ({"type": "GroupNormalization", "groups": 3}, (5, 4), "multiple of the groups"),
        ({"type": "GroupNormalization", "groups": 8}, (5, 4), "multiple of the groups"),
        ({"type": "GroupNormalization", "axis": 0}, (5, 32), "batch axis"),
        ({"type": "UnitNormalization", "axis": 3}, (5, 4), "out of range"),
        ({"type": "UnitNormalization", "axis": [1, -2]}, (5, 4), "names an axis twice"),
        ({"type": "RMSNormalization", "axis": 1}, (5, 4), "trailing axes"),
    ],
)
def test_more_normalization_shape_errors(
    spec: dict[str, object], input_shape: tuple[int, ...], message: str
) -> None:
    with pytest.raises(ShapeError, match=message):
        build(spec, [input_shape])


def test_group_normalization_groups_must_be_positive_or_minus_one() -> None:
    with pytest.raises(ValidationError, match="instance normalization"):
        parse_layer({"type": "GroupNormalization", "groups": 0})


def test_group_and_rms_normalization_defaults_are_kerass() -> None:
    group = parse_layer({"type": "GroupNormalization"})
    rms = parse_layer({"type": "RMSNormalization"})
    assert (group.groups, group.axis, group.epsilon) == (32, -1, 1e-3)
    assert (rms.axis, rms.epsilon) == (-1, 1e-6)


@pytest.mark.parametrize(
    ("kind", "weights"),
    [("GroupNormalization", ("gamma", "beta")), ("RMSNormalization", ("scale",))],
)
def test_gradients_reach_the_new_normalizations_weights(kind: str, weights: tuple[str]) -> None:
    args = {"groups": 2} if kind == "GroupNormalization" else {}
    layer = LAYERS[kind](parse_layer({"type": kind, **args}), (5, 4))
    x = torch.randn(3, 5, 4, requires_grad=True)
    (layer(x) * torch.randn(3, 5, 4)).sum().backward()
    for tensor in (x, *(getattr(layer, name) for name in weights)):
        assert tensor.grad is not None and tensor.grad.abs().sum() > 0


def test_new_normalizations_build_on_the_meta_device() -> None:
    with torch.device("meta"):
        group = build({"type": "GroupNormalization", "groups": 4}, [(8, 8, 16)])
        rms = build({"type": "RMSNormalization", "axis": [-2, -1]}, [(10, 32)])
    assert group.gamma is not None and group.gamma.is_meta and rms.scale.is_meta
    assert group.count_params() == (32, 32) and rms.count_params() == (320, 320)


def test_keras_loads_the_json_cornu_writes_for_the_new_normalizations() -> None:
    more.keras_agrees(
        [
            {"type": "Input", "shape": [5, 8]},
            {"type": "GroupNormalization", "groups": 4, "gamma_initializer": "random_normal"},
            {"type": "UnitNormalization", "axis": [1, 2]},
            {"type": "RMSNormalization", "epsilon": 1e-4},
            {"type": "GroupNormalization", "groups": -1, "axis": 1, "center": False},
        ],
        torch.randn(3, 5, 8),
    )
