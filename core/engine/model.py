"""A built model: layers wired as a graph, with Keras's names and shape inference.

Sequential and functional specs build the same `Model`: input nodes and layer calls in
an order where each call comes after what it reads. A layer called twice is one module
(shared weights) with two nodes. `core.engine.build` makes one from a spec.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from cornu.core.engine.layers import (
    Layer,
    Mask,
    Shape,
    Shapes,
    Weight,
)
from cornu.core.engine.layers.base import format_shape, penalty_of
from cornu.core.engine.layers.wrappers import Wrapper
from cornu.core.errors import ErrorItem, SpecError
from cornu.core.spec import registry

# Output activations whose cross-entropy the losses compute from the logits.
FUSABLE_ACTIVATIONS = frozenset({"softmax", "sigmoid"})


@dataclass(frozen=True)
class Slot:
    """One tensor of the graph: output `index` of node `node`."""

    node: int
    index: int = 0


@dataclass(frozen=True)
class GraphNode:
    """An input (`layer` None, `source` its position) or one call of a layer, with the
    keyword arguments of that call (a ReversibleEmbedding's `reverse=True`) and, when
    they change it, the call's own output shape (else the layer's)."""

    name: str
    layer: int | None
    inputs: tuple[Slot, ...] = ()
    source: int = -1
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    output_shape: Shapes | None = None


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
    """A built Keras model as one torch module: its layers, the graph of calls between
    them (`nodes`; a chain for a Sequential, run without the graph walk), its inputs'
    declared shapes (batch first, channels last) and its outputs. `run` computes every
    output, with logits and masks where asked; `keras_order` is Keras's order of
    `model.layers`, which `get_weights()` follows."""

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
        # A Sequential in which no mask arises (no Embedding with mask_zero, no Masking)
        # and no layer penalises its activity runs as a plain loop: the common case.
        self._chain = (
            not functional
            and not self._active
            and not any(
                getattr(layer.spec, "mask_zero", False) or layer.spec.type == "Masking"
                for layer in layers
            )
        )

    # -- shapes and names ------------------------------------------------------------

    def _shape(self, slot: Slot) -> Shape:
        node = self.nodes[slot.node]
        if node.layer is None:
            return self.input_shapes[node.source]
        shape = node.output_shape or self.stack[node.layer].output_shape
        return shape[slot.index] if isinstance(shape, list) else shape

    def _input_dtype(self, source: int) -> torch.dtype:
        """An input read only by layers that want integers (Embedding) is given as int64."""
        node = next(i for i, n in enumerate(self.nodes) if n.layer is None and n.source == source)
        wanted = {
            torch.float32 if n.kwargs.get("reverse") else self.stack[n.layer].input_dtype
            for n in self.nodes
            if n.layer is not None and any(s.node == node for s in n.inputs)
        }  # a reverse call of an embedding reads hidden states: floats
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
            kind = registry.layer_class(layer.spec.type) or layer.spec.type  # Keras's class
            rows.append(LayerInfo(name, kind, layer.output_shape, total, trainable))
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
                    ErrorItem(("weights", key), f"{where} {format_shape(expected)} is missing")
                )
                continue
            value = torch.as_tensor(weights[key])
            if expected == () and tuple(value.shape) == (1,):  # a scalar sent as a dataset
                value = value.reshape(())
            if tuple(value.shape) != expected:
                problems.append(
                    ErrorItem(
                        ("weights", key),
                        f"{where} is {format_shape(expected)} in this model but "
                        f"{format_shape(tuple(value.shape))} in the weights",
                    )
                )
            given[key] = value
        for key in weights:
            if key not in slots:
                shape = format_shape(tuple(getattr(weights[key], "shape", ())))
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
        """Compute every output; for outputs in `logits_for`, also the head's logits.
        An input one axis off its declared rank is adjusted as Keras 3 does (a trailing
        axis of 1 dropped or added: `rank_adjusted`)."""
        if len(inputs) == len(self.declared_shapes):  # else the graph reports the mismatch
            inputs = [self._rank_adjusted(x, d) for x, d in zip(inputs, self.declared_shapes,
                                                                strict=True)]  # fmt: skip
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
            if len(args) > 1 and not layer.multiple_inputs:  # a recurrent layer's states
                # Keras 3 passes no mask to a call with several tensors (`Layer.__call__`
                # fills only `<arg>_mask` arguments then), yet its output keeps the mask.
                out = layer(x, mask=None, initial_state=args[1:])
            elif node.kwargs:  # a call with keyword arguments (`reverse=True`)
                out = layer(x, **node.kwargs)
            elif index in heads:
                pre = layer.pre_activation(x)  # type: ignore[arg-type]  # heads take one input
                logits[heads[index]] = pre
                out = layer.activation(pre)  # type: ignore[operator]
            elif layer.uses_mask:
                out = layer(x, mask=mask)
            else:
                out = layer(x)
            outs = out if isinstance(out, tuple) else (out,)
            values.append(outs)
            out_mask = layer.compute_mask(x, mask, **node.kwargs)
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

    @staticmethod
    def _rank_adjusted(x: Tensor, declared: Sequence[int | None]) -> Tensor:
        rank = x.dim() - 1
        if rank == len(declared) + 1 and x.shape[-1] == 1:
            return x.squeeze(-1)
        if rank == len(declared) - 1 and declared and declared[-1] == 1:
            return x.unsqueeze(-1)
        return x

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


def weights_file(model: Model) -> bytes:
    """The model's weights as the service stores and serves them: safetensors of Keras's
    names and layouts, with Keras's get_weights() order in the `keras_order` metadata
    (safetensors itself keeps no order)."""
    import safetensors.torch

    from cornu.core.spec.tensorfile import order_metadata

    tensors = {k: v.detach().cpu().contiguous() for k, v in model.keras_weights().items()}
    return safetensors.torch.save(tensors, metadata=order_metadata(tensors))
