"""MultiHeadAttention against real Keras: shapes, parameter counts, weight names and
layouts, outputs for the same weights and inputs (causal, masked, cross-attention with a
key, value_dim and output_shape), the output mask; dropout; gradients; the meta device;
and the layer inside a functional model."""

from __future__ import annotations

import math

import pytest
import torch
from pydantic import ValidationError

from cornu.core.engine.build import build_model
from cornu.core.engine.layers import LAYERS, ShapeError
from cornu.core.spec import FunctionalSpec
from cornu.core.spec.keras_json import from_keras
from cornu.core.spec.layers import parse_layer
from cornu.core.spec.layers.attention import MultiHeadAttention
from tests.core.engine.layers import more_reference as more
from tests.core.engine.layers.keras_reference import (
    FUNCTIONAL_MODEL,
    OUTPUTS,
    build,
    check_against_keras_summary,
    expected,
    inputs_of,
    with_keras_weights,
)

MHA_CASES = [k for k in OUTPUTS if k.startswith("mha_")]


@pytest.mark.parametrize("case_id", ["mha", "mha_b"])
def test_shapes_counts_and_weights_match_keras(case_id: str) -> None:
    check_against_keras_summary(case_id)


@pytest.mark.parametrize(
    ("args", "input_shapes", "output_shape", "params"),
    [
        # keras.layers.MultiHeadAttention(**args)(*inputs): output shape, count_params()
        ({"num_heads": 2, "key_dim": 16}, [(10, 32), (10, 32)], (10, 32), 4224),
        (
            {"num_heads": 4, "key_dim": 8, "value_dim": 6, "output_shape": 20},
            [(10, 32), (7, 24), (7, 12)],
            (10, 20),
            2572,
        ),
        ({"num_heads": 3, "key_dim": 5, "use_bias": False}, [(6, 16), (9, 16)], (6, 16), 960),
        (
            {"num_heads": 2, "key_dim": 4, "output_shape": [3, 5]},
            [(6, 16), (9, 16)],
            (6, 3, 5),
            543,
        ),
    ],
)
def test_more_shapes_and_counts_match_keras(
    args: dict[str, object],
    input_shapes: list[tuple[int, ...]],
    output_shape: tuple[int, ...],
    params: int,
) -> None:
    layer = build({"type": "MultiHeadAttention", **args}, input_shapes)
    assert layer.output_shape == output_shape
    assert layer.count_params() == (params, params)
    inputs = [torch.randn(2, *shape) for shape in input_shapes]
    assert tuple(layer(inputs).shape) == (2, *output_shape)


@pytest.mark.parametrize("case_id", MHA_CASES)
def test_outputs_and_mask_match_keras(case_id: str) -> None:
    case = OUTPUTS[case_id]
    layer = with_keras_weights(case).eval()
    inputs, masks = inputs_of(case)
    torch.testing.assert_close(layer(inputs, mask=masks), expected(case["output"]))
    out_mask = layer.compute_mask(inputs, masks)
    assert (None if out_mask is None else out_mask.tolist()) == case["output_mask"]


def test_dropout_acts_on_attention_weights_only_while_training() -> None:
    case = OUTPUTS["mha_self"]
    layer = with_keras_weights({**case, "layer": {**case["layer"], "dropout": 0.5}})
    inputs, _ = inputs_of(case)
    torch.testing.assert_close(layer.eval()(inputs), expected(case["output"]))
    torch.manual_seed(0)
    assert not torch.allclose(layer.train()(inputs), expected(case["output"]))


def test_scaled_by_one_over_sqrt_key_dim_as_a_hand_computation() -> None:
    """One head, identity-like projections: the output is softmax(q kᵀ / sqrt(d)) v."""
    layer = build({"type": "MultiHeadAttention", "num_heads": 1, "key_dim": 4}, [(3, 4), (5, 4)])
    eye = torch.eye(4)
    with torch.no_grad():
        for name in ("query", "key", "value"):
            layer.keras_weights()[f"{name}/kernel"].copy_(eye.reshape(4, 1, 4))
        layer.keras_weights()["attention_output/kernel"].copy_(eye.reshape(1, 4, 4))
    q, v = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
    weights = torch.softmax(q @ v.transpose(1, 2) / math.sqrt(4), dim=-1)
    torch.testing.assert_close(layer([q, v]), weights @ v)


def test_kernels_initialise_with_keras_einsum_dense_fans() -> None:
    """Keras 3 gives a (features, heads, key_dim) kernel the fans of a (features,
    heads * key_dim) Dense kernel: glorot_uniform's limit is sqrt(6 / (32 + 64))."""
    torch.manual_seed(0)
    layer = build({"type": "MultiHeadAttention", "num_heads": 4, "key_dim": 16}, [(8, 32)] * 2)
    kernel = layer.keras_weights()["query/kernel"]
    limit = math.sqrt(6 / (32 + 64))
    assert kernel.abs().max() <= limit
    assert kernel.var().item() == pytest.approx(limit**2 / 3, rel=0.1)


@pytest.mark.parametrize(
    ("args", "input_shapes", "message"),
    [
        ({}, [(5, 8)], "got 1 inputs"),
        ({}, [(5, 8), (4, 4, 8)], "value has 3 axes"),
        ({}, [(5, 8), (7, 8), (6, 8)], "same number"),
        ({"attention_axes": [2]}, [(5, 8), (5, 8)], "attention_axes=\\[2\\]"),
    ],
)
def test_unsupported_inputs_are_shape_errors(
    args: dict[str, object], input_shapes: list[tuple[int, ...]], message: str
) -> None:
    with pytest.raises(ShapeError, match=message):
        build({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4, **args}, input_shapes)


def test_accepts_what_keras_get_config_emits() -> None:
    # Keras 3.15 after building (attention_axes filled in), and tf.keras 2's build shapes
    keras3 = {"value_dim": 4, "use_gate": False, "attention_axes": [1], "sliding_window": None}
    tf_keras2 = {"query_shape": [None, 5, 8], "key_shape": None, "value_shape": [None, 5, 8]}
    for extra in (keras3, tf_keras2):
        spec = parse_layer({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4, **extra})
        assert LAYERS["MultiHeadAttention"](spec, [(5, 8), (5, 8)]).output_shape == (5, 8)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"use_gate": True}, "use_gate"),
        ({"sliding_window": 4}, "sliding_window"),
        ({"dropout": 0.1, "flash_attention": True}, "flash_attention=True"),
        ({"dropout": 1.0}, "less than 1"),
    ],
)
def test_refused_options_say_why(args: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_layer({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4, **args})


def test_gradients_reach_inputs_and_every_weight() -> None:
    layer = build(
        {"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 3, "use_causal_mask": True},
        [(5, 6), (7, 4)],
    )
    q = torch.randn(2, 5, 6, requires_grad=True)
    v = torch.randn(2, 7, 4, requires_grad=True)
    mask = [torch.tensor([[True] * 5, [True] * 3 + [False] * 2]), None]
    layer([q, v], mask=mask).square().sum().backward()
    assert q.grad is not None and v.grad is not None
    for name, weight in layer.named_parameters():
        assert weight.grad is not None and weight.grad.abs().sum() > 0, name


def test_builds_on_the_meta_device() -> None:
    with torch.device("meta"):
        layer = LAYERS["MultiHeadAttention"](
            MultiHeadAttention(num_heads=2, key_dim=16), [(10, 32), (10, 32)]
        )
    assert layer.query_kernel.is_meta
    assert layer.count_params() == (4224, 4224)


def test_self_attention_in_a_functional_model() -> None:
    spec = FunctionalSpec.model_validate(
        {
            "inputs": [{"name": "tokens", "shape": [6, 8]}],
            "layers": [
                {
                    "name": "attention",
                    "type": "MultiHeadAttention",
                    "num_heads": 2,
                    "key_dim": 4,
                    "use_causal_mask": True,
                    "inputs": ["tokens", "tokens"],
                },
            ],
            "outputs": ["attention"],
        }
    )
    model = build_model(spec)
    assert model.output_shape == (6, 8)
    assert model.count_params() == (4 * (8 * 8 + 8), 4 * (8 * 8 + 8))
    x = torch.randn(3, 6, 8)
    first = model(x)[0]
    changed = x.clone()
    changed[:, -1] += 1.0  # causal: the last step cannot change earlier outputs
    torch.testing.assert_close(model(changed)[0][:, :-1], first[:, :-1])


def test_a_keras_model_json_imports_and_computes_what_keras_computes() -> None:
    """Embedding(mask_zero) → MultiHeadAttention(x, x, use_causal_mask=True) → Add →
    LayerNormalization → Dense, from Keras 3's `to_json()`, with Keras's weights."""
    case = FUNCTIONAL_MODEL
    model = build_model(FunctionalSpec.model_validate(from_keras(case["model_json"])))
    weights = model.keras_weights()
    assert list(weights) == list(case["weights"])
    with torch.no_grad():
        for name, value in case["weights"].items():
            weights[name].copy_(torch.tensor(value))
    ids = torch.tensor(case["inputs"][0])
    torch.testing.assert_close(model.eval()(ids)[0], expected(case["output"]))


# -- Attention, AdditiveAttention, GroupQueryAttention against Keras ----------------------
# (more_layers_outputs.json, from tests/data/keras/gen_more_layers.py)


@pytest.mark.parametrize("case_id", more.cases_of("Attention", "AdditiveAttention"))
def test_dense_attention_matches_keras(case_id: str) -> None:
    """Keras's output shapes, weights (`scale`, `concat_score_weight`), outputs and
    masks for dot and concat scores, with and without scale, a separate key, the causal
    mask, query and value masks, the attention scores as a second output, and dropout
    at inference."""
    more.check_outputs(case_id)


@pytest.mark.parametrize("case_id", more.cases_of("GroupQueryAttention"))
def test_group_query_attention_matches_keras(case_id: str) -> None:
    """Keras's weights (query, key, gate, value, attention_output), outputs and masks:
    self and cross attention, causal, masked (fully masked queries included), without
    bias, sliding windows, the gate, dropout at inference, and the scores."""
    # Keras's scores carry the mask of its internal Softmax layer, an artefact no Keras
    # layer reads; Cornu gives the scores no mask, so only the output's mask is compared.
    more.check_outputs(case_id, masks_compared=1)


def test_attention_dropout_drops_weights_only_while_training() -> None:
    case = more.CASES["attention_dropout_inference"]
    layer = more.keras_layer("attention_dropout_inference")
    (q, v), masks = more.inputs_of(case)
    torch.manual_seed(0)
    trained = layer.train()([q, v], mask=masks)
    assert not torch.allclose(trained, torch.tensor(case["outputs"][0]), atol=1e-3)
    torch.testing.assert_close(layer.eval()([q, v], mask=masks), torch.tensor(case["outputs"][0]))


def test_group_query_attention_dropout_trains_with_noise() -> None:
    case = more.CASES["gqa_dropout_inference_masked"]
    layer = more.keras_layer("gqa_dropout_inference_masked").train()
    (q, v), masks = more.inputs_of(case)
    torch.manual_seed(0)
    assert not torch.allclose(layer([q, v], mask=masks), torch.tensor(case["outputs"][0]))


@pytest.mark.parametrize(
    ("spec", "input_shapes", "message"),
    [
        ({"type": "Attention"}, [(5, 4), (7, 6)], "same number"),
        ({"type": "AdditiveAttention"}, [(5, 4), (7, 4), (6, 4)], "same number of steps|steps"),
        ({"type": "Attention"}, [(5, 4, 2), (7, 4)], r"\(steps, features\)"),
        ({"type": "Attention"}, [(5, 4)], r"\[query, value\]"),
        (
            {"type": "GroupQueryAttention", "head_dim": 2, "num_query_heads": 2,
             "num_key_value_heads": 1},
            [(5, 4), (7, 6)],
            "same features",
        ),
    ],
)  # fmt: skip
def test_attention_shape_errors_say_what_is_wrong(
    spec: dict[str, object], input_shapes: list[tuple[int, ...]], message: str
) -> None:
    with pytest.raises(ShapeError, match=message):
        build(spec, input_shapes)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"num_query_heads": 4, "num_key_value_heads": 3}, "multiple of num_key_value_heads"),
        ({"activity_regularizer": "l2"}, "ActivityRegularization layer after it"),
        ({"flash_attention": True, "dropout": 0.1}, "does not allow dropout"),
        ({"flash_attention": True, "return_attention_scores": True}, "cannot return"),
    ],
)
def test_group_query_attention_refusals_say_why(args: dict[str, object], message: str) -> None:
    base = {"type": "GroupQueryAttention", "head_dim": 2, "num_query_heads": 4}
    with pytest.raises(ValidationError, match=message):
        parse_layer({**base, "num_key_value_heads": 2, **args})


def test_tf_keras_2_attention_causal_argument_is_the_causal_mask() -> None:
    assert parse_layer({"type": "Attention", "causal": True}).use_causal_mask is True
    assert parse_layer({"type": "AdditiveAttention", "causal": False}).use_causal_mask is False


def test_attention_layers_build_on_the_meta_device() -> None:
    gqa = {"type": "GroupQueryAttention", "head_dim": 8, "num_query_heads": 4}
    with torch.device("meta"):
        grouped = build({**gqa, "num_key_value_heads": 2, "use_gate": True}, [(10, 32), (12, 32)])
        additive = build({"type": "AdditiveAttention"}, [(10, 32), (12, 32)])
    assert grouped.query_kernel.is_meta and additive.scale is not None and additive.scale.is_meta
    # Keras: GroupQueryAttention(8, 4, 2, use_gate=True) on (10, 32), (12, 32): 4,224 params
    assert grouped.count_params() == (4224, 4224)


def test_keras_json_with_attention_layers_imports_and_computes_what_keras_computes() -> None:
    """Masking → Attention([m, m], use_causal_mask, return_attention_scores) →
    AdditiveAttention → GroupQueryAttention → EinsumDense, from Keras's `to_json()` with
    Keras's weights: both outputs (the head and the attention scores)."""
    case = more.MODELS["attention_functional"]
    model = more.keras_model("attention_functional")
    outputs = model(torch.tensor(case["inputs"][0]))
    assert len(outputs) == 2
    for out, want in zip(outputs, case["outputs"], strict=True):
        torch.testing.assert_close(out, torch.tensor(want), atol=1e-5, rtol=1e-5)


def test_keras_loads_the_json_cornu_writes_for_attention_layers() -> None:
    """The same model written back by Cornu: Keras 3 loads it (the list call of
    Attention, its call options, GroupQueryAttention's build shapes) and agrees."""
    spec = FunctionalSpec.model_validate(
        from_keras(more.MODELS["attention_functional"]["model_json"])
    )
    torch.manual_seed(0)
    more.keras_agrees(spec, torch.randn(3, 5, 4) * (torch.arange(5) < 4).float()[:, None])
