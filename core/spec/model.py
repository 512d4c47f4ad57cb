"""Model specs: a Sequential stack, or a functional graph of named layers.

A functional model lists its inputs, its layers (each naming the layers or inputs it
takes, in `inputs`), and its outputs. A layer called a second time shares its weights:
`{"name": "tower_b", "call": "tower", "inputs": ["b"]}`. A layer that returns several
tensors (an LSTM with `return_state`) is referenced as `"lstm:1"` for its second.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveInt,
    PrivateAttr,
    StringConstraints,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from cornu.core.spec.layers import AnyLayer, LayerName, LayerSpec, Shape
from cornu.core.spec.layers.core import Input
from cornu.core.spec.names import layer_names


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Model(_Strict):
    """What both model forms share: the notes made while reading them."""

    _notes: list[str] = PrivateAttr(default_factory=list)

    def named_layers(self) -> list[tuple[str, LayerSpec]]:
        raise NotImplementedError

    def warnings(self) -> list[str]:
        """What was ignored or mapped while reading the model, as Keras would warn about it:
        arguments an older Keras wrote (in Keras's JSON), deprecated forms, an `input_shape`
        given to a layer after the first."""
        out = list(self._notes)
        for name, layer in self.named_layers():
            out += [f"layer '{name}' ({layer.type}): {note}" for note in layer.notes]
        return out


class SequentialSpec(_Model):
    """`keras.Sequential`: a plain stack; each layer takes the previous layer's output."""

    type: Literal["sequential"] = "sequential"
    name: str | None = Field(default=None, max_length=128)
    layers: list[AnyLayer] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> SequentialSpec:
        seen: set[str] = set()
        for index, layer in enumerate(self.layers):
            if isinstance(layer, Input) and index > 0:
                raise PydanticCustomError(
                    "input_not_first",
                    "layer {index}: an Input can only come first",
                    {"index": index},
                )
            if layer.name is not None:
                if layer.name in seen:
                    raise PydanticCustomError(
                        "duplicate_layer_name",
                        "layer {index} reuses the name '{name}'; layer names must be unique",
                        {"index": index, "name": layer.name},
                    )
                seen.add(layer.name)
            if index > 0 and layer.input_shape is not None and not isinstance(layer, Input):
                self._notes.append(
                    f"layer {index} ({layer.type}) gives an input_shape, which only the first "
                    "layer of a Sequential model uses; it was ignored, as Keras ignores it"
                )
        return self

    def named_layers(self) -> list[tuple[str, LayerSpec]]:
        return list(zip(layer_names(self.stack), self.stack, strict=True))

    @property
    def input_shape(self) -> tuple[int | None, ...] | None:
        first = self.layers[0]
        return first.shape if isinstance(first, Input) else first.input_shape

    @property
    def batch_sizes(self) -> set[int | None]:
        """The fixed batch size its input declares (a leading Input's), or {None}."""
        first = self.layers[0]
        return {first.batch_size if isinstance(first, Input) else None}

    @property
    def stack(self) -> list[LayerSpec]:
        """The layers that compute something (a leading Input only declares the shape)."""
        return [layer for layer in self.layers if not isinstance(layer, Input)]


Ref = Annotated[
    str, StringConstraints(max_length=140, pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]*(:[0-9]+)?$")
]
"""An output of a layer or an input: `"name"`, or `"name:1"` for a layer's second output."""


def split_ref(ref: str) -> tuple[str, int]:
    name, _, index = ref.partition(":")
    return name, int(index or 0)


class InputSpec(_Strict):
    """`keras.Input(shape=…, name=…)`."""

    name: LayerName
    shape: Shape
    dtype: str | None = None
    batch_size: PositiveInt | None = Field(
        default=None, description="Keras's fixed batch size, which stateful=True layers need"
    )


class Node(_Strict):
    """One call of a layer in a functional model: a new layer, or another call of one."""

    name: LayerName
    inputs: list[Ref] = Field(min_length=1)
    layer: AnyLayer | None = None
    call: LayerName | None = Field(default=None, description="name of the layer to call again")
    reverse: bool = Field(
        default=False,
        description="Keras's `reverse=True` call argument: a ReversibleEmbedding projecting "
        "hidden states back to vocabulary logits",
    )


def _node(data: Any) -> Any:
    """A flat entry (`{"name", "type", …args, "inputs"}`) as a Node. A flat entry has a
    `type`; a wrapper's own `layer` argument (Bidirectional, TimeDistributed) is then an
    argument, not the nested form's `layer`."""
    if not isinstance(data, dict) or ("layer" in data and "type" not in data):
        return data
    if "name" not in data:
        raise PydanticCustomError(
            "unnamed_layer", "each layer of a functional model needs a name: others refer to it"
        )
    if "call" in data:
        return data
    rest = {k: v for k, v in data.items() if k not in ("inputs", "reverse")}
    call = {"reverse": data["reverse"]} if "reverse" in data else {}  # a call argument
    return {"name": data["name"], "inputs": data.get("inputs"), **call, "layer": rest}


class FunctionalSpec(_Model):
    """A directed acyclic graph of layers (the Keras functional API)."""

    type: Literal["functional"] = "functional"
    name: str | None = Field(default=None, max_length=128)
    inputs: list[InputSpec] = Field(min_length=1)
    layers: list[Annotated[Node, BeforeValidator(_node)]] = Field(min_length=1)
    outputs: list[Ref] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_graph(self) -> FunctionalSpec:
        self.order()
        return self

    def order(self) -> list[int]:
        """Indices of `layers` in an order where each comes after what it takes.

        Raises (as validation errors) on unknown references, reused names, cycles, and
        layers or inputs that no output depends on.
        """
        inputs = {i.name for i in self.inputs}
        nodes = {node.name: index for index, node in enumerate(self.layers)}
        if len(inputs) < len(self.inputs) or len(nodes) < len(self.layers) or inputs & set(nodes):
            seen: set[str] = set()
            for name in [i.name for i in self.inputs] + [n.name for n in self.layers]:
                if name in seen:
                    raise PydanticCustomError(
                        "duplicate_name", "the name '{name}' is used twice", {"name": name}
                    )
                seen.add(name)
        for node in self.layers:
            if (node.layer is None) == (node.call is None):
                raise PydanticCustomError(
                    "node_kind",
                    "layer '{name}': give layer arguments or 'call', not both",
                    {"name": node.name},
                )
            if node.call is not None:
                target = nodes.get(node.call)
                if target is None or self.layers[target].layer is None:
                    raise PydanticCustomError(
                        "unknown_call",
                        "layer '{name}' calls '{call}', which is not a layer here",
                        {"name": node.name, "call": node.call},
                    )
            if node.reverse:
                self._check_reverse(node, nodes)
            for ref in node.inputs:
                self._resolve(ref, inputs, nodes, f"layer '{node.name}'")
        for ref in self.outputs:
            self._resolve(ref, inputs, nodes, "outputs")
        return self._topological(inputs, nodes)

    def _check_reverse(self, node: Node, nodes: dict[str, int]) -> None:
        """Only a ReversibleEmbedding has Keras's `reverse` call argument."""
        layer = node.layer if node.call is None else self.layers[nodes[node.call]].layer
        kind = layer.type if layer is not None else None
        if kind != "ReversibleEmbedding":
            raise PydanticCustomError(
                "reverse_call",
                "layer '{name}' is called with reverse=true, which only a ReversibleEmbedding "
                "takes (this is a {kind})",
                {"name": node.name, "kind": str(kind)},
            )

    def _resolve(self, ref: str, inputs: set[str], nodes: dict[str, int], where: str) -> None:
        name, _ = split_ref(ref)
        if name not in inputs and name not in nodes:
            known = ", ".join(sorted(inputs | set(nodes)))
            raise PydanticCustomError(
                "unknown_ref",
                "{where} refers to '{ref}', which is not an input or layer ({known})",
                {"where": where, "ref": ref, "known": known},
            )

    def _topological(self, inputs: set[str], nodes: dict[str, int]) -> list[int]:
        deps = {
            i: {nodes[split_ref(r)[0]] for r in node.inputs if split_ref(r)[0] in nodes}
            | ({nodes[node.call]} if node.call else set())
            for i, node in enumerate(self.layers)
        }
        order: list[int] = []
        state: dict[int, int] = {}  # 1 visiting, 2 done

        def visit(i: int, path: list[int]) -> None:
            if state.get(i) == 2:
                return
            if state.get(i) == 1:
                cycle = path[path.index(i) :] + [i]
                raise PydanticCustomError(
                    "cycle",
                    "layers form a cycle: {cycle}",
                    {"cycle": " → ".join(self.layers[j].name for j in cycle)},
                )
            state[i] = 1
            for j in sorted(deps[i]):
                visit(j, [*path, i])
            state[i] = 2
            order.append(i)

        for i in range(len(self.layers)):
            visit(i, [])
        used = self._ancestors(deps, nodes)
        for i, node in enumerate(self.layers):
            if i not in used:
                raise PydanticCustomError(
                    "dangling",
                    "layer '{name}' is not used by any output; remove it or output it",
                    {"name": node.name},
                )
        reached = {split_ref(r)[0] for i in used for r in self.layers[i].inputs}
        reached |= {split_ref(r)[0] for r in self.outputs}
        for name in sorted(inputs - reached):  # Keras keeps it (losses may read it)
            self._notes.append(
                f"input '{name}' is not used by any output; Keras keeps it, so its data "
                "are still needed"
            )
        return order

    def _ancestors(self, deps: dict[int, set[int]], nodes: dict[str, int]) -> set[int]:
        stack = [nodes[split_ref(r)[0]] for r in self.outputs if split_ref(r)[0] in nodes]
        seen: set[int] = set()
        while stack:
            i = stack.pop()
            if i not in seen:
                seen.add(i)
                stack.extend(deps[i])
        return seen

    def named_layers(self) -> list[tuple[str, LayerSpec]]:
        return [(node.name, node.layer) for node in self.layers if node.layer is not None]

    @property
    def batch_sizes(self) -> set[int | None]:
        """The fixed batch sizes its inputs declare (None for an input without one)."""
        return {i.batch_size for i in self.inputs}

    def output_names(self) -> list[str]:
        """Keras names outputs after the layers that produce them."""
        names: list[str] = []
        for ref in self.outputs:
            name, index = split_ref(ref)
            names.append(name if name not in names else f"{name}_{index}")
        return names


def _check_text(data: Any) -> None:
    """Refuses a string that is not Unicode text (a lone surrogate such as `\\ud800`, which
    JSON can spell but no text holds), with where it is; walks without recursion, so
    nesting of any depth is fine here."""
    stack: list[tuple[str, Any]] = [("model", data)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, dict):
            stack.extend((f"{where}.{key}", value) for key, value in item.items())
            texts = [key for key in item if isinstance(key, str)]
        elif isinstance(item, list | tuple):
            stack.extend((f"{where}[{i}]", value) for i, value in enumerate(item))
            texts = []
        else:
            texts = [item] if isinstance(item, str) else []
        for text in texts:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                place = where.encode("utf-8", "backslashreplace").decode()[:200]
                raise PydanticCustomError(
                    "not_text",
                    "the string at {where} is not Unicode text (it holds a lone surrogate)",
                    {"where": place},
                ) from None


def _model_form(data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Keras's `model.to_json()` (as an object or a string) becomes a native spec, with
    notes on what was mapped or ignored on the way."""
    from cornu.core.spec.keras_config.reading import from_keras  # its package imports this module
    from cornu.core.spec.keras_json import is_keras_json

    _check_text(data)
    notes: list[str] = []
    if is_keras_json(data):
        data = from_keras(data, notes)
    elif isinstance(data, dict) and "type" not in data:  # Sequential unless it has a graph
        kind = "functional" if "outputs" in data else "sequential"
        data = {"type": kind, **data}
    model = handler(data)
    if isinstance(model, _Model):
        model._notes[:0] = notes
    return model


ModelSpec = Annotated[
    SequentialSpec | FunctionalSpec,
    Field(discriminator="type"),
    WrapValidator(_model_form),
]
"""A Sequential stack, a functional graph, or Keras's own model JSON."""
