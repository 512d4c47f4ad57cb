"""Keras's own model JSON (`model.to_json()`) translated into Cornu's native spec.

Both forms are read: Keras 3 (objects with `module`/`class_name`/`config`, inbound
nodes as `{"args": [...], "kwargs": {...}}` of `__keras_tensor__`s) and tf.keras 2
(inbound nodes as nested `[name, node_index, tensor_index, kwargs]` lists, inputs as
`batch_input_shape`). What cannot be trained here is refused with the layer's name:
unknown or custom classes, nested models, inputs of unknown size.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import PydanticCustomError

from cornu.core.spec.layers import LAYER_SPECS, REFUSED, keras_object

# Layer config keys that describe Keras's runtime, not the computation.
_RUNTIME_KEYS = {"dtype", "autocast", "build_config", "batch_size", "sparse", "ragged"}
_INPUT_LAYER = "InputLayer"
_WRAPPERS = ("Bidirectional", "TimeDistributed")
_TENSOR_KWARGS = ("value", "key")  # MultiHeadAttention(query, value, key)


def _fail(message: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError("keras_json", message, context)


def is_keras_json(data: Any) -> bool:
    if isinstance(data, str):
        data = data.strip()
        return data.startswith("{") and '"class_name"' in data
    return isinstance(data, dict) and "class_name" in data and "config" in data


def from_keras(data: Any) -> dict[str, Any]:
    """A native model spec (as plain data, validated by the caller) from Keras's JSON."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise _fail("the Keras model JSON cannot be parsed: {error}", error=str(exc)) from None
    kind, config = data.get("class_name"), data.get("config") or {}
    if kind == "Sequential":
        return _sequential(config)
    if kind in ("Functional", "Model"):
        return _functional(config)
    raise _fail(
        "Keras model class '{kind}' is not supported; use a Sequential or functional model",
        kind=str(kind),
    )


def _sequential(config: dict[str, Any]) -> dict[str, Any]:
    layers = []
    for obj in config.get("layers", []):
        if obj.get("class_name") == _INPUT_LAYER:
            layers.append({"type": "Input", "shape": _input_shape(obj)})
        else:
            layers.append(_layer(obj))
    return {"type": "sequential", "name": config.get("name"), "layers": layers}


def _input_shape(obj: dict[str, Any]) -> list[int | None]:
    """An InputLayer's sample shape (None: a dimension of unknown size)."""
    config = obj.get("config") or {}
    batch_shape = config.get("batch_shape") or config.get("batch_input_shape")
    if batch_shape is None and config.get("shape") is not None:
        batch_shape = [None, *config["shape"]]
    name = config.get("name", obj.get("name", "input"))
    if not batch_shape:
        raise _fail("input '{name}' gives no shape", name=name)
    return list(batch_shape[1:])


def _layer(obj: Any) -> dict[str, Any]:
    """One layer's `{"class_name", "config"}` as native layer arguments."""
    if not isinstance(obj, dict) or "class_name" not in obj:
        raise _fail("a layer entry must be an object with class_name and config")
    kind = obj["class_name"]
    config = obj.get("config") or {}
    name = config.get("name", obj.get("name"))
    if kind in ("Sequential", "Functional", "Model"):
        raise _fail("layer '{name}' is a nested model; flatten it into one model", name=name)
    keras_object(obj)  # refuses custom classes
    if kind not in LAYER_SPECS and kind not in REFUSED:
        valid = ", ".join(sorted(LAYER_SPECS))
        raise _fail(
            "layer '{name}' is a Keras {kind}, which Cornu does not support (supported: {valid})",
            name=name,
            kind=kind,
            valid=valid,
        )
    fields = LAYER_SPECS[kind].model_fields if kind in LAYER_SPECS else {}
    out: dict[str, Any] = {"type": kind}
    for key, value in config.items():
        if key in _RUNTIME_KEYS:
            continue
        known = key in fields or key in ("batch_input_shape", "input_dim", "alpha")
        if not known and (value is None or value is False):
            continue  # an option left off (lora_rank, unroll, …): nothing to translate
        if kind in _WRAPPERS and key in ("layer", "backward_layer"):
            if value is None:
                continue
            value = _layer(value)
        elif isinstance(value, dict) and "class_name" in value:
            value = keras_object(value)
        out[key] = value
    return out


def _functional(config: dict[str, Any]) -> dict[str, Any]:
    inputs: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    # (layer name, node index) → the native node that computes it
    node_names: dict[tuple[str, int], str] = {}
    layers = config.get("layers", [])
    taken = {_name(obj) for obj in layers}
    # Keras 3 writes the computation of a mask (`NotEqual`, `LogicalOr` …) as layers whose
    # outputs feed only `mask=` keywords; the engine propagates masks itself.
    read = {h[0] for h in _triples(config.get("output_layers"))} | {
        h[0]
        for obj in layers
        for call in obj.get("inbound_nodes") or []
        for h in _call_inputs(call, _name(obj))[0]
    }
    for obj in layers:
        name = _name(obj)
        if obj.get("class_name") == _INPUT_LAYER:
            inputs.append({"name": name, "shape": _input_shape(obj)})
            node_names[(name, 0)] = name
            continue
        if name not in read:
            continue
        layer = _layer(obj)
        layer["name"] = name
        for index, call in enumerate(obj.get("inbound_nodes") or []):
            refs, options = _call_inputs(call, name)
            node_name = name if index == 0 else _fresh(f"{name}_call{index}", taken)
            node_names[(name, index)] = node_name
            if index == 0:
                nodes.append({**layer, **options, "inputs": refs})
            else:
                nodes.append({"name": node_name, "call": name, "inputs": refs})

    def ref(history: list[Any]) -> str:
        layer, node_index, tensor_index = history[0], int(history[1]), int(history[2])
        base = node_names.get((layer, node_index))
        if base is None:
            raise _fail(
                "a connection refers to layer '{name}', which is not in the model", name=layer
            )
        return base if tensor_index == 0 else f"{base}:{tensor_index}"

    for node in nodes:
        node["inputs"] = [ref(h) for h in node["inputs"]]
    return {
        "type": "functional",
        "name": config.get("name"),
        "inputs": [_only_input(inputs, h) for h in _triples(config.get("input_layers"))],
        "layers": nodes,
        "outputs": [ref(h) for h in _triples(config.get("output_layers"))],
    }


def _name(obj: dict[str, Any]) -> str:
    return str(obj.get("name") or (obj.get("config") or {}).get("name"))


def _only_input(inputs: list[dict[str, Any]], history: list[Any]) -> dict[str, Any]:
    for spec in inputs:
        if spec["name"] == history[0]:
            return spec
    raise _fail("model input '{name}' is not an InputLayer of the model", name=history[0])


def _triples(value: Any) -> list[list[Any]]:
    """`input_layers` / `output_layers`: a list of triples, or one flat triple."""
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return [value]
    return list(value or [])


def _call_inputs(call: Any, layer: str) -> tuple[list[list[Any]], dict[str, Any]]:
    """The keras_history triples a call reads, and its non-tensor keyword options."""
    if isinstance(call, list):  # tf.keras 2: [[name, node, tensor, kwargs], ...]
        refs = [entry[:3] for entry in call]
        kwargs = {}
        for entry in call:
            if len(entry) > 3 and isinstance(entry[3], dict):
                kwargs.update(entry[3])
        return refs + _tensor_kwargs(kwargs), _options(kwargs, layer)
    args = call.get("args", [])
    kwargs = call.get("kwargs") or {}
    flat = args[0] if len(args) == 1 and isinstance(args[0], list) else args
    refs = [_history(t, layer) for t in flat]
    return refs + _tensor_kwargs(kwargs), _options(kwargs, layer)


def _history(tensor: Any, layer: str) -> list[Any]:
    if isinstance(tensor, dict) and tensor.get("class_name") == "__keras_tensor__":
        return list(tensor["config"]["keras_history"])
    raise _fail("layer '{name}' is called on a value that is not a tensor", name=layer)


def _tensor_kwargs(kwargs: dict[str, Any]) -> list[list[Any]]:
    refs = []
    for key in _TENSOR_KWARGS:
        value = kwargs.get(key)
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            refs.append(list(value["config"]["keras_history"]))
        elif isinstance(value, list) and len(value) >= 3 and isinstance(value[0], str):
            refs.append(value[:3])
    return refs


def _options(kwargs: dict[str, Any], layer: str) -> dict[str, Any]:
    options = {}
    for key, value in kwargs.items():
        if key in _TENSOR_KWARGS or key == "training" or value is None or value is False:
            continue
        if key == "mask":
            continue  # masks are propagated by the layers themselves
        options[key] = value
    return options


def _fresh(name: str, taken: set[Any]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    taken.add(candidate)
    return candidate
