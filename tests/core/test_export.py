"""Exported models compute what the engine's model computes: TorchScript (reloaded with
`torch.jit.load`) and ONNX (run by onnxruntime), on batches of other sizes than the one
recorded; masked recurrent layers are refused with the layer's name and the reason."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from pydantic import TypeAdapter
from torch import Tensor

from cornu.core.engine.build import build_model
from cornu.core.engine.model import Model
from cornu.core.errors import CornuError, SpecError
from cornu.core.export import to_onnx, to_torchscript
from cornu.core.spec import ModelSpec

# Notices that torch's exporters raise about torch's own future, and the exporter's note
# that all inputs share one "batch" axis.
pytestmark = [
    pytest.mark.filterwarnings("ignore:_check_is_size:FutureWarning"),
    pytest.mark.filterwarnings("ignore:`isinstance\\(treespec, LeafSpec\\)`:FutureWarning"),
    pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:# The axis name. batch will not be used:UserWarning"),
]
IDS = 20  # every Embedding below has at least this many rows


def sequential(shape: list[int], first: dict[str, Any], *rest: dict[str, Any]) -> Any:
    return {"type": "sequential", "layers": [{**first, "input_shape": shape}, *rest]}


def functional(inputs: dict[str, list[int]], outputs: list[str], *layers: Any) -> Any:
    named = [{"name": name, "shape": shape} for name, shape in inputs.items()]
    return {"type": "functional", "inputs": named, "layers": list(layers), "outputs": outputs}


def dense(units: int, activation: str | None = None, **more: Any) -> dict[str, Any]:
    return {"type": "Dense", "units": units, "activation": activation, **more}


CONVNET = sequential(
    [12, 12, 1],
    {"type": "Conv2D", "filters": 8, "kernel_size": 3, "activation": "relu"},
    {"type": "MaxPooling2D", "pool_size": 2},
    {"type": "Conv2D", "filters": 16, "kernel_size": 3},
    {"type": "Flatten"},
    dense(10, "softmax"),
)
LSTM = sequential(
    [7],
    {"type": "Embedding", "input_dim": 100, "output_dim": 8},
    {"type": "LSTM", "units": 8},
    dense(1, "sigmoid"),
)
TWO_IN_TWO_OUT = functional(
    {"a": [4], "b": [3]},
    ["y1", "y2"],
    {"name": "da", "inputs": ["a"], **dense(5, "relu")},
    {"name": "db", "inputs": ["b"], **dense(5)},
    {"name": "sum", "type": "Add", "inputs": ["da", "db"]},
    {"name": "cat", "type": "Concatenate", "inputs": ["da", "db"]},
    {"name": "y1", "inputs": ["sum"], **dense(3, "softmax")},
    {"name": "y2", "inputs": ["cat"], **dense(1, "sigmoid")},
)


def attention(mask_zero: bool) -> Any:
    return functional(
        {"ids": [6]},
        ["out"],
        {
            "name": "emb",
            "type": "Embedding",
            "input_dim": IDS,
            "output_dim": 8,
            "mask_zero": mask_zero,
            "inputs": ["ids"],
        },
        {
            "name": "mha",
            "type": "MultiHeadAttention",
            "num_heads": 2,
            "key_dim": 4,
            "use_causal_mask": True,
            "inputs": ["emb", "emb"],
        },
        {"name": "norm", "type": "LayerNormalization", "inputs": ["mha"]},
        {"name": "pool", "type": "GlobalAveragePooling1D", "inputs": ["norm"]},
        {"name": "out", "inputs": ["pool"], **dense(3, "softmax")},
    )


MODELS = {
    "convnet": CONVNET,
    "lstm": LSTM,
    "two_in_two_out": TWO_IN_TWO_OUT,
    "gru_rnn_bidirectional": sequential(
        [6, 3],
        {"type": "GRU", "units": 5, "return_sequences": True},
        {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 4, "return_sequences": True}},
        {"type": "GRU", "units": 4, "reset_after": False, "return_sequences": True},
        {"type": "SimpleRNN", "units": 4},
        dense(2, "softmax"),
    ),
    "attention": attention(mask_zero=False),
    "masked_attention": attention(mask_zero=True),  # masks outside RNNs are tensor ops
    "normalization_dropout": sequential(
        [10],
        dense(8),
        {"type": "BatchNormalization"},
        {"type": "LayerNormalization"},
        {"type": "Dropout", "rate": 0.5},
        dense(3, "softmax"),
    ),
    "conv1d_pooling": sequential(
        [20, 3],
        {"type": "Conv1D", "filters": 4, "kernel_size": 3, "padding": "same"},
        {"type": "AveragePooling1D", "pool_size": 2},
        {"type": "GlobalMaxPooling1D"},
        dense(2),
    ),
    "conv2d_family": sequential(
        [8, 8, 2],
        {"type": "ZeroPadding2D"},
        {"type": "SeparableConv2D", "filters": 4, "kernel_size": 3},
        {"type": "UpSampling2D"},
        {"type": "Conv2DTranspose", "filters": 3, "kernel_size": 3, "strides": 2},
        {"type": "Cropping2D", "cropping": 1},
        {"type": "AveragePooling2D", "pool_size": 2},
        {"type": "GlobalAveragePooling2D"},
        dense(2),
    ),
    "reshaping": sequential(
        [6],
        {"type": "RepeatVector", "n": 3},
        {"type": "TimeDistributed", "layer": dense(2)},
        {"type": "Permute", "dims": [2, 1]},
        {"type": "Reshape", "target_shape": [6]},
        {"type": "LeakyReLU"},
        {"type": "Softmax"},
    ),
}


def build(spec: Any) -> Model:
    torch.manual_seed(0)
    return build_model(TypeAdapter(ModelSpec).validate_python(spec)).eval()


def batch(model: Model, size: int) -> list[Tensor]:
    """Random inputs; integer ids include 0 (padding, where a mask is on)."""
    generator = torch.Generator().manual_seed(size)
    return [
        torch.randint(0, IDS, (size, *shape), generator=generator)
        if dtype == torch.long
        else torch.randn((size, *shape), generator=generator)
        for shape, dtype in zip(model.input_shapes, model.input_dtypes, strict=True)
    ]


def expected(model: Model, inputs: list[Tensor]) -> list[np.ndarray]:
    with torch.no_grad():
        return [out.numpy() for out in model(*inputs)]


def max_difference(got: list[np.ndarray], want: list[np.ndarray]) -> float:
    assert [g.shape for g in got] == [w.shape for w in want]
    return max(float(np.abs(g - w).max()) for g, w in zip(got, want, strict=True))


@pytest.mark.parametrize("name", MODELS)
def test_torchscript_computes_what_the_model_computes(name: str) -> None:
    model = build(MODELS[name])
    module = torch.jit.load(io.BytesIO(to_torchscript(model)))
    for size in (1, 5):  # recorded with 2 samples
        inputs = batch(model, size)
        out = module(*inputs)
        got = [o.numpy() for o in (out if isinstance(out, tuple) else (out,))]
        assert max_difference(got, expected(model, inputs)) <= 1e-6


@pytest.mark.parametrize("name", MODELS)
def test_onnx_computes_what_the_model_computes(name: str) -> None:
    model = build(MODELS[name])
    session = onnxruntime.InferenceSession(to_onnx(model), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == model.input_names
    assert [o.name for o in session.get_outputs()] == model.output_names
    assert all(i.shape[0] == "batch" for i in session.get_inputs())
    for size in (1, 5):
        inputs = batch(model, size)
        feeds = {n: x.numpy() for n, x in zip(model.input_names, inputs, strict=True)}
        got = session.run(None, feeds)
        assert max_difference(got, expected(model, inputs)) <= 1e-5


def test_fused_recurrent_layers_become_onnx_lstm_and_gru_ops() -> None:
    graph = onnx.load_from_string(to_onnx(build(MODELS["gru_rnn_bidirectional"]))).graph
    assert {"GRU", "LSTM"} <= {node.op_type for node in graph.node}


@pytest.mark.parametrize("export", [to_onnx, to_torchscript])
@pytest.mark.parametrize(
    ("wrapped", "label"),
    [(False, "'lstm' (LSTM)"), (True, "'bidirectional' (Bidirectional of LSTM)")],
)
def test_a_masked_recurrent_layer_is_refused(export: Any, wrapped: bool, label: str) -> None:
    lstm = {"type": "LSTM", "units": 8}
    spec = sequential(
        [7],
        {"type": "Embedding", "input_dim": IDS, "output_dim": 8, "mask_zero": True},
        {"type": "Bidirectional", "layer": lstm} if wrapped else lstm,
        dense(1, "sigmoid"),
    )
    what = "ONNX" if export is to_onnx else "TorchScript"
    with pytest.raises(SpecError) as refused:
        export(build(spec))
    assert str(refused.value).startswith(
        f"layer {label} reads a mask (from an Embedding with mask_zero=True), which {what} "
        "export does not support"
    )
    assert "format=safetensors" in str(refused.value)


def test_an_exporter_failure_says_which_and_what_still_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """torch's exporters fail on graphs they cannot record (none of our layers does, so the
    failure is injected): the problem names the exporter and the error, not a bare 500."""

    def unsupported(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("Unsupported operator aten::frobnicate\n(long exporter report)")

    model = build(CONVNET)
    monkeypatch.setattr(torch.onnx, "export", unsupported)
    with pytest.raises(CornuError) as failed:
        to_onnx(model)
    assert failed.value.status == 500 and not isinstance(failed.value, SpecError)
    assert failed.value.detail == (
        "the ONNX exporter could not record this model (RuntimeError: Unsupported operator "
        "aten::frobnicate); the other formats may still work, and safetensors always does"
    )
    assert torch.jit.load(io.BytesIO(to_torchscript(model)))  # the lock was let go
