"""Real-Keras reference cases for the layer tests, and Cornu layers built to match them.

`layer_shapes.json` holds Keras's output shapes, parameter counts and weight paths per
layer; `norm_attention_merge_outputs.json` holds inputs, masks, weights (under Keras's
names, in Keras's layouts) and the outputs Keras computed from them, and a small
functional model's JSON with its weights and output (`gen_norm_attention_merge.py`
wrote both).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from cornu.core.engine.layers import LAYERS, Layer
from cornu.core.spec.layers import parse_layer

DATA = Path(__file__).parents[3] / "data" / "keras"
SHAPES = {c["id"]: c for c in json.loads((DATA / "layer_shapes.json").read_text())["cases"]}
_REFERENCE = json.loads((DATA / "norm_attention_merge_outputs.json").read_text())
OUTPUTS: dict[str, Any] = _REFERENCE["cases"]
FUNCTIONAL_MODEL: dict[str, Any] = _REFERENCE["functional_model"]


def build(spec: dict[str, Any], input_shapes: list[tuple[int, ...]]) -> Layer:
    """The Cornu layer for `spec`, given one sample's shape per input."""
    layer_spec = parse_layer(spec)
    cls = LAYERS[layer_spec.type]
    return cls(layer_spec, input_shapes if cls.multiple_inputs else input_shapes[0])


def build_one(spec: dict[str, Any], input_shape: tuple[int | None, ...]) -> Layer:
    """The Cornu layer for `spec` on one input of one sample's shape `input_shape`."""
    layer_spec = parse_layer(spec)
    return LAYERS[layer_spec.type](layer_spec, input_shape)


def check_against_keras_summary(case_id: str) -> Layer:
    """Builds a `layer_shapes.json` case and checks shape, counts and weights against Keras."""
    case = SHAPES[case_id]
    layer = build({"type": case["layer"], **case["args"]}, [tuple(s) for s in case["input_shapes"]])
    assert layer.output_shape == tuple(case["output_shape"])
    assert layer.count_params() == (case["params"], case["trainable_params"])
    ours = {
        name: (tuple(w.shape), info.trainable)
        for (name, w), info in zip(layer.keras_weights().items(), layer.weights_info, strict=True)
    }
    keras = {
        path.split("/", 1)[1]: (tuple(shape), kind == "trainable")
        for path, shape, kind in case["weights"]
    }
    assert list(ours.items()) == list(keras.items())  # same names, shapes and order
    return layer


def with_keras_weights(case: dict[str, Any]) -> Layer:
    """An `OUTPUTS` case's layer, holding the weights Keras was given."""
    layer = build(case["layer"], [tuple(torch.tensor(x).shape[1:]) for x in case["inputs"]])
    weights = layer.keras_weights()
    assert list(weights) == list(case["weights"])  # Keras's names, in Keras's order
    with torch.no_grad():
        for name, value in case["weights"].items():
            weights[name].copy_(torch.tensor(value))
    return layer


def inputs_of(case: dict[str, Any]) -> tuple[list[Tensor], list[Tensor | None]]:
    """A case's input tensors and their masks (None where an input has none)."""
    tensors = [torch.tensor(x, dtype=torch.float32) for x in case["inputs"]]
    masks = [None if m is None else torch.tensor(m) for m in case["masks"]]
    return tensors, masks


def expected(values: Any) -> Tensor:
    return torch.tensor(values, dtype=torch.float32)
