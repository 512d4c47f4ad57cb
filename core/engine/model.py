"""A built model: layers wired as a graph, with Keras's names and shape inference.

Sequential and functional specs build the same `Model`: input nodes and layer calls in
an order where each call comes after what it reads. A layer called twice is one module
(shared weights) with two nodes. `build_model` on the `meta` device allocates nothing:
it is how a spec is checked — every layer's shapes, every name, the parameter count —
before anything is queued, with the code that later builds the real model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from cornu.core.engine.layers import (
    LAYERS,
    Layer,
    Mask,
    Shape,
    ShapeError,
    Shapes,
    Weight,
)
from cornu.core.engine.layers.base import penalty_of
from cornu.core.engine.layers.wrappers import Wrapper
from cornu.core.errors import ErrorItem, SpecError
from cornu.core.spec import FunctionalSpec, LayerSpec, ModelSpec, SequentialSpec
from cornu.core.spec.keras_config import keras_layer_order
from cornu.core.spec.model import split_ref
from cornu.core.spec.names import layer_names

# Output activations whose cross-entropy the losses compute from the logits.
FUSABLE_ACTIVATIONS = frozenset({"softmax", "sigmoid"})


@dataclass(frozen=True)
class Slot:
    """One tensor of the graph: output `index` of node `node`."""

    node: int
    index: int = 0


@dataclass(frozen=True)
class GraphNode:
    """An input (`layer` None, `source` its position) or one call of a layer."""

    name: str
    layer: int | None
    inputs: tuple[Slot, ...] = ()
    source: int = -1


@dataclass(frozen=True)
class LayerInfo:
    name: str
    type: str
    output_shape: Shapes
    params: int
    trainable_params: int


@dataclass
class Forward:
    """What one pass computes: each output, its logits where asked, masks, added losses."""

    outputs: list[Tensor]
    logits: list[Tensor | None]
    masks: list[Mask]
    losses: list[Tensor] = field(default_factory=list)


class Model(nn.Module):
    def __init__(
        self,
        layers: list[Layer],
        names: list[str],
        nodes: list[GraphNode],
        input_names: list[str],
        input_shapes: list[Shape],
        outputs: list[Slot],
        output_names: list[str],
        *,
        functional: bool,
        keras_order: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.stack: list[Layer] = layers  # the same modules, typed
        self.names = names
        self.nodes = nodes
        self.input_names = input_names
        self.input_shapes = input_shapes
        self.outputs = outputs
        self.output_names = output_names
        self.functional = functional
        # Each input's shape as the spec declares it (None: any size); the builder sets it.
        self.declared_shapes: list[Sequence[int | None]] = list(input_shapes)
        # `model.layers` as Keras orders them: the order of `get_weights()`
        self.keras_order = keras_order or names
        self.output_shapes: list[Shape] = [self._shape(slot) for slot in outputs]
        self.input_dtypes = [self._input_dtype(i) for i in range(len(input_names))]
        self._regularized = [layer for layer in layers if layer.has_regularizers]
        self._constrained = [layer for layer in layers if layer.has_constraints]
        self._active = [layer for layer in layers if layer.activity_regularizer is not None]
        # A Sequential in which no mask arises (no Embedding with mask_zero) and no layer
        # penalises its activity runs as a plain loop: the training step's common case.
        self._chain = (
            not functional
            and not self._active
            and not any(getattr(layer.spec, "mask_zero", False) for layer in layers)
        )

    # -- shapes and names ------------------------------------------------------------

    def _shape(self, slot: Slot) -> Shape:
        node = self.nodes[slot.node]
        if node.layer is None:
            return self.input_shapes[node.source]
        shape = self.stack[node.layer].output_shape
        return shape[slot.index] if isinstance(shape, list) else shape

    def _input_dtype(self, source: int) -> torch.dtype:
        """An input read only by layers that want integers (Embedding) is given as int64."""
        node = next(i for i, n in enumerate(self.nodes) if n.layer is None and n.source == source)
        readers = [
            self.stack[n.layer]
            for n in self.nodes
            if n.layer is not None and any(s.node == node for s in n.inputs)
        ]
        wanted = {layer.input_dtype for layer in readers}
        return wanted.pop() if len(wanted) == 1 else torch.float32

    @property
    def input_shape(self) -> Shape:
        return self.input_shapes[0]

    @property
    def output_shape(self) -> Shape:
        return self.output_shapes[0]

    def output_activation(self, output: int) -> str | None:
        """The activation ending the layer that produces `output`, if it is separable."""
        slot = self.outputs[output]
        node = self.nodes[slot.node]
        if node.layer is None or slot.index != 0:
            return None
        return self.stack[node.layer].activation_name

    def summary(self) -> list[LayerInfo]:
        """One row per layer (a shared layer once), as Keras's `model.summary()`."""
        rows = []
        if self.functional:
            rows += [
                LayerInfo(n, "InputLayer", s, 0, 0)
                for n, s in zip(self.input_names, self.input_shapes, strict=True)
            ]
        for name, layer in zip(self.names, self.stack, strict=True):
            total, trainable = layer.count_params()
            rows.append(LayerInfo(name, type(layer).__name__, layer.output_shape, total, trainable))
        return rows

    def count_params(self) -> tuple[int, int]:
        """(all, trainable) as Keras counts them (moving statistics count as non-trainable)."""
        counts = [layer.count_params() for layer in self.stack]
        return sum(c[0] for c in counts), sum(c[1] for c in counts)

    def keras_weights(self) -> dict[str, Tensor]:
        """`{"dense/kernel": …, "dense/bias": …}` in Keras's layouts and in the order of
        Keras's `get_weights()` (its `model.layers` order), ready for safetensors."""
        layers = dict(zip(self.names, self.stack, strict=True))
        return {
            f"{name}/{weight}": tensor
            for name in self.keras_order
            for weight, tensor in layers[name].keras_weights().items()
        }

    def load_keras_weights(self, weights: Mapping[str, Any]) -> None:
        """Set every weight from `{"<layer>/<weight>": value}` in Keras's layouts: the
        inverse of `keras_weights()` (values may be tensors or numpy arrays).

        Raises SpecError naming each weight that is missing, not in this model, or of
        another shape (both shapes), before any weight is changed.
        """
        slots = {
            f"{name}/{key}": slot
            for name, layer in zip(self.names, self.stack, strict=True)
            for key, slot in keras_slots(layer).items()
        }
        types = dict(zip(self.names, (type(layer).__name__ for layer in self.stack), strict=True))
        problems: list[ErrorItem] = []
        given: dict[str, Tensor] = {}
        for key, (layer, weight) in slots.items():
            where = _weight_name(key, types)
            expected = layer.keras_shape(weight)
            if key not in weights:
                problems.append(
                    ErrorItem(("weights", key), f"{where} {_fmt_shape(expected)} is missing")
                )
                continue
            value = torch.as_tensor(weights[key])
            if tuple(value.shape) != expected:
                problems.append(
                    ErrorItem(
                        ("weights", key),
                        f"{where} is {_fmt_shape(expected)} in this model but "
                        f"{_fmt_shape(tuple(value.shape))} in the weights",
                    )
                )
            given[key] = value
        for key in weights:
            if key not in slots:
                shape = _fmt_shape(tuple(getattr(weights[key], "shape", ())))
                problems.append(
                    ErrorItem(("weights", key), f"{key!r} {shape} is not a weight of this model")
                )
        if problems:
            raise SpecError(problems)
        for key, (layer, weight) in slots.items():
            layer.load_keras_weight(weight, given[key])

    # -- running ---------------------------------------------------------------------

    def forward(self, *inputs: Tensor) -> list[Tensor]:
        return self.run(list(inputs)).outputs

    def run(self, inputs: Sequence[Tensor], logits_for: frozenset[int] = frozenset()) -> Forward:
        """Compute every output; for outputs in `logits_for`, also the head's logits."""
        if self._chain:
            return self._run_chain(inputs[0], bool(logits_for))
        values: list[tuple[Tensor, ...]] = []
        masks: list[tuple[Mask, ...]] = []
        heads = {self.outputs[i].node: i for i in logits_for}
        logits: list[Tensor | None] = [None] * len(self.outputs)
        losses: list[Tensor] = []
        for index, node in enumerate(self.nodes):
            if node.layer is None:
                values.append((inputs[node.source],))
                masks.append((None,))
                continue
            layer = self.stack[node.layer]
            args = [values[s.node][s.index] for s in node.inputs]
            arg_masks = [masks[s.node][s.index] for s in node.inputs]
            x = args if layer.multiple_inputs else args[0]
            mask = arg_masks if layer.multiple_inputs else arg_masks[0]
            if index in heads:
                pre = layer.pre_activation(x)  # type: ignore[arg-type]  # heads take one input
                logits[heads[index]] = pre
                out = layer.activation(pre)  # type: ignore[operator]
            elif layer.uses_mask:
                out = layer(x, mask=mask)
            else:
                out = layer(x)
            outs = out if isinstance(out, tuple) else (out,)
            values.append(outs)
            out_mask = layer.compute_mask(x, mask)
            masks.append(out_mask if isinstance(out_mask, tuple) else (out_mask,) * len(outs))
            if layer.activity_regularizer is not None:
                for o in outs:
                    losses.append(penalty_of(layer.activity_regularizer, o) / o.shape[0])
        return Forward(
            outputs=[values[s.node][s.index] for s in self.outputs],
            logits=logits,
            masks=[masks[s.node][s.index] for s in self.outputs],
            losses=losses,
        )

    def _run_chain(self, x: Tensor, want_logits: bool) -> Forward:
        *body, head = self.stack
        for layer in body:
            out = layer(x)
            x = out[0] if isinstance(out, tuple) else out  # a Sequential passes the first on
        if want_logits:
            logits = head.pre_activation(x)
            return Forward([head.activation(logits)], [logits], [None])  # type: ignore[operator]
        out = head(x)
        return Forward([out[0] if isinstance(out, tuple) else out], [None], [None])

    def regularization_loss(self) -> Tensor | None:
        total: Tensor | None = None
        for layer in self._regularized:
            penalty = layer.regularization_loss()
            if penalty is not None:
                total = penalty if total is None else total + penalty
        return total

    def apply_constraints(self) -> None:
        for layer in self._constrained:
            layer.apply_constraints()


def keras_slots(layer: Layer) -> dict[str, tuple[Layer, Weight]]:
    """Each Keras weight name of `layer` (its wrapped layers' under their prefixes, as
    `keras_weights()` names them) with the layer that holds it."""
    slots = {w.name: (layer, w) for w in layer.weights_info}
    if isinstance(layer, Wrapper):
        for prefix, inner in layer.wrapped():
            slots.update({prefix + key: slot for key, slot in keras_slots(inner).items()})
    return slots


def _weight_name(key: str, types: Mapping[str, str]) -> str:
    """`"dense/kernel"` as `layer 'dense' (Dense): kernel`."""
    name, _, weight = key.partition("/")
    return f"layer {name!r} ({types[name]}): {weight}"


def _fmt_shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _fmt(shape: Shapes) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(_fmt(s) for s in shape) + "]"
    return "(" + ", ".join(["batch", *map(str, shape)]) + ")"


def _make(layer_spec: LayerSpec, shape: Shapes, where: str, loc: tuple[str | int, ...]) -> Layer:
    try:
        return LAYERS[layer_spec.type](layer_spec, shape)
    except ShapeError as exc:
        raise SpecError(f"{where}: input {_fmt(shape)}: {exc}", loc=loc) from None
    except SpecError as exc:
        raise SpecError([ErrorItem(loc, f"{where}: {e.msg}") for e in exc.errors]) from None


# A dimension of unknown size (None) that no data gives takes one of these sizes: two
# builds with different ones tell which dimensions of each output follow it.
UNKNOWN_SIZES = (1009, 2003)


def build_model(
    spec: ModelSpec,
    input_shapes: Sequence[Sequence[int | None] | None] | None = None,
    *,
    device: str | torch.device = "cpu",
    unknown: int = UNKNOWN_SIZES[0],
) -> Model:
    """Build `spec`; `input_shapes` (one sample's, per input: the data's) fill what the
    spec leaves open — a Sequential's missing input shape, dimensions of unknown size
    (None) — and those the data does not give take the size `unknown`.

    Raises SpecError naming the layer (index, name, type) and both shapes when a layer
    cannot take what it is given. `device="meta"` allocates no memory.
    """
    with torch.device(device):
        if isinstance(spec, SequentialSpec):
            return _sequential(spec, input_shapes, unknown)
        return _functional(spec, input_shapes, unknown)


def resolve_shape(
    declared: Sequence[int | None] | None, given: Sequence[int | None] | None, unknown: int
) -> Shape | None:
    """An input's shape for building: the data's where it fits what is declared (None
    matches any size), else the declared one with `unknown` for each None."""
    if declared is None:
        return None if given is None else tuple(unknown if d is None else d for d in given)
    fits = given is not None and len(given) == len(declared)
    if (
        fits
        and given is not None
        and all(d is None or d == g for d, g in zip(declared, given, strict=True))
    ):
        return tuple(unknown if g is None else g for g in given)
    return tuple(unknown if d is None else d for d in declared)


def _sequential(
    spec: SequentialSpec, input_shapes: Sequence[Sequence[int | None] | None] | None, unknown: int
) -> Model:
    layer_specs = spec.stack
    offset = len(spec.layers) - len(layer_specs)  # a leading Input entry
    names = layer_names(layer_specs)
    shape = resolve_shape(spec.input_shape, input_shapes[0] if input_shapes else None, unknown)
    if shape is None:
        raise SpecError(
            "the first layer gives no input_shape and there is no data to take it from; "
            "add input_shape (one sample's shape, e.g. [784]) to the first layer",
            loc=("model", "layers", 0),
        )
    if not layer_specs:
        raise SpecError("the model has an Input but no layers", loc=("model", "layers"))
    input_shape: Shape = tuple(shape)
    built: list[Layer] = []
    nodes = [GraphNode("input_layer", None, source=0)]
    current: Shapes = input_shape
    for index, (layer_spec, name) in enumerate(zip(layer_specs, names, strict=True)):
        where = f"layer {index + offset} {name!r} ({layer_spec.type})"
        loc = ("model", "layers", index + offset)
        if index > 0 and layer_spec.input_shape is not None and layer_spec.input_shape != current:
            raise SpecError(
                f"{where}: declares input_shape {_fmt(layer_spec.input_shape)} but the "
                f"previous layer outputs {_fmt(current)}; only the first layer names its input",
                loc=loc,
            )
        layer = _make(layer_spec, current, where, loc)
        if layer.multiple_inputs:
            raise SpecError(f"{where}: takes several inputs; use a functional model", loc=loc)
        built.append(layer)
        nodes.append(GraphNode(name, index, (Slot(len(nodes) - 1),)))
        current = layer.output_shape
        if isinstance(current, list):  # several outputs: a Sequential passes the first on
            current = current[0]
    model = Model(
        built,
        names,
        nodes,
        ["input_layer"],
        [input_shape],
        [Slot(len(nodes) - 1)],
        [names[-1]],
        functional=False,
    )
    model.declared_shapes = [spec.input_shape or input_shape]
    return model


def _functional(
    spec: FunctionalSpec, input_shapes: Sequence[Sequence[int | None] | None] | None, unknown: int
) -> Model:
    data = list(input_shapes or [])
    resolved = [
        resolve_shape(i.shape, data[n] if n < len(data) else None, unknown)
        for n, i in enumerate(spec.inputs)
    ]
    nodes = [GraphNode(i.name, None, source=n) for n, i in enumerate(spec.inputs)]
    slot_of: dict[str, int] = {i.name: n for n, i in enumerate(spec.inputs)}
    layer_index: dict[str, int] = {}
    built: list[Layer] = []
    names: list[str] = []
    for index in spec.order():
        node_spec = spec.layers[index]
        loc = ("model", "layers", index)
        slots = tuple(_slot(ref, slot_of) for ref in node_spec.inputs)
        shapes = [_slot_shape(s, nodes, built, resolved) for s in slots]
        if node_spec.layer is not None:
            layer_spec = node_spec.layer
            where = f"layer {index} {node_spec.name!r} ({layer_spec.type})"
            takes_list = LAYERS[layer_spec.type].multiple_inputs
            layer = _make(layer_spec, shapes if takes_list else shapes[0], where, loc)
            if not layer.multiple_inputs and len(slots) > 1:
                raise SpecError(f"{where}: takes one input, got {len(slots)}", loc=loc)
            layer_index[node_spec.name] = len(built)
            built.append(layer)
            names.append(node_spec.name)
            position = layer_index[node_spec.name]
        else:
            assert node_spec.call is not None
            position = layer_index[node_spec.call]
            layer = built[position]
            given: Shapes = shapes if layer.multiple_inputs else shapes[0]
            if given != layer.input_shape:
                raise SpecError(
                    f"layer {index} {node_spec.name!r} calls {node_spec.call!r} on "
                    f"{_fmt(given)}, but that layer was built for {_fmt(layer.input_shape)}",
                    loc=loc,
                )
        slot_of[node_spec.name] = len(nodes)
        nodes.append(GraphNode(node_spec.name, position, slots))
    outputs = [_slot(ref, slot_of) for ref in spec.outputs]
    model = Model(
        built,
        names,
        nodes,
        [i.name for i in spec.inputs],
        [s for s in resolved if s is not None],
        outputs,
        spec.output_names(),
        functional=True,
        keras_order=[name for name in keras_layer_order(spec) if name in layer_index],
    )
    model.declared_shapes = [tuple(i.shape) for i in spec.inputs]
    return model


def _slot(ref: str, slot_of: dict[str, int]) -> Slot:
    name, index = split_ref(ref)
    return Slot(slot_of[name], index)


def _slot_shape(
    slot: Slot, nodes: list[GraphNode], built: list[Layer], inputs: list[Shape | None]
) -> Shape:
    node = nodes[slot.node]
    if node.layer is None:
        if slot.index:
            raise SpecError(
                f"input {node.name!r} has one tensor; '{node.name}:{slot.index}' does not exist"
            )
        shape = inputs[node.source]
        assert shape is not None, "a functional input always declares its shape"
        return shape
    shape = built[node.layer].output_shape
    if isinstance(shape, list):
        if slot.index >= len(shape):
            raise SpecError(
                f"layer {node.name!r} has {len(shape)} outputs; "
                f"'{node.name}:{slot.index}' does not exist"
            )
        return tuple(shape[slot.index])
    if slot.index:
        raise SpecError(
            f"layer {node.name!r} has one output; '{node.name}:{slot.index}' does not exist"
        )
    return tuple(shape)


def weights_file(model: Model) -> bytes:
    """The model's weights as the service stores and serves them: safetensors of Keras's
    names and layouts, with Keras's get_weights() order in the `keras_order` metadata
    (safetensors itself keeps no order)."""
    import json

    import safetensors.torch

    tensors = {k: v.detach().cpu().contiguous() for k, v in model.keras_weights().items()}
    return safetensors.torch.save(tensors, metadata={"keras_order": json.dumps(list(tensors))})
