"""Keras's model JSON read into a native spec: `keras_json.from_keras`, with what it
needs around it for the JSON Keras 3 writes.

- Keras 3 writes a functional model's mask computations as operations (`NotEqual` for an
  Embedding's `mask_zero`, called on `[tensor, 0]`) whose outputs feed only `mask=` call
  arguments; `from_keras` leaves them out with those arguments (the engine computes
  masks itself). An operation that feeds data stays, and is refused as unsupported.
- A functional model's Bidirectional and TimeDistributed nodes come back in the nested
  form (`{"name", "inputs", "layer": {…}}`): the flat form has a `layer` key of its own,
  which the spec reads as the node's layer (`model._node`).
"""

from __future__ import annotations

import json
from typing import Any

from cornu.core.spec import keras_json
from cornu.core.spec.keras_config.objects import Json
from cornu.core.spec.layers import LAYER_SPECS


def from_keras(data: Any, notes: list[str] | None = None) -> Json:
    """Keras's model JSON (any generation's, as an object or a string) as a native spec's
    data, with what was ignored or mapped appended to `notes`; raises pydantic's error
    type from `keras_json` for what it refuses (malformed JSON included)."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise keras_json.keras_json_error(
                "the Keras model JSON cannot be parsed: {error}", error=str(exc)
            ) from None
    if isinstance(data, dict) and data.get("class_name") in ("Functional", "Model"):
        with keras_json.located("the model's layers"):
            data = _without_mask_operations(data)
    return keras_json.from_keras(data, notes)


def _without_mask_operations(data: Json) -> Json:
    """The model's JSON without `mask` call arguments and the operations only they read."""
    config = dict(data.get("config") or {})
    layers = []
    for layer in config.get("layers") or []:
        nodes = layer.get("inbound_nodes") or []
        if nodes and all(isinstance(n, dict) for n in nodes):
            nodes = [{**n, "kwargs": _drop_mask(n.get("kwargs"))} for n in nodes]
        layers.append({**layer, "inbound_nodes": nodes})
    while True:
        calls = [layer.get("inbound_nodes") for layer in layers]
        read = _histories([calls, config.get("output_layers")])
        unread = [
            i
            for i, layer in enumerate(layers)
            if _operation(layer) and layer.get("name") not in read
        ]
        if not unread:
            break
        layers = [layer for i, layer in enumerate(layers) if i not in unread]
    return {**data, "config": {**config, "layers": layers}}


def _operation(layer: Json) -> bool:
    """A Keras operation rather than a layer (legacy `.h5` configs have no `module`)."""
    module = str(layer.get("module") or "")
    kind = layer.get("class_name")
    return module.startswith("keras.src.ops") or (
        not module and kind not in LAYER_SPECS and kind != "InputLayer"
    )


def _drop_mask(kwargs: Any) -> Any:
    return {k: v for k, v in kwargs.items() if k != "mask"} if isinstance(kwargs, dict) else kwargs


def _histories(value: Any) -> set[str]:
    """The layer names that the `[name, node, tensor]` triples inside calls and outputs
    refer to (Keras 3's `keras_history`, tf.keras 2's node lists)."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            if len(item) >= 3 and isinstance(item[0], str) and isinstance(item[1], int):
                found.add(item[0])
            stack.extend(item)
    return found
