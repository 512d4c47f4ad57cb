"""Real-Keras reference cases for Masking and the other core, activation, noise,
normalization and attention layers (`more_layers_outputs.json`, written by
`tests/data/keras/gen_more_layers.py`), and how a Cornu layer or model is checked
against one: shapes, parameter counts, weight names, outputs and output masks.
"""

from __future__ import annotations

import json
from typing import Any

import torch
from torch import Tensor

from cornu.core.engine.build import build_model
from cornu.core.engine.layers import Layer
from cornu.core.engine.model import Model, keras_slots
from cornu.core.spec import FunctionalSpec, SequentialSpec
from cornu.core.spec.keras_json import from_keras
from tests.core.engine.layers.keras_reference import DATA, build

_REFERENCE = json.loads((DATA / "more_layers_outputs.json").read_text())
CASES: dict[str, Any] = _REFERENCE["cases"]
MODELS: dict[str, Any] = _REFERENCE["models"]


def cases_of(*types: str) -> list[str]:
    """The ids of the cases whose layer is one of `types`."""
    return [k for k, c in CASES.items() if c["layer"]["type"] in types]


def as_shape(shape: list[Any]) -> Any:
    """A case's output shape: one tuple, or a list of them for several outputs."""
    if shape and isinstance(shape[0], list):
        return [tuple(s) for s in shape]
    return tuple(shape)


def inputs_of(case: dict[str, Any]) -> tuple[list[Tensor], list[Tensor | None]]:
    tensors = [torch.tensor(x, dtype=torch.float32) for x in case["inputs"]]
    masks = [None if m is None else torch.tensor(m) for m in case["masks"]]
    return tensors, masks


def rnn_weight_name(path: str) -> str:
    """An RNN's weight as Cornu names it from its Keras path below the layer: without
    the single cell's name (`lstm_cell/kernel` → `kernel`, as LSTM's own weights) or the
    StackedRNNCells's (`stacked_rnn_cells/gru_cell/kernel` → `gru_cell/kernel`)."""
    return path.split("/", 1)[1]


def keras_layer(case_id: str) -> Layer:
    """The case's layer with Keras's weights, after checking its output shape, parameter
    counts and weight list (names, shapes, trainability, order) against Keras's."""
    case = CASES[case_id]
    if case["layer"]["type"] == "RNN":
        renamed = {rnn_weight_name(k): v for k, v in case["weights"].items()}
        listed = [[rnn_weight_name(n), *rest] for n, *rest in case["weight_list"]]
        case = {**case, "weights": renamed, "weight_list": listed}
    tensors, _ = inputs_of(case)
    layer = build(case["layer"], [tuple(t.shape[1:]) for t in tensors])
    assert layer.output_shape == as_shape(case["output_shape"])
    assert layer.count_params() == (case["params"], case["trainable_params"])
    slots = keras_slots(layer)  # a wrapper's (RNN's) inner layers' weights included
    ours = [[name, list(owner.keras_shape(w)), w.trainable] for name, (owner, w) in slots.items()]
    assert ours == case["weight_list"]
    assert list(layer.keras_weights()) == list(slots) == list(case["weights"])
    for name, (owner, weight) in slots.items():
        owner.load_keras_weight(weight, torch.tensor(case["weights"][name]))
    return layer


def call(layer: Layer, case: dict[str, Any]) -> tuple[list[Tensor], list[Tensor | None]]:
    """The layer run as a model runs it on the case's inputs and masks: its outputs and
    their masks."""
    tensors, masks = inputs_of(case)
    x: Any = tensors if layer.multiple_inputs else tensors[0]
    mask: Any = masks if layer.multiple_inputs else masks[0]
    out = layer(x, mask=mask) if layer.uses_mask else layer(x)
    outs = list(out) if isinstance(out, tuple) else [out]
    out_mask = layer.compute_mask(x, mask)
    out_masks = list(out_mask) if isinstance(out_mask, tuple) else [out_mask]
    out_masks += [None] * (len(outs) - len(out_masks))
    return outs, out_masks


def check_outputs(case_id: str, masks_compared: int | None = None) -> Layer:
    """Keras's shapes, counts and weights, then its outputs (within 1e-5) and output
    masks (the first `masks_compared` of them; all by default), in inference mode."""
    case = CASES[case_id]
    layer = keras_layer(case_id).eval()
    outs, masks = call(layer, case)
    assert len(outs) == len(case["outputs"])
    for out, want in zip(outs, case["outputs"], strict=True):
        expected = torch.tensor(want, dtype=torch.float32)
        torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    for mask, want in list(zip(masks, case["output_masks"], strict=True))[:masks_compared]:
        assert (None if mask is None else mask.tolist()) == want
    return layer


def keras_model(model_id: str) -> Model:
    """A `MODELS` case built from Keras's `to_json()`, holding Keras's weights (given in
    Keras's `get_weights()` order, which `keras_weights()` follows)."""
    case = MODELS[model_id]
    native = from_keras(case["model_json"])
    spec_type = SequentialSpec if native["type"] == "sequential" else FunctionalSpec
    model = build_model(spec_type.model_validate(native))
    names = list(model.keras_weights())
    assert len(names) == len(case["weights"])
    given = {}
    for ours, (path, value) in zip(names, case["weights"], strict=True):
        assert path.split("/")[-1] == ours.split("/")[-1], (ours, path)
        given[ours] = torch.tensor(value)
    model.load_keras_weights(given)  # GRU's Keras view is a copy: load, do not copy into it
    return model.eval()


def keras_agrees(layers: list[dict[str, Any]] | FunctionalSpec, x: Tensor) -> None:
    """Keras 3 loads the JSON Cornu writes for a Sequential of `layers` (or a functional
    spec) without a warning, takes the Cornu model's weights in `get_weights()` order,
    and predicts what the model predicts, every output."""
    import warnings

    from tests.core.spec.keras_zoo import keras_json, keras_or_skip

    keras = keras_or_skip()
    spec = (
        layers
        if isinstance(layers, FunctionalSpec)
        else SequentialSpec.model_validate({"layers": layers})
    )
    model = build_model(spec).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unknown or misspelt config key warns in Keras
        # … but a layer without masking support after a masked one warns as well
        warnings.filterwarnings("ignore", message=".*does not support masking")
        loaded = keras.models.model_from_json(json.dumps(keras_json(spec)))
        loaded.set_weights([w.detach().numpy() for w in model.keras_weights().values()])
        want = loaded(x.numpy())  # torch tensors: Keras runs on torch
    wanted = want if isinstance(want, list | tuple) else [want]
    ours = model(x)
    assert len(ours) == len(wanted)
    for out, expected in zip(ours, wanted, strict=True):
        torch.testing.assert_close(out.detach(), expected.detach(), atol=1e-5, rtol=1e-5)
