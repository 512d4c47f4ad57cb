"""Conv1D/2D/3D, Conv1D/2D/3DTranspose, DepthwiseConv1D/2D, SeparableConv1D/2D against
real Keras: output shapes, parameter counts and weight layouts, outputs for the same
weights and inputs, Keras's configs read back and written again, Keras loading what
Cornu writes, gradients, and building on the meta device.

The Keras numbers live in tests/data/keras: `layer_shapes.json` (shapes and counts),
`conv_pooling_reshaping_outputs.json` (outputs, from gen_conv_pooling_reshaping.py) and
`conv_pooling_reshaping_more_outputs.json` (the 1-D/3-D, depthwise and adaptive layers,
from gen_conv_pooling_reshaping_more.py). The pooling and reshaping tests use the
helpers defined here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from cornu.core.engine import build_model
from cornu.core.engine.layers import LAYERS, Layer, ShapeError
from cornu.core.engine.summary import summarize
from cornu.core.spec import SequentialSpec
from cornu.core.spec.keras_config import model_spec
from cornu.core.spec.keras_config.layers import layer_config
from cornu.core.spec.keras_json import from_keras
from cornu.core.spec.layers import parse_layer
from cornu.core.spec.layers.convolutional import Conv1D, Conv2D, Conv3D
from tests.core.spec.keras_zoo import keras_json, keras_or_skip, same_json, without_masks

DATA = Path(__file__).resolve().parents[3] / "data" / "keras"
SHAPES = {c["id"]: c for c in json.loads((DATA / "layer_shapes.json").read_text())["cases"]}
_OUTPUTS = json.loads((DATA / "conv_pooling_reshaping_outputs.json").read_text())
OUTPUTS: dict[str, Any] = _OUTPUTS["cases"]
BATCH: int = _OUTPUTS["batch"]
_MORE = json.loads((DATA / "conv_pooling_reshaping_more_outputs.json").read_text())
MORE_OUTPUTS: dict[str, Any] = _MORE["cases"]
assert _MORE["batch"] == BATCH
# Keras's torch backend (the one tests load Keras with) averages uneven "same" padding
# into AveragePooling3D; the reference (JAX, as TensorFlow) does not.
TORCH_BACKEND_DIFFERS = {"avgpool3d_same_s2"}


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


def keras_case(
    case_id: str, cases: dict[str, Any] = OUTPUTS
) -> tuple[Layer, torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """The layer with Keras's weights copied into `keras_weights()`, its input, mask and
    Keras's output."""
    case = cases[case_id]
    layer = build(case["layer"], tuple(case["input_shape"]))
    output_shape = layer.output_shape  # with `return_state`: [output, *states]
    assert (output_shape[0] if isinstance(output_shape, list) else output_shape) == tuple(
        case["output_shape"]
    )
    assert layer.count_params() == (case["params"], case["trainable_params"])
    views = layer.keras_weights()
    # Keras's names, shapes and order (`set_weights` order)
    assert [(k, list(v.shape)) for k, v in views.items()] == [
        (k, w["shape"]) for k, w in case["weights"].items()
    ]
    with torch.no_grad():  # written through the Keras-layout views into torch's storage
        for name, weight in case["weights"].items():
            views[name].copy_(torch.tensor(weight["values"]).reshape(weight["shape"]))
    x = torch.tensor(case["x"]).reshape(BATCH, *case["input_shape"])
    mask = None if case["mask"] is None else torch.tensor(case["mask"], dtype=torch.bool)
    y = torch.tensor(case["y"]).reshape(BATCH, *case["output_shape"])
    return layer, x, mask, y


def check_outputs(case_id: str, cases: dict[str, Any] = OUTPUTS) -> None:
    """The layer's output equals Keras's for Keras's weights and input, within 1e-5."""
    layer, x, mask, expected = keras_case(case_id, cases)
    out = layer(x, mask=mask) if layer.uses_mask else layer(x)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)


def check_keras_3_round_trip(case_id: str) -> None:
    """A `MORE_OUTPUTS` case's Keras 3 config imports and builds as Keras built it, and
    Cornu writes that config back as Keras wrote it."""
    case = MORE_OUTPUTS[case_id]
    theirs = case["keras3_config"]
    model = from_keras({"class_name": "Sequential", "config": {"layers": [theirs]}})
    spec = parse_layer(model["layers"][0])
    layer = LAYERS[spec.type](spec, tuple(case["input_shape"]))
    assert layer.output_shape == build(case["layer"], tuple(case["input_shape"])).output_shape
    assert layer.count_params() == (case["params"], case["trainable_params"])
    assert same_json(layer_config(spec, theirs["config"]["name"]), theirs["config"])


def check_keras_loads_what_cornu_writes(case_id: str) -> None:
    """Keras 3.15 loads the one-layer model Cornu writes, writes it back the same, and with
    the case's weights predicts the reference output (where its torch backend agrees)."""
    keras = keras_or_skip()
    case = MORE_OUTPUTS[case_id]
    spec = model_spec(
        {
            "type": "sequential",
            "layers": [{"type": "Input", "shape": case["input_shape"]}, case["layer"]],
        }
    )
    written = keras_json(spec)
    model = keras.models.model_from_json(json.dumps(written))
    assert same_json(without_masks(json.loads(model.to_json())), written)
    model.set_weights(
        [np.reshape(w["values"], w["shape"]).astype("float32") for w in case["weights"].values()]
    )
    x = np.reshape(case["x"], (BATCH, *case["input_shape"])).astype("float32")
    y = np.reshape(case["y"], (BATCH, *case["output_shape"]))
    if case_id not in TORCH_BACKEND_DIFFERS:
        out = keras.ops.convert_to_numpy(model(x, training=False))
        np.testing.assert_allclose(out, y, atol=1e-5, rtol=1e-5)


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
MORE_CONV = [
    name
    for name, case in MORE_OUTPUTS.items()
    if "Conv" in case["layer"]["type"] and "LSTM" not in case["layer"]["type"]
]  # ConvLSTM's are in test_convolutional_recurrent.py


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


def test_the_more_keras_cases_cover_every_new_conv_layer_and_padding_path() -> None:
    assert {MORE_OUTPUTS[c]["layer"]["type"] for c in MORE_CONV} == {
        "Conv3D",
        "Conv1DTranspose",
        "Conv3DTranspose",
        "DepthwiseConv1D",
        "DepthwiseConv2D",
        "SeparableConv1D",
    }
    assert {
        "conv3d_same_s2",  # uneven "same" padding on three axes
        "conv3d_groups",
        "conv1dT_same_s2",
        "conv1dT_valid_output_padding",  # zeros past the full result
        "conv3dT_same_output_padding",
        "dw2d_same_s2_dm2",  # output channel c * multiplier + m
        "sep1d_dm2_same_s2",
    } <= set(MORE_CONV)


@pytest.mark.parametrize("case_id", MORE_CONV)
def test_1d_3d_depthwise_and_separable_outputs_equal_keras(case_id: str) -> None:
    check_outputs(case_id, MORE_OUTPUTS)


@pytest.mark.parametrize("case_id", MORE_CONV)
def test_1d_3d_depthwise_and_separable_configs_read_and_write_as_keras(case_id: str) -> None:
    check_keras_3_round_trip(case_id)


@pytest.mark.parametrize("case_id", MORE_CONV)
def test_keras_loads_the_1d_3d_depthwise_and_separable_layers_cornu_writes(case_id: str) -> None:
    check_keras_loads_what_cornu_writes(case_id)


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
        (
            {"type": "Conv3D", "filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"},
            (4, 5, 3, 2),
        ),
        (
            {"type": "Conv1DTranspose", "filters": 2, "kernel_size": 3, "strides": 2},
            (5, 3),
        ),
        (
            {
                "type": "Conv3DTranspose",
                "filters": 2,
                "kernel_size": 2,
                "strides": 2,
                "padding": "same",
                "output_padding": 1,
            },
            (2, 3, 2, 2),
        ),
        ({"type": "DepthwiseConv1D", "kernel_size": 3, "padding": "same"}, (6, 2)),
        ({"type": "DepthwiseConv2D", "kernel_size": 3, "depth_multiplier": 2}, (5, 5, 2)),
        (
            {"type": "SeparableConv1D", "filters": 3, "kernel_size": 2, "depth_multiplier": 2},
            (6, 2),
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


def test_depthwise_kernel_fans_follow_keras_layout() -> None:
    torch.manual_seed(0)
    layer = build({"type": "DepthwiseConv2D", "kernel_size": 3, "depth_multiplier": 2}, (8, 8, 32))
    kernel = layer.keras_weights()["kernel"]
    assert tuple(kernel.shape) == (3, 3, 32, 2)  # Keras: (kh, kw, in, multiplier)
    limit = math.sqrt(6 / (3 * 3 * 32 + 3 * 3 * 2))
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
        (
            {"type": "Conv3D", "filters": 2, "kernel_size": 3},
            (8, 8, 3),
            r"Conv3D needs \(depth, height, width, channels\) inputs, got \(8, 8, 3\)",
        ),
        (
            {"type": "Conv3DTranspose", "filters": 2, "kernel_size": 3},
            (4, 4, 2),
            r"\(depth, height, width, channels\)",
        ),
        ({"type": "DepthwiseConv1D", "kernel_size": 3}, (4, 4, 2), r"\(steps, channels\)"),
        (
            {"type": "DepthwiseConv2D", "kernel_size": 5},
            (4, 8, 2),
            r"window 5 is larger than the input \(4\)",
        ),
        (
            {"type": "Conv3D", "filters": 4, "kernel_size": 1, "groups": 2},
            (2, 2, 2, 3),
            r"input channels \(3\) must be divisible by groups \(2\)",
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
        ({"type": "Conv3D", "filters": 4, "kernel_size": (3, 3)}, "kernel_size"),
        (
            {"type": "Conv3D", "filters": 4, "kernel_size": 3, "strides": 2, "dilation_rate": 2},
            "cannot both exceed 1",
        ),
        (
            {
                "type": "Conv1DTranspose",
                "filters": 4,
                "kernel_size": 3,
                "output_padding": 2,
                "strides": 2,
            },
            "less than strides",
        ),
        (
            {
                "type": "Conv3DTranspose",
                "filters": 4,
                "kernel_size": 3,
                "output_padding": (0, 1, 0),
            },
            "less than strides",
        ),
        (
            {"type": "DepthwiseConv2D", "kernel_size": 3, "data_format": "channels_first"},
            "channels_last only",
        ),
        ({"type": "DepthwiseConv1D", "kernel_size": 3, "depth_multiplier": 0}, "depth_multiplier"),
        (
            {"type": "SeparableConv1D", "filters": 2, "kernel_size": 3, "padding": "causal"},
            "padding",
        ),
        ({"type": "Conv1DTranspose", "filters": 2, "kernel_size": 3, "groups": 2}, "groups"),
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
    conv3d = Conv3D.model_validate({"filters": 4, "kernel_size": 3, "dilation_rate": [1, 2, 2]})
    assert conv3d.kernel_size == (3, 3, 3) and conv3d.strides == (1, 1, 1)
    assert conv3d.dilation_rate == (1, 2, 2)


# Models whose inputs have dimensions of unknown size (None), as Keras allows them for
# these layers: the same layers in Keras's functional API, built on the same shapes.
UNKNOWN_SIZES: dict[str, tuple[list[int | None], list[dict[str, Any]]]] = {
    "volumes": (
        [None, None, None, 2],
        [
            {"type": "Conv3D", "filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"},
            {"type": "Conv3DTranspose", "filters": 2, "kernel_size": 2, "strides": 2},
            {"type": "MaxPooling3D"},
            {"type": "UpSampling3D", "size": [1, 2, 3]},
            {"type": "ZeroPadding3D", "padding": [1, 0, 2]},
            {"type": "Cropping3D", "cropping": [0, 1, 0]},
            {"type": "AveragePooling3D", "pool_size": 2, "padding": "same"},
            {"type": "GlobalMaxPooling3D"},
        ],
    ),
    "sequences": (
        [None, 3],
        [
            {"type": "DepthwiseConv1D", "kernel_size": 3, "depth_multiplier": 2},
            {"type": "SeparableConv1D", "filters": 4, "kernel_size": 3, "padding": "same"},
            {"type": "Conv1DTranspose", "filters": 2, "kernel_size": 3, "strides": 2},
            {"type": "UpSampling1D"},
            {"type": "ZeroPadding1D"},
            {"type": "Cropping1D", "cropping": [2, 0]},
            {"type": "AdaptiveMaxPooling1D", "output_size": 4},
            {"type": "Flatten"},
        ],
    ),
    "images": (
        [None, None, 3],
        [
            {"type": "DepthwiseConv2D", "kernel_size": 3, "depth_multiplier": 2},
            {"type": "AdaptiveAveragePooling2D", "output_size": [2, 3]},
            {"type": "Flatten"},
        ],
    ),
    "fixed_volumes": (
        [4, None, 5, 1],
        [
            {"type": "AdaptiveAveragePooling3D", "output_size": 2},
            {"type": "GlobalAveragePooling3D", "keepdims": True},
        ],
    ),
}


@pytest.mark.parametrize("name", list(UNKNOWN_SIZES))
def test_unknown_sizes_give_keras_shapes_and_parameters(name: str) -> None:
    keras = keras_or_skip()
    shape, layers = UNKNOWN_SIZES[name]
    ours = summarize({"type": "sequential", "layers": [{"type": "Input", "shape": shape}, *layers]})
    x = inputs = keras.Input(tuple(shape))
    theirs = []
    for layer in layers:
        args = {k: v for k, v in layer.items() if k != "type"}
        keras_layer = getattr(keras.layers, layer["type"])(**args)
        x = keras_layer(x)
        theirs.append((list(x.shape[1:]), keras_layer.count_params()))
    keras.Model(inputs, x)
    rows = [row for row in ours.layers if row.type != "InputLayer"]
    assert [(row.output_shape, row.params) for row in rows] == theirs
