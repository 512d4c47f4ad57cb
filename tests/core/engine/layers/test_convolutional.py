"""Conv1D, Conv2D, Conv2DTranspose, SeparableConv2D against real Keras: output shapes,
parameter counts and weight layouts, outputs for the same weights and inputs, Keras's
configs read back, gradients, and building on the meta device.

The Keras numbers live in tests/data/keras: `layer_shapes.json` (shapes and counts) and
`conv_pooling_reshaping_outputs.json` (outputs, from gen_conv_pooling_reshaping.py).
The pooling and reshaping tests use the helpers defined here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch

from cornu.core.engine import build_model
from cornu.core.engine.layers import LAYERS, Layer, ShapeError
from cornu.core.spec import SequentialSpec
from cornu.core.spec.keras_json import from_keras
from cornu.core.spec.layers import parse_layer
from cornu.core.spec.layers.convolutional import Conv1D, Conv2D

DATA = Path(__file__).resolve().parents[3] / "data" / "keras"
SHAPES = {c["id"]: c for c in json.loads((DATA / "layer_shapes.json").read_text())["cases"]}
_OUTPUTS = json.loads((DATA / "conv_pooling_reshaping_outputs.json").read_text())
OUTPUTS: dict[str, Any] = _OUTPUTS["cases"]
BATCH: int = _OUTPUTS["batch"]


def build(layer: dict[str, Any], input_shape: tuple[int, ...]) -> Layer:
    spec = parse_layer(layer)
    return LAYERS[spec.type](spec, input_shape)


def check_shapes(case_id: str) -> None:
    """Output shape, (all, trainable) parameters and weight shapes as `layer_shapes.json`."""
    case = SHAPES[case_id]
    input_shape = tuple(case["input_shapes"][0])
    layer = build({"type": case["layer"], **case["args"]}, input_shape)
    assert layer.output_shape == tuple(case["output_shape"])
    assert layer.count_params() == (case["params"], case["trainable_params"])
    keras_shapes = {path.split("/")[-1]: shape for path, shape, _ in case["weights"]}
    assert {k: list(v.shape) for k, v in layer.keras_weights().items()} == keras_shapes
    assert tuple(layer(torch.randn(2, *input_shape)).shape) == (2, *case["output_shape"])


def keras_case(case_id: str) -> tuple[Layer, torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """The layer with Keras's weights copied into `keras_weights()`, its input, mask and
    Keras's output."""
    case = OUTPUTS[case_id]
    layer = build(case["layer"], tuple(case["input_shape"]))
    assert layer.output_shape == tuple(case["output_shape"])
    assert layer.count_params() == (case["params"], case["trainable_params"])
    views = layer.keras_weights()
    assert set(views) == set(case["weights"])
    with torch.no_grad():  # written through the Keras-layout views into torch's storage
        for name, weight in case["weights"].items():
            views[name].copy_(torch.tensor(weight["values"]).reshape(weight["shape"]))
    x = torch.tensor(case["x"]).reshape(BATCH, *case["input_shape"])
    mask = None if case["mask"] is None else torch.tensor(case["mask"], dtype=torch.bool)
    y = torch.tensor(case["y"]).reshape(BATCH, *case["output_shape"])
    return layer, x, mask, y


def check_outputs(case_id: str) -> None:
    """The layer's output equals Keras's for Keras's weights and input, within 1e-5."""
    layer, x, mask, expected = keras_case(case_id)
    out = layer(x, mask=mask) if layer.uses_mask else layer(x)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)


def check_keras_configs(case_id: str) -> None:
    """Keras 3's and tf.keras 2's serialized layer import and build as Keras built it."""
    case = OUTPUTS[case_id]
    for key in ("keras3_config", "tfkeras2_config"):
        model = from_keras({"class_name": "Sequential", "config": {"layers": [case[key]]}})
        layer = build(model["layers"][0], tuple(case["input_shape"]))
        assert layer.output_shape == tuple(case["output_shape"]), key
        assert layer.count_params() == (case["params"], case["trainable_params"]), key


def check_gradients(layer_args: dict[str, Any], input_shape: tuple[int, ...]) -> None:
    """A backward pass gives finite gradients shaped like the input and every weight."""
    layer = build(layer_args, input_shape)
    x = torch.randn(3, *input_shape, requires_grad=True)
    out = layer(x)
    (out * torch.randn_like(out)).sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape and x.grad.isfinite().all()
    for name, param in layer.named_parameters():
        assert param.grad is not None and param.grad.shape == param.shape, name
        assert param.grad.isfinite().all() and param.grad.abs().sum() > 0, name


def check_meta_build(layer_args: dict[str, Any], input_shape: tuple[int, ...]) -> Layer:
    """Building on the meta device allocates nothing and still knows shapes and counts."""
    spec = parse_layer(layer_args)
    with torch.device("meta"):
        layer = LAYERS[spec.type](spec, input_shape)
    assert all(t.is_meta for t in layer.keras_weights().values())
    return layer


CONV_SHAPES = [
    "conv1d",
    "conv1d_same_s2",
    "conv1d_causal",
    "conv2d",
    "conv2d_b",
    "conv2d_same_s2",
    "conv2d_dil",
    "conv2d_groups",
    "convT_same",
    "convT_valid",
    "convT_outpad",
    "sep",
    "sep_dm",
]
CONV_OUTPUTS = [name for name, case in OUTPUTS.items() if "Conv" in case["layer"]["type"]]


@pytest.mark.parametrize("case_id", CONV_SHAPES)
def test_shapes_counts_and_weight_layouts_match_keras(case_id: str) -> None:
    check_shapes(case_id)


def test_the_keras_cases_cover_every_padding_path() -> None:
    assert {
        "conv2d_same_s2",  # uneven "same" padding: the odd pixel at the bottom/right
        "conv2d_dilated",
        "conv1d_causal",
        "convT_same_s2",  # odd kernel, stride 2: Keras crops the end only
        "convT_valid",
        "convT_valid_stride_over_kernel",  # zeros past the full result
        "convT_same_output_padding",
        "sep_dm2_same_s2",
    } <= set(CONV_OUTPUTS)


@pytest.mark.parametrize("case_id", CONV_OUTPUTS)
def test_outputs_equal_keras_for_the_same_weights(case_id: str) -> None:
    check_outputs(case_id)


@pytest.mark.parametrize("case_id", CONV_OUTPUTS)
def test_keras_3_and_tf_keras_2_configs_import(case_id: str) -> None:
    check_keras_configs(case_id)


@pytest.mark.parametrize(
    ("layer", "input_shape"),
    [
        ({"type": "Conv1D", "filters": 3, "kernel_size": 3, "padding": "causal"}, (6, 2)),
        (
            {"type": "Conv2D", "filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
            (6, 7, 2),
        ),
        ({"type": "Conv2D", "filters": 4, "kernel_size": 3, "groups": 2}, (5, 5, 4)),
        (
            {
                "type": "Conv2DTranspose",
                "filters": 3,
                "kernel_size": 3,
                "strides": 2,
                "padding": "same",
            },
            (4, 5, 2),
        ),
        (
            {"type": "SeparableConv2D", "filters": 3, "kernel_size": 3, "depth_multiplier": 2},
            (5, 5, 2),
        ),
    ],
)
def test_gradients_flow_and_meta_builds(
    layer: dict[str, Any], input_shape: tuple[int, ...]
) -> None:
    check_gradients(layer, input_shape)
    real = build(layer, input_shape)
    meta = check_meta_build(layer, input_shape)
    assert meta.output_shape == real.output_shape
    assert meta.count_params() == real.count_params()


def test_a_convnet_builds_on_meta_with_keras_summary() -> None:
    summary = json.loads((DATA / "expected_summaries.json").read_text())["keras3_convnet.json"]
    spec = SequentialSpec.model_validate(
        from_keras(json.loads((DATA / "keras3_convnet.json").read_text()))
    )
    model = build_model(spec, device="meta")
    assert model.count_params() == (summary["total_params"], summary["trainable_params"])
    rows = [(r.output_shape, r.params) for r in model.summary()]
    assert rows == [(tuple(r["output_shape"]), r["params"]) for r in summary["layers"]]


def test_kernels_start_as_keras_glorot_uniform_with_keras_fans() -> None:
    torch.manual_seed(0)
    layer = build({"type": "Conv2D", "filters": 64, "kernel_size": 3}, (8, 8, 32))
    kernel = layer.keras_weights()["kernel"]
    limit = math.sqrt(6 / (3 * 3 * 32 + 3 * 3 * 64))  # fans: receptive field × in / out
    assert kernel.abs().max() <= limit
    assert kernel.abs().max() > 0.99 * limit
    assert layer.keras_weights()["bias"].eq(0).all()


def test_transpose_kernel_fans_follow_keras_layout() -> None:
    torch.manual_seed(0)
    layer = build({"type": "Conv2DTranspose", "filters": 8, "kernel_size": 4}, (5, 5, 64))
    kernel = layer.keras_weights()["kernel"]
    assert tuple(kernel.shape) == (4, 4, 8, 64)  # Keras: (kh, kw, filters, in)
    limit = math.sqrt(6 / (4 * 4 * 8 + 4 * 4 * 64))
    assert limit * 0.99 < kernel.abs().max() <= limit


def test_constraints_apply_through_the_keras_view() -> None:
    layer = build(
        {
            "type": "Conv2D",
            "filters": 4,
            "kernel_size": 3,
            "kernel_initializer": {"type": "RandomNormal", "stddev": 5.0},
            "kernel_constraint": {"type": "max_norm", "max_value": 1.0, "axis": [0, 1, 2]},
        },
        (6, 6, 3),
    )
    layer.apply_constraints()
    norms = layer.keras_weights()["kernel"].square().sum(dim=(0, 1, 2)).sqrt()
    torch.testing.assert_close(norms, torch.ones(4), atol=1e-5, rtol=0)


def test_softmax_head_exposes_its_logits() -> None:
    layer = build(
        {"type": "Conv1D", "filters": 5, "kernel_size": 2, "activation": "softmax"}, (6, 3)
    )
    x = torch.randn(2, 6, 3)
    assert layer.activation_name == "softmax"
    torch.testing.assert_close(layer(x), torch.softmax(layer.pre_activation(x), dim=-1))


@pytest.mark.parametrize(
    ("layer", "input_shape", "message"),
    [
        (
            {"type": "Conv2D", "filters": 2, "kernel_size": 3},
            (28, 28),
            r"\(height, width, channels\) inputs, got \(28, 28\)",
        ),
        (
            {"type": "Conv1D", "filters": 2, "kernel_size": 3},
            (4, 4, 1),
            r"\(steps, channels\) inputs",
        ),
        (
            {"type": "Conv2D", "filters": 2, "kernel_size": 5},
            (3, 8, 1),
            r"window 5 is larger than the input \(3\) with padding='valid'",
        ),
        (
            {"type": "Conv2D", "filters": 2, "kernel_size": 3, "dilation_rate": 3},
            (6, 8, 1),
            r"window 7 \(kernel 3 dilated by 3\)",
        ),
        (
            {"type": "Conv2D", "filters": 4, "kernel_size": 1, "groups": 2},
            (4, 4, 3),
            r"input channels \(3\) must be divisible by groups \(2\)",
        ),
        (
            {"type": "SeparableConv2D", "filters": 2, "kernel_size": 3},
            (9,),
            r"\(height, width, channels\)",
        ),
        (
            {"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3},
            (4, 4),
            r"\(height, width, channels\)",
        ),
    ],
)
def test_shape_errors_say_what_to_change(
    layer: dict[str, Any], input_shape: tuple[int, ...], message: str
) -> None:
    with pytest.raises(ShapeError, match=message):
        build(layer, input_shape)


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ({"type": "Conv2D", "filters": 4, "kernel_size": 3, "groups": 3}, "divisible by groups"),
        (
            {"type": "Conv2D", "filters": 4, "kernel_size": 3, "strides": 2, "dilation_rate": 2},
            "cannot both exceed 1",
        ),
        (
            {"type": "Conv2D", "filters": 4, "kernel_size": 3, "data_format": "channels_first"},
            "channels_last only",
        ),
        ({"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "causal"}, "padding"),
        ({"type": "Conv2D", "filters": 0, "kernel_size": 3}, "filters"),
        (
            {"type": "Conv2DTranspose", "filters": 4, "kernel_size": 3, "output_padding": 1},
            "less than strides",
        ),
        ({"type": "SeparableConv2D", "filters": 4, "kernel_size": 3, "groups": 2}, "groups"),
    ],
)
def test_invalid_arguments_are_refused_at_once(layer: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_layer(layer)


def test_keras_spellings_of_arguments() -> None:
    conv2d = Conv2D.model_validate({"filters": 4, "kernel_size": [3, 5], "padding": "SAME"})
    assert conv2d.kernel_size == (3, 5) and conv2d.padding == "same"
    conv1d = Conv1D.model_validate({"filters": 4, "kernel_size": 3, "strides": [2]})
    assert conv1d.kernel_size == (3,) and conv1d.strides == (2,)
