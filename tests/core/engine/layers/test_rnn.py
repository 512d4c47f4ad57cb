"""SimpleRNN, LSTM, GRU, RNN with cells, Bidirectional, TimeDistributed against real
Keras: output shapes and parameter counts, outputs for the same weights and inputs (masks
included), weight layouts and names; gradients against torch's nn modules; the meta
device."""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import torch
from pydantic import ValidationError
from torch import Tensor, nn

from cornu.core.engine.build import build_model
from cornu.core.engine.layers import LAYERS, Layer, ShapeError
from cornu.core.spec import SequentialSpec
from cornu.core.spec.keras_json import from_keras
from cornu.core.spec.layers import parse_layer
from tests.core.engine.layers import more_reference as more

DATA = Path(__file__).parents[3] / "data" / "keras"
SHAPES = {c["id"]: c for c in json.loads((DATA / "layer_shapes.json").read_text())["cases"]}
OUTPUTS = json.loads((DATA / "rnn_outputs.json").read_text())["cases"]
SHAPE_IDS = [
    "emb", "emb_mask", "srnn", "srnn_seq", "lstm", "lstm_seq", "lstm_state", "gru", "gru_nra",
    "gru_back", "bi_lstm", "bi_lstm_sum", "bi_gru", "td_dense", "td_conv",
]  # fmt: skip
Shape = tuple[int, ...]


def inner_layer(call: str) -> dict[str, Any]:
    """`"LSTM(16, return_sequences=True)"` (layer_shapes.json's wrapped layers) as a spec."""
    node = ast.parse(call, mode="eval").body
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    kind = node.func.id
    names = ["filters", "kernel_size"] if kind == "Conv2D" else ["units"]
    args = dict(zip(names, (ast.literal_eval(a) for a in node.args), strict=False))
    args.update({k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg})
    return {"type": kind, **args}


def keras_name(path: str) -> str:
    """A Keras variable path without the layer's own name and the cell's segment:
    `bidirectional/forward_lstm/lstm_cell/kernel` → `forward_lstm/kernel`."""
    return "/".join(p for p in path.split("/")[1:] if not p.endswith("_cell"))


def as_shapes(shape: Any) -> Any:
    return [tuple(s) for s in shape] if isinstance(shape[0], list) else tuple(shape)


def run_shapes(layer: Layer, x: Tensor) -> Any:
    """The shapes (batch left out) of what `layer` returns, as `output_shape` gives them."""
    out = layer(x)
    if isinstance(out, tuple):
        return [tuple(o.shape[1:]) for o in out]
    return tuple(out.shape[1:])


# -- 1. shapes and parameter counts ------------------------------------------------------


@pytest.mark.parametrize("case_id", SHAPE_IDS)
def test_shapes_counts_and_weights_match_keras(case_id: str) -> None:
    case = SHAPES[case_id]
    args = dict(case["args"])
    if "layer" in args:
        args["layer"] = inner_layer(args["layer"])
    shape = tuple(case["input_shapes"][0])
    layer = LAYERS[case["layer"]](parse_layer({"type": case["layer"], **args}), shape)
    assert layer.output_shape == as_shapes(case["output_shape"])
    x = (
        torch.randint(0, 10, (2, *shape))
        if case["layer"] == "Embedding"
        else torch.randn(2, *shape)
    )
    assert run_shapes(layer, x) == layer.output_shape
    assert layer.count_params() == (case["params"], case["trainable_params"])
    assert {k: list(v.shape) for k, v in layer.keras_weights().items()} == {
        keras_name(path): shape for path, shape, _ in case["weights"]
    }


@pytest.mark.parametrize(
    ("config", "input_shape", "output_shape", "params", "trainable"),
    [
        # keras.layers.X(...) on keras.Input(input_shape): output shapes, count_params(),
        # sum of trainable weights' sizes, from Keras 3.15.1.
        ({"type": "LSTM", "units": 32, "return_sequences": True, "return_state": True},
         (200, 32), [(200, 32), (32,), (32,)], 8320, 8320),
        ({"type": "GRU", "units": 32, "return_state": True}, (200, 32), [(32,), (32,)], 6336, 6336),
        ({"type": "LSTM", "units": 16, "use_bias": False}, (10, 8), (16,), 1536, 1536),
        ({"type": "LSTM", "units": 32, "trainable": False}, (200, 32), (32,), 8320, 0),
        ({"type": "Bidirectional", "layer": {"type": "GRU", "units": 16, "return_state": True},
          "merge_mode": None}, (20, 8), [(16,), (16,), (16,), (16,)], 2496, 2496),
        ({"type": "Bidirectional", "layer": {"type": "LSTM", "units": 16, "return_sequences": True,
          "return_state": True}}, (20, 8), [(20, 32), (16,), (16,), (16,), (16,)], 3200, 3200),
        ({"type": "Bidirectional", "layer": {"type": "LSTM", "units": 32}, "trainable": False},
         (200, 32), (64,), 16640, 0),
    ],
)  # fmt: skip
def test_several_outputs_and_frozen_layers_match_keras(
    config: dict[str, Any], input_shape: Shape, output_shape: Any, params: int, trainable: int
) -> None:
    layer = LAYERS[config["type"]](parse_layer(config), input_shape)
    assert layer.output_shape == output_shape
    assert layer.count_params() == (params, trainable)
    assert run_shapes(layer, torch.randn(2, *input_shape)) == output_shape


def test_parameter_counts_of_the_benchmark_sizes() -> None:
    # Keras: LSTM(32) 8320, GRU(32) 6336, SimpleRNN(32) 2080 on 32 features
    for kind, count in (("LSTM", 8320), ("GRU", 6336), ("SimpleRNN", 2080)):
        layer = LAYERS[kind](parse_layer({"type": kind, "units": 32}), (200, 32))
        assert layer.count_params() == (count, count)
        # torch's kernels take a second bias, which is a buffer here, not a weight
        assert sum(p.numel() for p in layer.parameters()) == count


# -- 2. outputs equal Keras's ------------------------------------------------------------


def load_keras_weights(layer: Layer, arrays: Sequence[Tensor]) -> None:
    """Set `layer`'s weights so that `keras_weights()` gives `arrays`, whatever the layout.

    Every stored entry is numbered; `keras_weights()` then tells where each Keras entry
    is stored, and the Keras values are written there.
    """
    params = list(layer.parameters())
    sizes = [p.numel() for p in params]
    with torch.no_grad():
        numbers = torch.arange(sum(sizes), dtype=torch.float32).split(sizes)
        for p, n in zip(params, numbers, strict=True):
            p.copy_(n.view_as(p))
        sources = [w.detach().flatten().long() for w in layer.keras_weights().values()]
        assert sorted(torch.cat(sources).tolist()) == list(range(sum(sizes)))
        flat = torch.empty(sum(sizes))
        for source, array in zip(sources, arrays, strict=True):
            flat[source] = array.flatten()
        for p, values in zip(params, flat.split(sizes), strict=True):
            p.copy_(values.view_as(p))


def run_stack(layers: list[Layer], x: Tensor) -> list[Tensor]:
    """Call each layer on the previous one's first output and mask, as Model.run does."""
    mask = None
    outs: tuple[Tensor, ...] = (x,)
    for layer in layers:
        x = outs[0]
        out = layer(x, mask=mask) if layer.uses_mask else layer(x)
        masks = layer.compute_mask(x, mask)
        outs = out if isinstance(out, tuple) else (out,)
        mask = masks[0] if isinstance(masks, tuple) else masks
    return list(outs)


def build_case(case: dict[str, Any]) -> tuple[list[Layer], Tensor]:
    integer = isinstance(case["input"][0][0], int)
    x = torch.tensor(case["input"], dtype=torch.long if integer else torch.float32)
    layers, shape = [], tuple(x.shape[1:])
    for config, weights in zip(case["layers"], case["weights"], strict=True):
        layer = LAYERS[config["type"]](parse_layer(config), shape)
        assert list(layer.keras_weights()) == [keras_name(p) for p in weights["paths"]]
        arrays = [torch.tensor(v, dtype=torch.float32) for v in weights["values"]]
        load_keras_weights(layer, arrays)
        for ours, theirs in zip(layer.keras_weights().values(), arrays, strict=True):
            assert torch.equal(ours, theirs)  # what we give as Keras's is what Keras was given
        layers.append(layer.eval())
        shape = (
            layer.output_shape[0] if isinstance(layer.output_shape, list) else layer.output_shape
        )
    return layers, x


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_outputs_equal_keras(name: str) -> None:
    case = OUTPUTS[name]
    layers, x = build_case(case)
    outputs = run_stack(layers, x)
    assert len(outputs) == len(case["outputs"])
    for ours, theirs in zip(outputs, case["outputs"], strict=True):
        torch.testing.assert_close(ours, torch.tensor(theirs), atol=1e-5, rtol=0)


def test_masks_reach_the_lstm_through_a_built_model() -> None:
    case = OUTPUTS["emb_lstm_holes_last"]
    spec = SequentialSpec.model_validate(
        {"layers": [{"type": "Input", "shape": [5]}, *case["layers"]]}
    )
    model = build_model(spec).eval()
    assert model.input_dtypes == [torch.long]
    for layer, weights in zip(model.stack, case["weights"], strict=True):
        load_keras_weights(layer, [torch.tensor(v) for v in weights["values"]])
    (output,) = model(torch.tensor(case["input"]))
    torch.testing.assert_close(output, torch.tensor(case["outputs"][0]), atol=1e-5, rtol=0)


def test_keras_json_embedding_lstm_model_builds_as_keras_summarises_it() -> None:
    spec = SequentialSpec.model_validate(
        from_keras((DATA / "keras3_embedding_lstm.json").read_text())
    )
    model = build_model(spec)
    # expected_summaries.json: Embedding 320000, LSTM 8320, Dense 33 → 328353
    assert [(r.name, r.output_shape, r.params) for r in model.summary()] == [
        ("embedding", (200, 32), 320_000),
        ("lstm", (32,), 8_320),
        ("dense", (1,), 33),
    ]
    assert model.count_params() == (328_353, 328_353)
    (y,) = model(torch.randint(0, 10_000, (4, 200)))
    assert y.shape == (4, 1)


# -- 3. gradients against torch's own modules --------------------------------------------


def torch_twin(layer: Layer) -> nn.RNNBase:
    """nn.LSTM / nn.GRU / nn.RNN with `layer`'s weights (a zero recurrent bias where Keras
    has one bias)."""
    kind = type(layer).__name__
    twin: nn.RNNBase
    features, units = layer.input_shape[-1], layer.spec.units
    if kind == "LSTM":
        twin = nn.LSTM(features, units, batch_first=True)
    elif kind == "GRU":
        twin = nn.GRU(features, units, batch_first=True)
    else:
        twin = nn.RNN(features, units, batch_first=True)
    with torch.no_grad():
        twin.weight_ih_l0.copy_(layer.weight_ih)
        twin.weight_hh_l0.copy_(layer.weight_hh)
        bias = layer.bias
        twin.bias_ih_l0.copy_(bias[0] if bias.dim() == 2 else bias)
        twin.bias_hh_l0.copy_(bias[1] if bias.dim() == 2 else torch.zeros_like(bias))
    return twin


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("masked", [False, True])
def test_outputs_and_gradients_equal_torch_modules(kind: str, masked: bool) -> None:
    """With a mask, the reference runs nn's module on each sample's valid steps alone."""
    torch.manual_seed(1)
    layer = LAYERS[kind](parse_layer({"type": kind, "units": 5}), (7, 4))
    twin = torch_twin(layer)
    x = torch.randn(3, 7, 4)
    mask = torch.tensor([[1, 0, 1, 1, 0, 0, 1], [1] * 7, [0, 0, 0, 1, 1, 1, 1]]).bool()
    ours = layer(x, mask=mask if masked else None)
    if masked:
        reference = torch.stack([twin(x[i, mask[i]].unsqueeze(0))[0][0, -1] for i in range(3)])
    else:
        reference = twin(x)[0][:, -1]
    torch.testing.assert_close(ours, reference)
    weights = torch.randn_like(ours)
    (ours * weights).sum().backward()
    (reference * weights).sum().backward()
    torch.testing.assert_close(layer.weight_ih.grad, twin.weight_ih_l0.grad)
    torch.testing.assert_close(layer.weight_hh.grad, twin.weight_hh_l0.grad)
    bias_grads = (twin.bias_ih_l0.grad, twin.bias_hh_l0.grad)
    expected = torch.stack(bias_grads) if kind == "GRU" else bias_grads[0]
    torch.testing.assert_close(layer.bias.grad, expected)


@pytest.mark.parametrize(
    "config",
    [
        {"type": "GRU", "units": 4, "reset_after": False, "return_sequences": True},
        {"type": "LSTM", "units": 4, "activation": "relu"},
        {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 4, "return_sequences": True}},
        {"type": "Bidirectional", "layer": {"type": "GRU", "units": 4}, "merge_mode": "mul"},
        {"type": "TimeDistributed", "layer": {"type": "Dense", "units": 3}},
    ],
)
def test_every_weight_gets_a_gradient(config: dict[str, Any]) -> None:
    layer = LAYERS[config["type"]](parse_layer(config), (6, 3))
    x = torch.randn(2, 6, 3, requires_grad=True)
    mask = torch.tensor([[1, 1, 0, 1, 1, 0], [0, 1, 1, 1, 1, 1]]).bool()
    out = layer(x, mask=mask)
    out.square().sum().backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert (
        x.grad is not None and x.grad[0, 2].abs().sum() == 0 or config["type"] == "TimeDistributed"
    )


# -- masks and dropout -------------------------------------------------------------------


def test_output_mask_follows_keras() -> None:
    mask = torch.tensor([[True, False, True]])
    x = torch.randn(1, 3, 2)
    sequences = LAYERS["LSTM"](
        parse_layer({"type": "LSTM", "units": 2, "return_sequences": True, "return_state": True}),
        (3, 2),
    )
    assert sequences.compute_mask(x, mask) == (mask, None, None)
    last = LAYERS["GRU"](parse_layer({"type": "GRU", "units": 2}), (3, 2))
    assert last.compute_mask(x, mask) is None
    both = LAYERS["Bidirectional"](
        parse_layer({"type": "Bidirectional", "merge_mode": None,
                     "layer": {"type": "GRU", "units": 2, "return_sequences": True}}), (3, 2)
    )  # fmt: skip
    assert both.compute_mask(x, mask) == (mask, mask)
    steps = LAYERS["TimeDistributed"](
        parse_layer({"type": "TimeDistributed", "layer": {"type": "Dense", "units": 4}}), (3, 2)
    )
    assert steps.compute_mask(x, mask) is mask


def test_input_dropout_is_one_mask_per_sample_for_all_steps() -> None:
    """One feature, constant over time: each sample sees it doubled at every step or never."""
    torch.manual_seed(0)
    config = {"type": "SimpleRNN", "units": 3, "dropout": 0.5, "return_sequences": True}
    layer = LAYERS["SimpleRNN"](parse_layer(config), (6, 1))
    x = torch.ones(64, 6, 1)
    with torch.no_grad():
        kept, dropped = layer.eval()(2 * x), layer(0 * x)
        out = layer.train()(x)
    is_kept = (out - kept).abs().amax((1, 2)) < 1e-6
    is_dropped = (out - dropped).abs().amax((1, 2)) < 1e-6
    assert bool((is_kept | is_dropped).all()) and 10 < int(is_kept.sum()) < 54


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_recurrent_dropout_trains_with_noise_and_predicts_without(kind: str) -> None:
    torch.manual_seed(0)
    config = {"type": kind, "units": 4, "dropout": 0.3, "recurrent_dropout": 0.3}
    noisy = LAYERS[kind](parse_layer(config), (5, 3))
    plain = LAYERS[kind](parse_layer({"type": kind, "units": 4}), (5, 3))
    plain.load_state_dict(noisy.state_dict())
    x = torch.randn(8, 5, 3)
    torch.testing.assert_close(noisy.eval()(x), plain.eval()(x))
    assert not torch.allclose(noisy.train()(x), plain(x))


# -- initial values, constraints, errors, meta ---------------------------------------------


@pytest.mark.parametrize(("kind", "gates"), [("SimpleRNN", 1), ("LSTM", 4), ("GRU", 3)])
def test_initial_weights_follow_keras(kind: str, gates: int) -> None:
    torch.manual_seed(0)
    units, features = 16, 24
    weights = LAYERS[kind](
        parse_layer({"type": kind, "units": units}), (5, features)
    ).keras_weights()
    kernel, recurrent, bias = weights["kernel"], weights["recurrent_kernel"], weights["bias"]
    limit = math.sqrt(6 / (features + gates * units))  # glorot_uniform on (in, gates·units)
    assert kernel.abs().max() <= limit and kernel.abs().max() > 0.95 * limit
    # orthogonal on Keras's (units, gates·units): orthonormal rows
    torch.testing.assert_close(recurrent @ recurrent.T, torch.eye(units), atol=1e-5, rtol=0)
    expected = torch.zeros_like(bias)
    if kind == "LSTM":
        expected[units : 2 * units] = 1.0  # unit_forget_bias
    assert torch.equal(bias, expected)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_constraints_act_on_keras_layout(kind: str) -> None:
    config = {"type": kind, "units": 4, "kernel_constraint": {"type": "max_norm", "max_value": 0.1},
              "recurrent_constraint": "non_neg"}  # fmt: skip
    layer = LAYERS[kind](parse_layer(config), (5, 6))
    with torch.no_grad():
        layer.weight_ih.mul_(10)
    layer.apply_constraints()
    weights = layer.keras_weights()
    # max_norm(axis=0): every column (one unit of one gate) of the (in, gates·units) kernel
    assert weights["kernel"].norm(dim=0).max() <= 0.1 + 1e-6
    assert weights["recurrent_kernel"].min() >= 0


def test_go_backwards_returns_the_sequence_in_processing_order() -> None:
    forward = LAYERS["GRU"](
        parse_layer({"type": "GRU", "units": 3, "return_sequences": True}), (4, 2)
    )
    backward = LAYERS["GRU"](
        parse_layer({"type": "GRU", "units": 3, "return_sequences": True, "go_backwards": True}),
        (4, 2),
    )
    backward.load_state_dict(forward.state_dict())
    x = torch.randn(2, 4, 2)
    torch.testing.assert_close(backward(x), forward(x.flip(1)))


@pytest.mark.parametrize(
    ("config", "input_shape", "message"),
    [
        ({"type": "LSTM", "units": 4}, (784,), r"\(timesteps, features\) inputs, got \(784,\)"),
        ({"type": "GRU", "units": 4}, (28, 28, 1), "add a Reshape"),
        ({"type": "TimeDistributed", "layer": {"type": "Dense", "units": 2}}, (16,), "timesteps"),
        (
            {
                "type": "TimeDistributed",
                "layer": {"type": "LSTM", "units": 2, "return_state": True},
            },
            (3, 4, 5),
            "one output",
        ),
        (
            {
                "type": "Bidirectional",
                "merge_mode": "sum",
                "layer": {"type": "LSTM", "units": 4},
                "backward_layer": {"type": "LSTM", "units": 5, "go_backwards": True},
            },
            (3, 2),
            "same units",
        ),
    ],
)
def test_shape_errors_say_what_to_do(
    config: dict[str, Any], input_shape: Shape, message: str
) -> None:
    with pytest.raises(ShapeError, match=message):
        LAYERS[config["type"]](parse_layer(config), input_shape)


@pytest.mark.parametrize(
    "config",
    [
        {"type": "LSTM", "units": 32},
        {"type": "GRU", "units": 32, "reset_after": False},
        {"type": "SimpleRNN", "units": 32},
        {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 32}},
        {"type": "TimeDistributed", "layer": {"type": "Dense", "units": 32}},
    ],
)
def test_builds_on_the_meta_device(config: dict[str, Any]) -> None:
    with torch.device("meta"):
        layer = LAYERS[config["type"]](parse_layer(config), (200, 32))
    assert all(p.is_meta for p in layer.parameters())
    assert layer.count_params()[0] > 0


# -- specs ---------------------------------------------------------------------------------


def test_bidirectional_weights_have_keras_names() -> None:
    config = {
        "type": "Bidirectional",
        "layer": {"type": "GRU", "units": 2, "name": "enc"},
        "backward_layer": {"type": "GRU", "units": 2, "go_backwards": True, "name": "back"},
    }
    given = LAYERS["Bidirectional"](parse_layer(config), (3, 2))
    assert list(given.keras_weights()) == [
        f"{d}/{w}" for d in ("forward_enc", "back") for w in ("kernel", "recurrent_kernel", "bias")
    ]


def test_keras_json_of_every_layer_builds_as_keras_summarises_it() -> None:
    """Keras 3's `model.to_json()` (wrappers nest their layer's config) through the importer."""
    model_data = json.loads((DATA / "rnn_outputs.json").read_text())["model"]
    model = build_model(SequentialSpec.model_validate(from_keras(model_data["json"])))
    assert [[r.name, list(r.output_shape), r.params] for r in model.summary()] == model_data[
        "summary"
    ]


def test_tf_keras_2_keys_are_accepted() -> None:
    config = {
        "type": "GRU",
        "units": 3,
        "implementation": 2,
        "time_major": False,
        "unroll": False,
        "reset_after": True,
        "stateful": False,
    }
    assert parse_layer(config).type == "GRU"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"type": "GRU", "units": 3, "time_major": True}, "time_major=True is not supported"),
        ({"type": "LSTM", "units": 3, "dropout": 1.0}, "less than 1"),
        ({"type": "Bidirectional", "layer": {"type": "Dense", "units": 3}}, "recurrent layer"),
        ({"type": "Bidirectional", "layer": {"type": "LSTM", "units": 3, "go_backwards": True}},
         "both have go_backwards=true"),
        ({"type": "Bidirectional", "layer": {"type": "LSTM", "units": 3},
          "backward_layer": {"type": "LSTM", "units": 3, "go_backwards": True,
                             "return_sequences": True}}, "return_sequences"),
        ({"type": "TimeDistributed",
          "layer": {"type": "Dense", "units": 2, "activity_regularizer": "l2"}},
         "activity_regularizer"),
        ({"type": "TimeDistributed", "layer": {"type": "Dens", "units": 2}}, "did you mean"),
    ],
)  # fmt: skip
def test_refused_arguments_say_why(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_layer(config)


# -- RNN with cells (RNN(LSTMCell), RNN([cells]), StackedRNNCells) against Keras ----------
# (more_layers_outputs.json, from tests/data/keras/gen_more_layers.py)


@pytest.mark.parametrize("case_id", more.cases_of("RNN"))
def test_rnn_with_cells_matches_keras(case_id: str) -> None:
    """Keras's output shapes (a stack's states flattened in the cells' order), parameter
    counts, weights (Keras's paths less the cell's, or the stack's, name), outputs and
    masks: one cell of each kind, masks with holes, go_backwards, return_state, a list
    of cells, a StackedRNNCells, zero_output_for_mask, GRU's reset_after=False."""
    more.check_outputs(case_id)


def test_rnn_with_a_cell_computes_what_the_recurrent_layer_computes() -> None:
    """RNN(LSTMCell(3)) with LSTM(3)'s weights gives LSTM(3)'s output."""
    rnn = more.keras_layer("rnn_lstm_cell").eval()
    lstm = LAYERS["LSTM"](parse_layer({"type": "LSTM", "units": 3}), (5, 4)).eval()
    lstm.load_state_dict(rnn.cells[0].state_dict())
    x = torch.randn(2, 5, 4)
    torch.testing.assert_close(rnn(x), lstm(x))


def test_keras_json_with_rnn_cells_imports_and_computes_what_keras_computes() -> None:
    """Masking → RNN([LSTMCell, GRUCell], return_sequences) → RNN(SimpleRNNCell), from
    Keras's `to_json()` with Keras's weights."""
    case = more.MODELS["rnn_cells_tf_keras_form"]
    model = more.keras_model("rnn_cells_tf_keras_form")
    out = model(torch.tensor(case["inputs"][0]))[0]
    torch.testing.assert_close(out, torch.tensor(case["outputs"][0]), atol=1e-5, rtol=1e-5)


def test_keras_loads_the_json_cornu_writes_for_rnn_cells() -> None:
    """Keras 3 rebuilds Cornu's RNN layers (a cell, a list of cells, a StackedRNNCells,
    each cell with the input it is built for) and predicts what Cornu predicts."""
    torch.manual_seed(0)
    more.keras_agrees(
        [
            {"type": "Input", "shape": [6, 3]},
            {"type": "Masking"},
            {
                "type": "RNN",
                "cell": [{"type": "GRUCell", "units": 5}, {"type": "LSTMCell", "units": 2}],
                "return_sequences": True,
            },
            {
                "type": "RNN",
                "cell": {
                    "type": "StackedRNNCells",
                    "cells": [
                        {"type": "SimpleRNNCell", "units": 4},
                        {"type": "SimpleRNNCell", "units": 3},
                    ],
                },
                "return_sequences": True,
                "go_backwards": True,
            },
            {"type": "RNN", "cell": {"type": "LSTMCell", "units": 2, "unit_forget_bias": False}},
        ],
        torch.randn(3, 6, 3) * (torch.arange(6) < 4).float()[:, None],
    )


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "SimpleRNNCell"])
def test_a_cell_alone_is_not_a_layer(kind: str) -> None:
    with pytest.raises(ShapeError, match=rf"RNN\({kind}"):
        LAYERS[kind](parse_layer({"type": kind, "units": 2}), (5, 3))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"cell": {"type": "LSTMCell", "units": 2, "activity_regularizer": "l2"}}, "ActivityReg"),
        ({"cell": {"type": "Dense", "units": 2}}, "LSTMCell"),
        ({"cell": []}, "at least 1"),
    ],
)
def test_rnn_refusals_say_why(args: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_layer({"type": "RNN", "cell": {"type": "LSTMCell", "units": 2}, **args})


def test_rnn_cell_names_follow_kerass_defaults() -> None:
    layer = parse_layer(
        {
            "type": "RNN",
            "cell": [{"type": "LSTMCell", "units": 2}] * 2 + [{"type": "GRUCell", "units": 1}],
        }
    )
    assert layer.cell_names == ["lstm_cell", "lstm_cell_1", "gru_cell"]  # type: ignore[attr-defined]
    built = LAYERS["RNN"](layer, (4, 3))
    assert list(built.keras_weights())[::3] == [
        "lstm_cell/kernel",
        "lstm_cell_1/kernel",
        "gru_cell/kernel",
    ]


def test_rnn_with_cells_trains_every_weight_and_builds_on_meta() -> None:
    spec = {
        "type": "RNN",
        "cell": [{"type": "GRUCell", "units": 3}, {"type": "LSTMCell", "units": 2}],
    }
    layer = LAYERS["RNN"](parse_layer(spec), (5, 4)).train()
    layer(torch.randn(2, 5, 4)).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in layer.parameters())
    with torch.device("meta"):
        meta = LAYERS["RNN"](parse_layer(spec), (5, 4))
    assert meta.count_params() == layer.count_params() == (81 + 48, 81 + 48)


def test_tf_keras_2_rnn_with_cells_json_is_read() -> None:
    """tf.keras 2 writes RNN(cells) without `module`s, with string dtypes and a cell's
    `implementation`, and `time_major`; the same layer results."""
    lstm_cell = {
        "class_name": "LSTMCell",
        "config": {
            "name": "lstm_cell", "trainable": True, "dtype": "float32", "units": 4,
            "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
            "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "unit_forget_bias": True, "kernel_regularizer": None, "recurrent_regularizer": None,
            "bias_regularizer": None, "kernel_constraint": None, "recurrent_constraint": None,
            "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 2,
        },
    }  # fmt: skip
    gru_cell = {
        "class_name": "GRUCell",
        "config": {"name": "gru_cell", "units": 2, "dtype": "float32"},
    }
    rnn = {
        "class_name": "RNN",
        "config": {
            "name": "rnn", "trainable": True, "dtype": "float32",
            "batch_input_shape": [None, 6, 3], "return_sequences": False, "return_state": False,
            "go_backwards": False, "stateful": False, "unroll": False, "time_major": False,
            "cell": {
                "class_name": "StackedRNNCells",
                "config": {"name": "stacked_rnn_cells", "trainable": True, "dtype": "float32",
                           "cells": [lstm_cell, gru_cell]},
            },
        },
    }  # fmt: skip
    model_json = {"class_name": "Sequential", "config": {"name": "s", "layers": [rnn]}}
    model = build_model(SequentialSpec.model_validate(from_keras(model_json)))
    assert list(model.keras_weights())[::3] == ["rnn/lstm_cell/kernel", "rnn/gru_cell/kernel"]
    assert model.output_shape == (2,)
