"""Where each weight of a model lives in Keras's files, derived from the spec alone.

Keras 3 saves a model by walking it (`keras/src/saving/saving_lib.py` `_save_state`,
`_walk_saveable`): the model's `layers` as a container whose members are named by their
class in snake case, numbered in `model.layers` order (`layers/dense`, `layers/dense_1`
…), then each layer's tracked sublayers by attribute (an RNN's `cell`, a Bidirectional's
`forward_layer` and `backward_layer`, a TimeDistributed's `layer`, MultiHeadAttention's
`query_dense` … `output_dense`). Every object's own variables are `<path>/vars/<i>`, in
the order `_trainable_variables + _non_trainable_variables`, and the `vars` group carries
the object's name (`attrs["name"]`). A legacy `.h5` instead names each variable by its
`path`: the names from the layer down (`lstm/lstm_cell/kernel`), prefixed by a
Sequential's name (`legacy_h5_format.py` `save_subset_weights_to_hdf5_group`).

A weight's Cornu name is `<layer>/<weight>` as `Model.keras_weights()` gives it
(`bidirectional/forward_lstm/kernel`, `mha/query/kernel`), in Keras's `get_weights()`
order.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from cornu.core.spec.keras_config import (
    keras_layer_order,
    layer_names,
    snake_case,
    wrapped_layers,
)
from cornu.core.spec.layers import LayerSpec
from cornu.core.spec.model import FunctionalSpec, SequentialSpec

RECURRENT = {"SimpleRNN", "LSTM", "GRU"}
MOVING_STATISTICS = ("moving_mean", "moving_variance")  # BatchNormalization's non-trainable
# MultiHeadAttention's tracked sublayers: (attribute, Keras name, its weights' prefix).
_ATTENTION = (
    ("query_dense", "query"),
    ("key_dense", "key"),
    ("value_dense", "value"),
    ("output_dense", "attention_output"),
)
_WRAPPER_ATTRIBUTES = {"layer": "forward_layer", "backward_layer": "backward_layer"}


@dataclass(frozen=True)
class Saveable:
    """One object that holds variables in Keras's walk of a layer."""

    path: str  # below the layer's group: "", "cell", "forward_layer/cell" …
    names: tuple[str, ...]  # Keras's names from below the layer down: ("forward_lstm", "lstm_cell")
    name: str  # the object's own name: the `vars` group's `name` attribute
    weights: tuple[str, ...]  # Cornu weight names below the layer, in `vars/<i>` order
    scope: tuple[str, ...] | None = None  # a wrapped layer's variable path, see `legacy_path`


@dataclass(frozen=True)
class LayerLayout:
    """One entry of `model.layers`: where its weights go, which of them train."""

    name: str
    group: str  # "layers/dense_1": its path in a `.keras` / `.weights.h5` file
    saveables: tuple[Saveable, ...]
    frozen: frozenset[str]  # weights (below the layer) that the optimizer does not see

    @property
    def weights(self) -> list[str]:
        """`<layer>/<weight>` of each weight, in Keras's `get_weights()` order."""
        return [f"{self.name}/{w}" for w in _weights_order(self.saveables)]

    @property
    def trainable(self) -> list[str]:
        """The weights the optimizer trains (Keras's `trainable_weights`), in order."""
        return [f"{self.name}/{w}" for w in _weights_order(self.saveables) if w not in self.frozen]

    @property
    def legacy_order(self) -> list[str]:
        """The order of a legacy `.h5`'s `weight_names`: trainable weights, then the rest
        (`legacy_h5_format.py` `_legacy_weights`)."""
        return [*self.trainable, *(w for w in self.weights if w not in self.trainable)]

    def legacy_path(self, weight: str, prefix: tuple[str, ...] = ()) -> str:
        """A weight's variable path in a legacy `.h5`, as Keras names the variables of a
        model it loaded from one: the names from the layer down (`lstm/lstm_cell/kernel`),
        after a Sequential's name (`prefix`), whose build creates them; a wrapped layer's
        from its own name (`forward_lstm/lstm_cell/kernel`), since its `build_config`
        builds it on its own. The paths are informative: Keras loads by position."""
        below = weight.removeprefix(f"{self.name}/")
        saveable = next(s for s in self.saveables if below in s.weights)
        leaf = below.rpartition("/")[2]
        if saveable.scope is not None:
            return "/".join((*saveable.scope, leaf))
        return "/".join((*prefix, self.name, *saveable.names, leaf))


def _weights_order(saveables: tuple[Saveable, ...]) -> list[str]:
    """`get_weights()` order: the layer's own, then its sublayers' as they were built
    (MultiHeadAttention: query, key, value, output)."""
    rank = {attr: i for i, (attr, _) in enumerate(_ATTENTION)}
    ordered = sorted(saveables, key=lambda s: rank.get(s.path, -1))
    return [w for s in ordered for w in s.weights]


def own_weights(layer: LayerSpec) -> list[str]:
    """The weights a layer creates itself, in creation order (Keras's and the engine's)."""
    bias = ["bias"] if getattr(layer, "use_bias", False) else []
    kind = layer.type
    if kind in ("Dense", "Conv1D", "Conv2D", "Conv2DTranspose") or kind in RECURRENT:
        recurrent = ["recurrent_kernel"] if kind in RECURRENT else []
        return ["kernel", *recurrent, *bias]
    if kind == "SeparableConv2D":
        return ["depthwise_kernel", "pointwise_kernel", *bias]
    if kind == "Embedding":
        return ["embeddings"]
    if kind == "BatchNormalization":
        scale, center = getattr(layer, "scale"), getattr(layer, "center")  # noqa: B009
        return [*["gamma"] * scale, *["beta"] * center, *MOVING_STATISTICS]
    if kind == "LayerNormalization":
        rms, scale, center = (getattr(layer, k) for k in ("rms_scaling", "scale", "center"))
        return [*["gamma"] * (scale or rms), *["beta"] * (center and not rms)]
    return []


def saveables(layer: LayerSpec, name: str) -> list[Saveable]:
    """Every object with variables (or a `vars` group) under one layer, as Keras walks it."""
    top = Saveable("", (), name, ())
    if layer.type in RECURRENT:
        cell = f"{snake_case(layer.type)}_cell"  # Keras names its cells `lstm_cell` …
        return [top, Saveable("cell", (cell,), cell, tuple(own_weights(layer)))]
    if layer.type == "MultiHeadAttention":
        dense = []
        for attr, part in _ATTENTION:
            weights = [f"{part}/kernel", *[f"{part}/bias"] * getattr(layer, "use_bias", True)]
            dense.append(Saveable(attr, (part,), part, tuple(weights)))
        # Its dropout and softmax layers have no variables, but Keras writes their groups.
        hidden = [("_dropout_layer", "dropout"), ("_softmax", "softmax")]
        return [top, *dense, *(Saveable(attr, (n,), n, ()) for attr, n in hidden)]
    found = [Saveable("", (), name, tuple(own_weights(layer)))]
    for key, inner_name, inner in wrapped_layers(layer):
        attr = _WRAPPER_ATTRIBUTES[key] if layer.type == "Bidirectional" else key
        for s in saveables(inner, inner_name):
            path = f"{attr}/{s.path}".rstrip("/")
            below = tuple(f"{inner_name}/{w}" for w in s.weights)
            scope = s.scope if s.scope is not None else (inner_name, *s.names)
            found.append(Saveable(path, (inner_name, *s.names), s.name, below, scope))
    return found


def _frozen(layer: LayerSpec, name: str, frozen_above: bool = False) -> set[str]:
    """Weights below `layer` that do not train: a frozen layer's (or wrapper's) and moving
    statistics (Keras's `trainable=False` variables)."""
    frozen = frozen_above or not layer.trainable
    out = {w for w in own_weights(layer) if frozen or w in MOVING_STATISTICS}
    if layer.type == "MultiHeadAttention" and frozen:
        out |= {w for s in saveables(layer, name) for w in s.weights}
    for _, inner_name, inner in wrapped_layers(layer):
        out |= {f"{inner_name}/{w}" for w in _frozen(inner, inner_name, frozen)}
    return out


def model_layout(
    spec: SequentialSpec | FunctionalSpec, order: list[str] | None = None
) -> list[LayerLayout]:
    """`model.layers` in Keras's order (or in `order`, the layer names a file's config
    lists), each with its group in a `.keras` file and its weights.

    A functional model's inputs are among its layers (Keras's `InputLayer`s); a
    Sequential's are not.
    """
    if isinstance(spec, SequentialSpec):
        named = dict(zip(layer_names(spec.stack), spec.stack, strict=True))
        inputs: set[str] = set()
    else:
        named = {node.name: node.layer for node in spec.layers if node.layer is not None}
        inputs = {i.name for i in spec.inputs}
    if order is None:
        order = list(named) if isinstance(spec, SequentialSpec) else keras_layer_order(spec)
    used: Counter[str] = Counter()
    layouts = []
    for name in order:
        layer = named.get(name)
        if layer is None and name not in inputs:
            continue  # a Keras operation that is not a layer (the config's mask ops)
        base = snake_case(layer.type) if layer is not None else "input_layer"
        group = f"layers/{base}" if used[base] == 0 else f"layers/{base}_{used[base]}"
        used[base] += 1
        found = saveables(layer, name) if layer is not None else [Saveable("", (), name, ())]
        frozen = _frozen(layer, name) if layer is not None else set()
        layouts.append(LayerLayout(name, group, tuple(found), frozenset(frozen)))
    return layouts


def weight_names(spec: SequentialSpec | FunctionalSpec) -> list[str]:
    """Every `<layer>/<weight>` of the model, in Keras's `get_weights()` order."""
    return [w for layout in model_layout(spec) for w in layout.weights]
