"""Functional graphs as the service takes them: the layer calls that lead from a model's
inputs to its outputs, each a node after the nodes it reads, shared layers called again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from cornu.core.spec import FunctionalSpec, spec_error
from cornu.core.spec.names import fresh_name
from cornu.layers import Input, KerasTensor, Layer


def topological(outputs: Sequence[KerasTensor]) -> list[KerasTensor]:
    """The tensors that lead to `outputs`, each after its inputs (iterative: no recursion
    limit, and each tensor visited once however many paths reach it)."""
    order: list[KerasTensor] = []
    seen: set[int] = set()
    stack: list[tuple[KerasTensor, bool]] = [(t, False) for t in reversed(outputs)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
        elif id(tensor) not in seen:
            seen.add(id(tensor))
            stack.append((tensor, True))
            stack.extend((parent, False) for parent in reversed(tensor.inputs))
    return order


def graph_layers(outputs: Sequence[KerasTensor]) -> list[Layer]:
    """The layers of the graph, each once, in the order their first call runs."""
    found: dict[int, Layer] = {}
    for tensor in topological(outputs):
        if isinstance(tensor.source, Layer):
            found.setdefault(id(tensor.source), tensor.source)
    return list(found.values())


def graph_inputs(outputs: Sequence[KerasTensor]) -> list[Input]:
    """The inputs the graph reads, in the order they were made."""
    found = {id(t): t for t in topological(outputs) if isinstance(t, Input)}
    return sorted(found.values(), key=lambda i: i.created)


def functional_spec(
    inputs: Sequence[Input], outputs: Sequence[KerasTensor], name: str | None
) -> dict[str, Any]:
    """The service's functional spec: each layer call a node; a second call of a layer
    a `call` node; checked as the service checks it (SpecError)."""
    input_names = {id(i): i.name for i in inputs}
    # (layer, its input tensors, reverse) → node
    calls: dict[tuple[int, tuple[int, ...], bool], str] = {}
    emitted: set[int] = set()
    taken = {i.name for i in inputs}
    nodes: list[dict[str, Any]] = []

    def ref(t: KerasTensor) -> str:
        if isinstance(t, Input):
            if id(t) not in input_names:
                raise ValueError(f"{t!r} is used but is not among the model's inputs")
            return input_names[id(t)]
        node = calls[(id(t.source), tuple(id(p) for p in t.inputs), t.reverse)]
        return node if t.index == 0 else f"{node}:{t.index}"

    for tensor in topological(outputs):
        layer = tensor.source
        if not isinstance(layer, Layer):
            continue
        key = (id(layer), tuple(id(p) for p in tensor.inputs), tensor.reverse)
        if key in calls:
            continue
        refs = [ref(p) for p in tensor.inputs]
        reverse = {"reverse": True} if tensor.reverse else {}  # a call argument
        if id(layer) not in emitted:
            if layer.name in taken:
                raise ValueError(
                    f"two layers of the model are named {layer.name!r}; layer names must be "
                    "unique within a model"
                )
            emitted.add(id(layer))
            taken.add(layer.name)
            node = layer.name
            nodes.append({**layer.to_spec(), **reverse, "inputs": refs})
        else:
            node = fresh_name(f"{layer.name}_call", taken)
            nodes.append({"name": node, "call": layer.name, **reverse, "inputs": refs})
        calls[key] = node
    spec = {
        "type": "functional",
        "name": name,
        "inputs": [{"name": i.name, "shape": i.input_shape} for i in inputs],
        "layers": nodes,
        "outputs": [ref(o) for o in outputs],
    }
    try:
        FunctionalSpec.model_validate(spec)
    except ValidationError as exc:
        raise spec_error(exc.errors()) from None
    return spec


def tensor_shape(tensor: KerasTensor) -> tuple[int | None, ...]:
    """A tensor's shape (batch axis first, None), from the service's shape inference on
    the part of the graph that computes it."""
    from cornu import connection

    if isinstance(tensor.source, Input):
        return tensor.source.shape
    if tensor.reverse:  # (…, output_dim) hidden states to (…, input_dim) logits
        return (*tensor.inputs[0].shape[:-1], tensor.source.config["input_dim"])
    spec = functional_spec(graph_inputs([tensor]), [tensor], "shape")
    summary = connection.client().summary(spec)
    row = next(r for r in summary.layers if r.name == tensor.source.name)
    shape = row.output_shape
    if shape and isinstance(shape[0], list):
        shape = shape[tensor.index]
    return (None, *shape)
