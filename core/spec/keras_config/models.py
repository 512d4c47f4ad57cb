"""A native model spec as Keras 3's `model.to_json()` object.

Sequential: `{"module": "keras", "class_name": "Sequential", …}` whose first layer is an
`InputLayer`. Functional (`keras/src/models/functional.py` `get_config`): each layer with
its `name` and `inbound_nodes`, each call `{"args": [...], "kwargs": {...}}` of
`__keras_tensor__`s, a merging layer's tensors as one list (`[[t1, t2]]`),
MultiHeadAttention's as `[query, value(, key)]` with `use_causal_mask` among its kwargs;
Keras's recorded call context (`"training": false`, `"mask": null`) for the layers that
take them; `input_layers`/`output_layers` as one `[name, node, tensor]` triple for a
single tensor, a list of them otherwise, as Keras writes a model built on one tensor or
on a list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import TypeAdapter

from cornu.core.errors import SpecError
from cornu.core.spec.keras_config.graph import Graph, History
from cornu.core.spec.keras_config.layers import (
    DTYPE_POLICY,
    LISTED_ATTENTION,
    MERGING,
    batch_shape,
    input_layer,
    layer_object,
)
from cornu.core.spec.keras_config.objects import Json, keras_object
from cornu.core.spec.model import FunctionalSpec, ModelSpec, SequentialSpec
from cornu.core.spec.names import layer_names

Shapes = Mapping[str, Any]
"""Each layer's (and input's) output shape without the batch axis, by name, as
`model.summary()` lists them; a list of shapes for a layer with several outputs."""

_MODEL: TypeAdapter[Any] = TypeAdapter(ModelSpec)
# The call arguments Keras records for a layer called without them (its call context):
# `training` for layers that behave differently while training, `mask` for those that
# take one. Cornu writes no mask tensors: Keras computes masks again when it loads.
_TRAINING = {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise"}
_TRAINING |= {"SpectralNormalization"}
_MASK = {"Softmax", "GlobalAveragePooling1D", "BatchNormalization", "Bidirectional"}
_MASK |= {"TimeDistributed"}
_RECURRENT = {"SimpleRNN", "LSTM", "GRU", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"}
_UNCOMPILED: Json = {"compile_config": {}}  # what Keras writes for a model not compiled


def model_spec(model: Any) -> SequentialSpec | FunctionalSpec:
    """A validated spec from any accepted form (raises pydantic's ValidationError)."""
    if isinstance(model, SequentialSpec | FunctionalSpec):
        return model
    spec: SequentialSpec | FunctionalSpec = _MODEL.validate_python(model)
    return spec


def to_keras(model: Any, shapes: Shapes | None = None) -> Json:
    """A native model spec (validated, or as data) as Keras 3's `model.to_json()` object.

    `shapes` (each layer's output shape by name, as `model.summary()` gives them) fills
    in the layers' `build_config`s and the tensors' shapes; a functional model needs
    them, a Sequential is written without its layers' build configs when they are
    missing. Raises SpecError when the model has no input shape or a shape is missing.
    """
    spec = model_spec(model)
    if isinstance(spec, SequentialSpec):
        return _sequential(spec, shapes)
    return _functional(spec, shapes)


def _first(shape: Any) -> Any:
    """One tensor's shape: the first of a layer with several outputs (what a Sequential
    passes on)."""
    return shape[0] if shape and isinstance(shape[0], Sequence) else shape


def _sequential(spec: SequentialSpec, shapes: Shapes | None) -> Json:
    if spec.input_shape is None:
        raise SpecError(
            "Keras needs the model's input shape to build it: add an Input (or input_shape "
            "on the first layer) before saving",
            loc=("model", "layers", 0),
        )
    stack, first = spec.stack, spec.layers[0]
    (batch,) = spec.batch_sizes  # Keras writes a fixed batch size into every shape
    dtype = getattr(first, "dtype", None)
    layers = [input_layer("input_layer", spec.input_shape, dtype, batch)]
    current: Any = spec.input_shape
    for layer, name in zip(stack, layer_names(stack), strict=True):
        layers.append(layer_object(layer, name, current, batch))
        current = None if shapes is None or name not in shapes else _first(shapes[name])
    config = {"name": spec.name or "sequential", "trainable": True, "dtype": dict(DTYPE_POLICY)}
    config |= {"layers": layers, "build_input_shape": batch_shape(spec.input_shape, batch)}
    out = keras_object("keras", "Sequential", config)
    return {**out, "build_config": {"input_shape": config["build_input_shape"]}, **_UNCOMPILED}


def _functional(spec: FunctionalSpec, shapes: Shapes | None) -> Json:
    graph = Graph(spec)
    inputs = {i.name: i for i in spec.inputs}
    defined = {node.name: node.layer for node in spec.layers if node.layer is not None}
    known: dict[str, Any] = {name: i.shape for name, i in inputs.items()} | dict(shapes or {})

    reversed_shapes: dict[tuple[str, int], Any] = {}  # a reverse call's: not its layer's
    # Each call's batch size: an input's fixed one (`keras.Input(batch_size=4)`), which
    # Keras carries through the layers into every shape it writes, or None.
    batches: dict[tuple[str, int], int | None] = {(n, 0): i.batch_size for n, i in inputs.items()}

    def batch_of(reads: Sequence[History]) -> int | None:
        return next((b for h in reads if (b := batches.get(h[:2])) is not None), None)

    def shape_of(history: History) -> Any:
        shape = reversed_shapes.get(history[:2], known.get(history[0]))
        if shape is None:
            raise SpecError(
                f"the output shape of layer {history[0]!r} is needed to write Keras's JSON; "
                "pass shapes={name: output_shape, …} as model.summary() lists them",
                loc=("model", "layers"),
            )
        return shape[history[2]] if shape and isinstance(shape[0], Sequence) else shape

    def tensor(history: History) -> Json:
        dtype = inputs[history[0]].dtype if history[0] in inputs else None
        shape = batch_shape(shape_of(history), batches.get(history[:2]))
        config = {"shape": shape, "dtype": dtype or "float32"}
        config["keras_history"] = list(history)
        return {"class_name": "__keras_tensor__", "config": config}

    nodes: dict[str, list[Json]] = {name: [] for name in defined}
    for call in graph.calls_in_order():
        layer = defined[call.layer]
        batches[(call.layer, call.index)] = batch_of(call.reads)
        args: list[Any] = [tensor(h) for h in call.reads]
        kwargs: Json = {}
        if layer.type in _TRAINING or layer.type in _RECURRENT:
            kwargs["training"] = False
        if layer.type in _MASK or layer.type in _RECURRENT:
            kwargs["mask"] = None
        if layer.type in MERGING or layer.type in LISTED_ATTENTION:
            args = [args]
        if layer.type in _RECURRENT and len(args) > 1:  # `lstm(x, initial_state=[h, c])`
            args, kwargs["initial_state"] = args[:1], args[1:]
        if getattr(layer, "use_causal_mask", False):
            kwargs["use_causal_mask"] = True
        if getattr(layer, "return_attention_scores", False):
            kwargs["return_attention_scores"] = True
        if call.reverse:  # `emb(h, reverse=True)`: (…, output_dim) to (…, input_dim)
            kwargs["reverse"] = True
            hidden = shape_of(call.reads[0])
            reversed_shapes[(call.layer, call.index)] = [*hidden[:-1], getattr(layer, "input_dim")]  # noqa: B009
        nodes[call.layer].append({"args": args, "kwargs": kwargs})
    layers = []
    for name in graph.layer_order():
        if name in inputs:
            given_input = inputs[name]
            entry = input_layer(name, given_input.shape, given_input.dtype, given_input.batch_size)
        else:
            reads = graph.first_call(name).reads
            read = [shape_of(h) for h in reads]
            kind = defined[name].type
            several = kind in MERGING or (len(read) > 1 and kind not in _RECURRENT)
            given = read if several else read[0]  # a recurrent layer's states come after
            entry = layer_object(defined[name], name, given, batch_of(reads))
        layers.append({**entry, "name": name, "inbound_nodes": nodes.get(name, [])})
    ins = [[name, 0, 0] for name in inputs]
    outs = [list(graph.history(ref)) for ref in spec.outputs]
    config = {
        "name": spec.name or "functional",
        "trainable": True,
        "layers": layers,
        "input_layers": ins[0] if len(ins) == 1 else ins,
        "output_layers": outs[0] if len(outs) == 1 else outs,
    }
    out = keras_object("keras.src.models.functional", "Functional", config)
    out |= {"registered_name": "Functional", "build_config": {"input_shape": None}}
    return {**out, **_UNCOMPILED}
