"""Keras's own model JSON (`model.to_json()`) translated into Cornu's native spec.

Every generation is read: Keras 2.0–2.2 (a Sequential's `config` is the list of its
layers; functional `inbound_nodes` as nested lists), tf.keras 2 / Keras 2.3 (inbound
nodes as `[name, node_index, tensor_index, kwargs]` lists, inputs as
`batch_input_shape`) and Keras 3 (objects with `module`/`class_name`/`config`, inbound
nodes as `{"args": [...], "kwargs": {...}}` of `__keras_tensor__`s). Class names are
resolved through Keras's own registry (`Convolution2D` is `Conv2D`).

A layer argument is kept when Cornu's spec has it; dropped silently when it is one of
Keras 3's arguments at its default (`lora_rank: null`); refused when it is one of Keras
3's arguments that Cornu does not support at another value; and dropped with a note
(a warning in the job's events) when Keras 3 has no such argument: a key an older Keras
wrote (tf.keras 2's `fused`, `time_major` …). What cannot be trained here is refused
with the layer's name: unknown or custom classes, nested models. Malformed JSON of any
shape is refused with where it is, never an internal error.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from pydantic_core import PydanticCustomError

from cornu.core.spec import registry
from cornu.core.spec.layers import LAYER_SPECS, REFUSED, keras_object, layer_type
from cornu.core.spec.names import fresh_name

# Layer config keys that describe Keras's runtime, not the computation.
_RUNTIME_KEYS = {"dtype", "autocast", "build_config", "batch_size", "sparse", "ragged"}
# Keras 2 spellings that the layer specs themselves read (`LayerSpec._keras_input_forms`,
# LeakyReLU's `alpha`).
_MAPPED_KEYS = ("batch_input_shape", "input_dim", "alpha")
_INPUT_LAYER = "InputLayer"
_TENSOR_KWARGS = ("value", "key")  # MultiHeadAttention(query, value, key)


def keras_json_error(message: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError("keras_json", message, context)


@contextlib.contextmanager
def located(where: str) -> Iterator[None]:
    """Turns what malformed JSON breaks (a list where an object belongs, a missing key …)
    into a refusal that says where; refusals made inside pass through."""
    try:
        yield
    except PydanticCustomError:
        raise
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        detail = f"{type(exc).__name__}: {exc}"[:200]
        raise keras_json_error(
            "malformed Keras model JSON at {where}: {detail}", where=where, detail=detail
        ) from None


def is_keras_json(data: Any) -> bool:
    if isinstance(data, str):
        data = data.strip()
        return data.startswith("{") and '"class_name"' in data
    return isinstance(data, dict) and "class_name" in data and "config" in data


def from_keras(data: Any, notes: list[str] | None = None) -> dict[str, Any]:
    """A native model spec (as plain data, validated by the caller) from Keras's JSON;
    what was ignored or mapped on the way is appended to `notes`."""
    notes = [] if notes is None else notes
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise keras_json_error(
                "the Keras model JSON cannot be parsed: {error}", error=str(exc)
            ) from None
    if not isinstance(data, dict):
        raise keras_json_error("Keras model JSON must be an object with class_name and config")
    kind, config = data.get("class_name"), data.get("config")
    with located("the model's config"):
        if kind == "Sequential":
            return _sequential(config if config is not None else {}, notes)
        if kind in ("Functional", "Model"):
            return _functional(config or {}, notes)
    raise keras_json_error(
        "Keras model class '{kind}' is not supported; use a Sequential or functional model",
        kind=str(kind)[:100],
    )


def _sequential(config: Any, notes: list[str]) -> dict[str, Any]:
    """Keras 3 and tf.keras 2 write `{"name", "layers": [...]}`; Keras 2.0–2.2 wrote the
    list of layers itself."""
    entries, name = (
        (config, None)
        if isinstance(config, list)
        else (
            config.get("layers", []),
            config.get("name"),
        )
    )
    if not isinstance(entries, list):
        raise keras_json_error("a Sequential model's layers must be a list")
    layers = []
    for index, obj in enumerate(entries):
        with located(f"layers[{index}]"):
            if isinstance(obj, dict) and obj.get("class_name") == _INPUT_LAYER:
                layers.append(
                    {"type": "Input", "shape": _input_shape(obj), **_input_batch(obj)}
                    | _input_dtype(obj)
                )
            elif index == 0 and _input_batch(obj):  # tf.keras 2's batch_input_shape=[4, …]
                layers.append({"type": "Input", "shape": _input_shape(obj), **_input_batch(obj)})
                config = {k: v for k, v in obj["config"].items() if k != "batch_input_shape"}
                layers.append(_layer({**obj, "config": config}, notes))
            else:
                layers.append(_layer(obj, notes))
    return {"type": "sequential", "name": name, "layers": layers}


def _input_shape(obj: dict[str, Any]) -> list[int | None]:
    """An InputLayer's sample shape (None: a dimension of unknown size)."""
    config = obj.get("config") or {}
    batch_shape = config.get("batch_shape") or config.get("batch_input_shape")
    if batch_shape is None and config.get("shape") is not None:
        batch_shape = [None, *config["shape"]]
    name = config.get("name", obj.get("name", "input"))
    if not batch_shape or not isinstance(batch_shape, list):
        raise keras_json_error("input '{name}' gives no shape", name=str(name))
    return list(batch_shape[1:])


def _input_batch(obj: Any) -> dict[str, int]:
    """A fixed batch size an input declares (`batch_shape`/`batch_input_shape` [4, …]),
    as `{"batch_size": 4}`; Keras's stateful recurrent layers need one."""
    config = (obj.get("config") if isinstance(obj, dict) else None) or {}
    batch_shape = config.get("batch_shape") or config.get("batch_input_shape")
    if isinstance(batch_shape, list) and batch_shape and isinstance(batch_shape[0], int):
        return {"batch_size": batch_shape[0]}
    return {}


def _input_dtype(obj: dict[str, Any]) -> dict[str, str]:
    """An InputLayer's dtype when it is not Keras's float32 default (`int32` ids)."""
    dtype = (obj.get("config") or {}).get("dtype")
    return {"dtype": dtype} if isinstance(dtype, str) and dtype != "float32" else {}


def _keras_class(kind: Any) -> Any:
    """A layer's `class_name` as Cornu's type (`layers.layer_type`)."""
    return layer_type(kind) if isinstance(kind, str) else kind


def _same(value: Any, default: Any) -> bool:
    """Whether a config value is Keras's default (an absent option, or the same value)."""
    if value is None or value is False:
        return True
    return bool(default == value) if default not in (registry.REQUIRED, registry.POPPED) else False


def _layer(obj: Any, notes: list[str]) -> dict[str, Any]:
    """One layer's `{"class_name", "config"}` as native layer arguments."""
    if not isinstance(obj, dict) or "class_name" not in obj:
        raise keras_json_error("a layer entry must be an object with class_name and config")
    kind = _keras_class(obj["class_name"])
    config = obj.get("config") or {}
    if not isinstance(config, dict):
        raise keras_json_error("a layer's config must be an object")
    name = str(config.get("name", obj.get("name")))[:128]
    if kind in ("Sequential", "Functional", "Model"):
        raise keras_json_error(
            "layer '{name}' is a nested model; flatten it into one model", name=name
        )
    keras_object(obj)  # refuses custom classes
    if kind not in LAYER_SPECS and kind not in REFUSED:
        valid = ", ".join(sorted(LAYER_SPECS))
        raise keras_json_error(
            "layer '{name}' is a Keras {kind}, which Cornu does not support (supported: {valid})",
            name=name,
            kind=str(kind)[:100],
            valid=valid,
        )
    if kind in REFUSED:
        return {"type": kind, "name": name}  # the layer spec refuses it with the reason
    fields = LAYER_SPECS[kind].model_fields
    keras_args = registry.layer_arguments(kind) or {}
    out: dict[str, Any] = {"type": kind}
    for key, value in config.items():
        if key in _RUNTIME_KEYS:
            continue
        if key not in fields and key not in _MAPPED_KEYS:
            if _same(value, keras_args.get(key)):
                continue  # an option left off (lora_rank, unroll, …): nothing to translate
            if key in keras_args and keras_args[key] != registry.POPPED:
                raise keras_json_error(
                    "layer '{name}' ({kind}) sets {key}={value}, which Cornu does not support; "
                    "remove it or set it to Keras's default",
                    name=name,
                    kind=kind,
                    key=key,
                    value=json.dumps(value)[:80],
                )
            version = registry.keras_version()
            notes.append(
                f"layer '{name}' ({kind}): Keras {version} ignores the argument '{key}'"
                if key in keras_args
                else f"layer '{name}' ({kind}): Keras {version} has no argument '{key}' (an "
                "older Keras wrote it); it was ignored"
            )
            continue
        if key in ("layer", "backward_layer") and "layer" in keras_args:  # a wrapper's layer
            if value is None:
                continue
            value = _layer(value, notes)
        elif key == "layers" and kind == "Pipeline" and isinstance(value, list):
            value = [_layer(inner, notes) for inner in value]
        elif isinstance(value, dict) and "class_name" in value:
            value = keras_object(value)
        out[key] = value
    return out


def _functional(config: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    inputs: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    # (layer name, node index) → the native node that computes it
    node_names: dict[tuple[str, int], str] = {}
    layers = config.get("layers", [])
    if not isinstance(layers, list):
        raise keras_json_error("a functional model's layers must be a list")
    with located("the model's connections"):
        taken = {_name(obj) for obj in layers}
        # Keras 3 writes the computation of a mask (`NotEqual`, `LogicalOr` …) as layers
        # whose outputs feed only `mask=` keywords; the engine propagates masks itself.
        read = {h[0] for h in _triples(config.get("output_layers"))} | {
            h[0]
            for obj in layers
            for call in obj.get("inbound_nodes") or []
            for h in _call_inputs(call, _name(obj))[0]
        }
    for position, obj in enumerate(layers):
        with located(f"layers[{position}]"):
            name = _name(obj)
            if obj.get("class_name") == _INPUT_LAYER:
                shape = {"shape": _input_shape(obj), **_input_batch(obj)}
                inputs.append({"name": name, **shape, **_input_dtype(obj)})
                node_names[(name, 0)] = name
                continue
            if name not in read:
                continue
            layer = _layer(obj, notes)
            layer["name"] = name
            for index, call in enumerate(obj.get("inbound_nodes") or []):
                refs, options = _call_inputs(call, name)
                node_name = name if index == 0 else fresh_name(f"{name}_call{index}", taken)
                node_names[(name, index)] = node_name
                # a call argument of this call alone (`emb(h, reverse=True)`)
                reverse = {"reverse": True} if options.pop("reverse", False) else {}
                if index == 0:
                    nodes.append({**layer, **options, **reverse, "inputs": refs})
                else:
                    nodes.append({"name": node_name, "call": name, **reverse, "inputs": refs})

    def ref(history: list[Any]) -> str:
        layer, node_index, tensor_index = history[0], int(history[1]), int(history[2])
        base = node_names.get((layer, node_index))
        if base is None:
            raise keras_json_error(
                "a connection refers to layer '{name}', which is not in the model",
                name=str(layer)[:128],
            )
        return base if tensor_index == 0 else f"{base}:{tensor_index}"

    with located("the model's connections"):
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
    raise keras_json_error(
        "model input '{name}' is not an InputLayer of the model", name=history[0]
    )


def _triples(value: Any) -> list[list[Any]]:
    """`input_layers` / `output_layers`: a list of triples, one flat triple, or a dict of
    them (Keras 2.x's dict outputs)."""
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return [value]
    if isinstance(value, dict):  # a model whose outputs are a dict keeps them by key
        return list(value.values())
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
    raise keras_json_error("layer '{name}' is called on a value that is not a tensor", name=layer)


def _tensor_kwargs(kwargs: dict[str, Any]) -> list[list[Any]]:
    """The tensors a call takes by keyword: a recurrent layer's `initial_state` (after its
    sequence), MultiHeadAttention's `value` and `key`."""
    refs = []
    for state in kwargs.get("initial_state") or []:
        if isinstance(state, dict) and state.get("class_name") == "__keras_tensor__":
            refs.append(list(state["config"]["keras_history"]))
        elif isinstance(state, list) and len(state) >= 3 and isinstance(state[0], str):
            refs.append(state[:3])  # tf.keras 2: [name, node, tensor]
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
        tensors = key in _TENSOR_KWARGS or key == "initial_state"
        if tensors or key == "training" or value is None or value is False:
            continue
        if key == "mask":
            continue  # masks are propagated by the layers themselves
        options[key] = value
    return options
