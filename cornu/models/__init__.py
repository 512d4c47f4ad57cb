"""Keras's models, trained by Cornu: `models.Sequential()` and `models.Model(inputs, outputs)`.

Everything Keras's `Model` offers for training is here — `compile`, `fit` (with a
progress bar fed live by the service), `evaluate`, `predict`, `summary`, `get_weights`,
`save_weights`, `to_json` — and runs on the service the SDK is connected to
(`cornu.connect`, or `CORNU_URL` / `CORNU_API_KEY`). The SDK needs no torch.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from cornu.core.spec import FunctionalSpec, SequentialSpec, spec_error
from cornu.layers import Input, KerasTensor, Layer
from cornu.training import History, RemoteJob, TrainedModel


def _snake(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


class _Names:
    """Keras's default names (`dense`, `dense_1`, …), unique within one model."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken)
        self.counts: dict[str, int] = {}

    def new(self, base: str) -> str:
        while True:
            n = self.counts.get(base, 0)
            self.counts[base] = n + 1
            name = base if n == 0 else f"{base}_{n}"
            if name not in self.taken:
                self.taken.add(name)
                return name


class Model(TrainedModel):
    """A functional model: `Model(inputs=…, outputs=…)` (the book's `input=`/`output=` too)."""

    default_name = "functional"

    def __init__(
        self, inputs: Any = None, outputs: Any = None, name: str | None = None, **kwargs: Any
    ) -> None:
        inputs = kwargs.pop("input", inputs)
        outputs = kwargs.pop("output", outputs)
        if kwargs:
            raise TypeError(f"Model got unexpected arguments: {', '.join(kwargs)}")
        if inputs is None or outputs is None:
            raise TypeError(
                "Model needs inputs and outputs: Model(inputs=input_tensor, outputs=output_tensor)"
            )
        super().__init__(name)
        self._inputs = list(inputs) if isinstance(inputs, list | tuple) else [inputs]
        self._outputs = list(outputs) if isinstance(outputs, list | tuple) else [outputs]
        self._spec = self._graph()

    def _graph(self) -> dict[str, Any]:
        """The functional spec: each layer call a node; a second call of a layer, a `call`."""
        order = _topological(self._outputs)
        layers = list(
            {id(t.source): t.source for t in order if isinstance(t.source, Layer)}.values()
        )
        names = _Names(
            {layer.name for layer in layers if layer.name}
            | {i.input_name for i in self._inputs if i.input_name}
        )
        # Default names are numbered in creation order, as Keras numbers them.
        input_names = {
            id(i): i.input_name or names.new("input_layer")
            for i in sorted(self._inputs, key=lambda i: i.created)
        }
        layer_names = {
            id(layer): layer.name or names.new(_snake(layer.type))
            for layer in sorted(layers, key=lambda layer: layer.created)
        }
        emitted: set[int] = set()
        calls: dict[tuple[int, tuple[int, ...]], str] = {}  # (layer, its input tensors) → node
        nodes: list[dict[str, Any]] = []

        def ref(t: KerasTensor) -> str:
            if isinstance(t.source, Input):
                if id(t.source) not in input_names:
                    raise ValueError(f"{t.source!r} is used but is not among the model's inputs")
                return input_names[id(t.source)]
            node = calls[(id(t.source), tuple(id(p) for p in t.inputs))]
            return node if t.index == 0 else f"{node}:{t.index}"

        for t in order:
            layer = t.source
            if not isinstance(layer, Layer):
                continue
            key = (id(layer), tuple(id(p) for p in t.inputs))
            if key in calls:
                continue
            refs = [ref(p) for p in t.inputs]
            if id(layer) not in emitted:
                emitted.add(id(layer))
                node = layer_names[id(layer)]
                nodes.append({**layer.spec(), "name": node, "inputs": refs})
            else:
                node = names.new(f"{layer_names[id(layer)]}_call")
                nodes.append({"name": node, "call": layer_names[id(layer)], "inputs": refs})
            calls[key] = node
        spec = {
            "type": "functional",
            "name": self.name,
            "inputs": [{"name": input_names[id(i)], "shape": i.shape} for i in self._inputs],
            "layers": nodes,
            "outputs": [ref(o) for o in self._outputs],
        }
        _validate(FunctionalSpec, spec)
        return spec

    def model_spec(self) -> dict[str, Any]:
        return self._spec


class Sequential(TrainedModel):
    """`Sequential([layers…])` or `Sequential()` then `add(layer)`, as in Keras."""

    default_name = "sequential"

    def __init__(
        self, layers: Sequence[Layer | Input] | None = None, name: str | None = None
    ) -> None:
        super().__init__(name)
        self.layers: list[Layer | Input] = []
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Layer | Input) -> None:
        if isinstance(layer, Input) and self.layers:
            raise ValueError("an Input can only be the first entry of a Sequential")
        if not isinstance(layer, Layer | Input):
            raise TypeError(f"Sequential.add takes a layer, not {type(layer).__name__}")
        self.layers.append(layer)
        self._forget_training()

    def model_spec(self) -> dict[str, Any]:
        if not self.layers:
            raise ValueError("the Sequential model has no layers; add some first")
        spec = {
            "type": "sequential",
            "name": self.name,
            "layers": [layer.spec() for layer in self.layers],
        }
        _validate(SequentialSpec, spec)
        return spec


def _topological(outputs: Sequence[KerasTensor]) -> list[KerasTensor]:
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


def _validate(cls: type[SequentialSpec] | type[FunctionalSpec], spec: Mapping[str, Any]) -> None:
    from pydantic import ValidationError

    try:
        cls.model_validate(spec)
    except ValidationError as exc:
        raise spec_error(exc.errors()) from None


class JsonModel(TrainedModel):
    """A model given as JSON: Keras's `model.to_json()` (either form) or Cornu's own spec."""

    def __init__(self, model: Any) -> None:
        super().__init__(None)
        self._model = json.loads(model) if isinstance(model, str) else dict(model)

    def model_spec(self) -> dict[str, Any]:
        return self._model


def model_from_json(model: str | Mapping[str, Any]) -> JsonModel:
    """`keras.models.model_from_json`: Keras's JSON (Keras 3 or tf.keras 2) or Cornu's."""
    return JsonModel(model)


__all__ = ["History", "JsonModel", "Model", "RemoteJob", "Sequential", "model_from_json"]
