"""A model's graph as `plot_model` draws it: one box per layer (and per input of a
functional model), with what Keras writes in it, and the arrows between them.

It is read from the model's spec (`model.model_spec()`); shapes and whether a layer
has weights come from the service's summary when they are asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from cornu.core.spec import FunctionalSpec, ModelSpec, ModelSummary, SequentialSpec, spec_error
from cornu.core.spec.model import split_ref
from cornu.core.spec.names import layer_names
from cornu.display import shape_text

_MODEL: TypeAdapter[Any] = TypeAdapter(ModelSpec)

NOT_BUILT = (
    "This model has not yet been built. Build the model first by calling `build()` or by "
    "calling the model on a batch of data."
)


@dataclass
class Box:
    """One layer as Keras's `model_to_dot` labels it."""

    key: str
    name: str
    type: str
    activation: str | None = None  # for layers that have one
    input_shape: str | None = None  # "(None, 784)", "?" when unknown; None for an input
    output_shape: str = "?"
    dtype: str = "float32"
    trainable: bool | None = None  # None: the layer has no weights


@dataclass
class Graph:
    name: str
    boxes: list[Box] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def add_edge(self, source: str, target: str) -> None:
        if (source, target) not in self.edges:
            self.edges.append((source, target))


def _activation(layer: Any) -> str | None:
    """What Keras shows for a layer with an `activation` (Dense's default is linear)."""
    if "activation" not in type(layer).model_fields:
        return None
    value = layer.activation
    if value is None:
        return "linear"
    if isinstance(value, str):
        return value
    return str(getattr(value, "type", None) or getattr(value, "class_name", None) or value)


def parse(model: Any) -> SequentialSpec | FunctionalSpec:
    try:
        parsed: SequentialSpec | FunctionalSpec = _MODEL.validate_python(model.model_spec())
    except ValidationError as exc:
        raise spec_error(exc.errors(), strip=("model",)) from None
    return parsed


def model_graph(model: Any, summary: ModelSummary | None) -> Graph:
    """The graph of an SDK model (anything with `model_spec()`); `summary` adds shapes
    and weights.

    Raises:
        SpecError: the model's spec is invalid.
    """
    spec = parse(model)
    name = spec.name or getattr(model, "name", None) or getattr(model, "default_name", "model")
    if isinstance(spec, SequentialSpec):
        return _sequential(str(name), spec, summary)
    return _functional(str(name), spec, summary)


def _rows(summary: ModelSummary | None) -> dict[str, Any]:
    return {row.name: row for row in summary.layers} if summary else {}


def _sequential(name: str, spec: SequentialSpec, summary: ModelSummary | None) -> Graph:
    graph = Graph(name)
    stack = spec.stack
    names = layer_names(stack)
    if summary is not None:
        names = [row.name for row in summary.layers][-len(stack) :]
    rows = _rows(summary)
    previous = list(spec.input_shape) if spec.input_shape is not None else None
    for layer, layer_name in zip(stack, names, strict=True):
        box = Box(layer_name, layer_name, layer.type, _activation(layer), "?")
        row = rows.get(layer_name)
        if row is not None:
            box.input_shape = shape_text(previous) if previous is not None else "?"
            box.output_shape = shape_text(row.output_shape)
            box.trainable = layer.trainable if row.params else None
            out = row.output_shape
            previous = list(out[0]) if out and isinstance(out[0], list) else list(out)
        graph.boxes.append(box)
    for source, target in zip(names, names[1:], strict=False):
        graph.add_edge(source, target)
    return graph


def _functional(name: str, spec: FunctionalSpec, summary: ModelSummary | None) -> Graph:
    graph = Graph(name)
    rows = _rows(summary)
    outputs: dict[str, Any] = {}  # node or input name → its output shape(s), batch-less
    for item in spec.inputs:
        box = Box(item.name, item.name, "InputLayer", dtype=item.dtype or "float32")
        box.output_shape = shape_text(list(item.shape))
        outputs[item.name] = list(item.shape)
        graph.boxes.append(box)
    owner = {node.name: node.call or node.name for node in spec.layers}  # node → its layer
    calls: dict[str, int] = {}
    for node in spec.layers:
        calls[owner[node.name]] = calls.get(owner[node.name], 0) + 1
    for index in spec.order():
        node = spec.layers[index]
        layer_name = owner[node.name]
        if node.layer is not None:
            box = Box(layer_name, layer_name, node.layer.type, _activation(node.layer), "?")
            row = rows.get(layer_name)
            if row is not None:
                box.trainable = node.layer.trainable if row.params else None
                outputs[node.name] = row.output_shape
                if calls[layer_name] == 1:  # Keras shows "?" for a layer called twice
                    box.output_shape = shape_text(row.output_shape)
                    box.input_shape = _input_text(node.inputs, outputs)
            graph.boxes.append(box)
        elif node.call in rows:
            outputs[node.name] = rows[node.call].output_shape
        for ref in node.inputs:
            source = split_ref(ref)[0]
            graph.add_edge(owner.get(source, source), layer_name)
    return graph


def _input_text(refs: list[str], outputs: dict[str, Any]) -> str:
    shapes = []
    for ref in refs:
        source, index = split_ref(ref)
        shape = outputs.get(source)
        if shape is None:
            return "?"
        if shape and isinstance(shape[0], list):
            shape = shape[index]
        shapes.append(shape_text(shape))
    return shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]"


__all__ = ["NOT_BUILT", "Box", "Graph", "layer_names", "model_graph", "parse", "shape_text"]
