"""ConvLSTM1D/2D/3D against real Keras: shapes, weights (names, layouts, Keras's initial
values), outputs and final states for the same weights and inputs (masks, backwards,
strides, dilation), Keras's configs read and written, Keras loading what Cornu writes,
dropout, gradients, meta builds and errors.

The Keras numbers are in `conv_pooling_reshaping_more_outputs.json`
(gen_conv_pooling_reshaping_more.py).
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from cornu.core.engine.layers import ShapeError
from cornu.core.engine.summary import summarize
from cornu.core.spec.layers import parse_layer
from cornu.core.spec.layers.convolutional_recurrent import ConvLSTM3D
from tests.core.engine.layers.test_convolutional import (
    MORE_OUTPUTS,
    build,
    check_gradients,
    check_keras_3_round_trip,
    check_keras_loads_what_cornu_writes,
    check_meta_build,
    keras_case,
)
from tests.core.spec.keras_zoo import keras_or_skip

CONV_LSTM = [name for name, c in MORE_OUTPUTS.items() if c["layer"]["type"].startswith("ConvLSTM")]
# Keras's Sequential calls a layer without a mask and keeps one output.
UNMASKED = [
    name
    for name in CONV_LSTM
    if MORE_OUTPUTS[name]["mask"] is None and not MORE_OUTPUTS[name]["layer"].get("return_state")
]


def run(case_id: str, **changes: Any) -> tuple[Any, torch.Tensor]:
    """The case's layer (in inference mode, with `changes` to its arguments) on its input
    and mask, and Keras's output."""
    layer, x, mask, expected = keras_case(case_id, MORE_OUTPUTS)
    if changes:
        changed = build({**MORE_OUTPUTS[case_id]["layer"], **changes}, layer.input_shape)
        changed.load_state_dict(layer.state_dict())
        layer = changed
    layer.eval()
    return layer(x, mask=mask), expected


def test_the_keras_cases_cover_every_rank_and_path() -> None:
    assert {MORE_OUTPUTS[c]["layer"]["type"] for c in CONV_LSTM} == {
        "ConvLSTM1D",
        "ConvLSTM2D",
        "ConvLSTM3D",
    }
    assert {
        "convlstm1d_same_sequences_backwards",  # even kernel: uneven recurrent padding
        "convlstm1d_mask",  # masked steps keep the states and repeat the output
        "convlstm1d_mask_last",
        "convlstm2d_same_s2_hard_sigmoid",  # strides: the state is the strided frame
        "convlstm2d_dilated_no_bias",
        "convlstm2d_state",
        "convlstm3d_same",
    } <= set(CONV_LSTM)


@pytest.mark.parametrize("case_id", CONV_LSTM)
def test_outputs_and_states_equal_keras(case_id: str) -> None:
    out, expected = run(case_id)
    states: list[torch.Tensor] = []
    if isinstance(out, tuple):
        out, *states = out
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    keras_states = MORE_OUTPUTS[case_id]["states"]
    assert len(states) == len(keras_states)
    for ours, theirs in zip(states, keras_states, strict=True):
        torch.testing.assert_close(
            ours, torch.tensor(theirs).reshape(ours.shape), atol=1e-5, rtol=0
        )


def test_zero_output_for_mask_zeros_the_masked_steps_only() -> None:
    """Keras's `zero_output_for_mask`: masked steps output zeros, the states and the other
    steps are unchanged (the case's Keras output without it is the reference)."""
    out, expected = run("convlstm1d_mask", zero_output_for_mask=True)
    mask = torch.tensor(MORE_OUTPUTS["convlstm1d_mask"]["mask"], dtype=torch.bool)
    keep = mask.view(*mask.shape, 1, 1)
    torch.testing.assert_close(out, expected * keep, atol=1e-5, rtol=1e-5)
    assert out[~mask].eq(0).all() and expected[~mask].abs().sum() > 0


@pytest.mark.parametrize("case_id", CONV_LSTM)
def test_keras_configs_read_and_write_as_keras(case_id: str) -> None:
    check_keras_3_round_trip(case_id)


@pytest.mark.parametrize("case_id", UNMASKED)
def test_keras_loads_the_conv_lstms_cornu_writes(case_id: str) -> None:
    check_keras_loads_what_cornu_writes(case_id)


def test_masks_pass_on_with_the_sequence_only() -> None:
    layer, x, mask, _ = keras_case("convlstm1d_mask", MORE_OUTPUTS)
    assert layer.uses_mask and mask is not None
    assert layer.compute_mask(x, mask) is mask
    last = build({**MORE_OUTPUTS["convlstm1d_mask"]["layer"], "return_sequences": False}, (4, 5, 2))
    assert last.compute_mask(x, mask) is None
    state = build(
        {"type": "ConvLSTM1D", "filters": 2, "kernel_size": 3, "return_state": True}, (4, 5, 2)
    )
    assert state.compute_mask(x, mask) == (None, None, None)
    assert state.output_shape == [(3, 2), (3, 2), (3, 2)]


def test_initial_weights_are_keras_s() -> None:
    """glorot_uniform kernels with Keras's fans, an orthogonal recurrent kernel in Keras's
    flattened `(k·k·filters, 4·filters)` layout, and the forget gate's bias at 1."""
    torch.manual_seed(0)
    layer = build({"type": "ConvLSTM2D", "filters": 4, "kernel_size": 3}, (2, 6, 6, 8))
    weights = layer.keras_weights()
    assert [(k, tuple(v.shape)) for k, v in weights.items()] == [
        ("kernel", (3, 3, 8, 16)),
        ("recurrent_kernel", (3, 3, 4, 16)),
        ("bias", (16,)),
    ]
    limit = math.sqrt(6 / (3 * 3 * 8 + 3 * 3 * 16))
    assert limit * 0.99 < weights["kernel"].abs().max() <= limit
    flat = weights["recurrent_kernel"].reshape(-1, 16)
    torch.testing.assert_close(flat.T @ flat, torch.eye(16), atol=1e-5, rtol=0)
    assert weights["bias"].tolist() == [0.0] * 4 + [1.0] * 4 + [0.0] * 8


def test_dropout_is_training_only_and_per_gate() -> None:
    layer, x, _, expected = keras_case("convlstm2d_valid", MORE_OUTPUTS)
    dropped = build(
        {**MORE_OUTPUTS["convlstm2d_valid"]["layer"], "dropout": 0.5, "recurrent_dropout": 0.5},
        layer.input_shape,
    )
    dropped.load_state_dict(layer.state_dict())
    dropped.eval()
    torch.testing.assert_close(dropped(x), expected, atol=1e-5, rtol=1e-5)
    dropped.train()
    torch.manual_seed(0)
    first = dropped(x)
    assert first.shape == expected.shape and first.isfinite().all()
    assert not torch.allclose(first, expected, atol=1e-3)
    assert not torch.allclose(dropped(x), first, atol=1e-3)  # new masks for each batch


@pytest.mark.parametrize(
    ("layer", "input_shape"),
    [
        ({"type": "ConvLSTM1D", "filters": 2, "kernel_size": 2, "padding": "same"}, (3, 5, 2)),
        (
            {
                "type": "ConvLSTM2D",
                "filters": 2,
                "kernel_size": 3,
                "strides": 2,
                "return_sequences": True,
                "dropout": 0.2,
                "recurrent_dropout": 0.2,
            },
            (3, 5, 5, 1),
        ),
        ({"type": "ConvLSTM3D", "filters": 1, "kernel_size": 2}, (2, 3, 3, 3, 1)),
    ],
)
def test_gradients_flow_and_meta_builds(
    layer: dict[str, Any], input_shape: tuple[int, ...]
) -> None:
    check_gradients(layer, input_shape)
    meta = check_meta_build(layer, input_shape)
    real = build(layer, input_shape)
    assert meta.output_shape == real.output_shape
    assert meta.count_params() == real.count_params()


def test_an_unknown_number_of_timesteps_gives_keras_shapes() -> None:
    keras = keras_or_skip()
    layers = [
        {"type": "ConvLSTM2D", "filters": 3, "kernel_size": 3, "return_sequences": True},
        {"type": "ConvLSTM2D", "filters": 2, "kernel_size": 2, "strides": 2, "padding": "same"},
    ]
    ours = summarize(
        {"type": "sequential", "layers": [{"type": "Input", "shape": [None, 7, 6, 2]}, *layers]}
    )
    x = inputs = keras.Input((None, 7, 6, 2))
    theirs = []
    for layer in layers:
        keras_layer = keras.layers.ConvLSTM2D(**{k: v for k, v in layer.items() if k != "type"})
        x = keras_layer(x)
        theirs.append((list(x.shape[1:]), keras_layer.count_params()))
    keras.Model(inputs, x)
    rows = [row for row in ours.layers if row.type != "InputLayer"]
    assert [(row.output_shape, row.params) for row in rows] == theirs


@pytest.mark.parametrize(
    ("layer", "input_shape", "message"),
    [
        (
            {"type": "ConvLSTM2D", "filters": 2, "kernel_size": 3},
            (5, 5, 2),
            r"ConvLSTM2D needs \(timesteps, height, width, channels\) inputs, got \(5, 5, 2\)",
        ),
        (
            {"type": "ConvLSTM1D", "filters": 2, "kernel_size": 3},
            (4, 2, 2),
            r"window 3 is larger than the input \(2\)",
        ),
        (
            {"type": "ConvLSTM3D", "filters": 2, "kernel_size": 3},
            (4, 5, 5, 2),
            r"\(timesteps, depth, height, width, channels\)",
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
        (
            {"type": "ConvLSTM2D", "filters": 2, "kernel_size": 3, "data_format": "channels_first"},
            "channels_last only",
        ),
        (
            {
                "type": "ConvLSTM1D",
                "filters": 2,
                "kernel_size": 3,
                "strides": 2,
                "dilation_rate": 2,
            },
            "cannot both exceed 1",
        ),
        ({"type": "ConvLSTM1D", "filters": 2, "kernel_size": 3, "padding": "causal"}, "padding"),
        ({"type": "ConvLSTM2D", "filters": 2, "kernel_size": 3, "dropout": 1.0}, "dropout"),
        ({"type": "ConvLSTM3D", "filters": 2, "kernel_size": (3, 3)}, "kernel_size"),
    ],
)
def test_invalid_arguments_are_refused_at_once(layer: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_layer(layer)


def test_keras_defaults_and_spellings() -> None:
    layer = ConvLSTM3D.model_validate({"filters": 2, "kernel_size": 3, "padding": "SAME"})
    assert layer.kernel_size == (3, 3, 3) and layer.strides == (1, 1, 1)
    assert layer.padding == "same" and layer.activation == "tanh"
    assert layer.recurrent_activation == "sigmoid" and layer.unit_forget_bias
    assert layer.recurrent_initializer == "orthogonal"
