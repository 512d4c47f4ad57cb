"""Where each weight of a model lives in Keras's files, derived from the spec alone.

Keras 3 saves a model by walking it (`keras/src/saving/saving_lib.py` `_save_state`,
`_walk_saveable`): the model's `layers` as a container whose members are named by their
class in snake case, numbered in `model.layers` order (`layers/dense`, `layers/dense_1`
…), then each layer's tracked sublayers by attribute (an RNN's `cell`, a Bidirectional's
`forward_layer` and `backward_layer`, a TimeDistributed's `layer`, MultiHeadAttention's
`query_dense` … `output_dense`, GroupedQueryAttention's `_query_dense` …), and the
members of a list by class (a StackedRNNCells's `cells/gru_cell`, `cells/gru_cell_1`).
Every object's own variables are `<path>/vars/<i>`, in the order `_trainable_variables +
_non_trainable_variables`, and the `vars` group carries the object's name
(`attrs["name"]`). A legacy `.h5` instead names each variable by its
`path`: the names from the layer down (`lstm/lstm_cell/kernel`), prefixed by a
Sequential's name (`legacy_h5_format.py` `save_subset_weights_to_hdf5_group`).

A weight's Cornu name is `<layer>/<weight>` as `Model.keras_weights()` gives it
(`bidirectional/forward_lstm/kernel`, `mha/query/kernel`), in Keras's `get_weights()`
order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cornu.core.spec import registry
from cornu.core.spec.keras_config import (
    keras_layer_order,
    layer_names,
    snake_case,
    wrapped_layers,
)
from cornu.core.spec.layers import LayerSpec
from cornu.core.spec.model import FunctionalSpec, SequentialSpec

RECURRENT = {"SimpleRNN", "LSTM", "GRU"}
CONV_LSTM = {"ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"}  # their cell: `conv_lstm_cell`
_KERNEL_AND_BIAS = {"Dense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose"}
_KERNEL_AND_BIAS |= {"Conv3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D"}
_CELLS = {"SimpleRNNCell": "SimpleRNN", "LSTMCell": "LSTM", "GRUCell": "GRU"}
MOVING_STATISTICS = ("moving_mean", "moving_variance")  # BatchNormalization's non-trainable
# The attention layers' EinsumDense sublayers in the order Keras builds them, each as
# (attribute, Keras name = its weights' prefix). MultiHeadAttention's walk reaches them
# by its properties (`query_dense`); GroupedQueryAttention has none, so by its private
# attributes (`_query_dense`), and builds its optional gate after the key.
_ATTENTION = (
    ("query_dense", "query"),
    ("key_dense", "key"),
    ("value_dense", "value"),
    ("output_dense", "attention_output"),
)
_GATE = ("gate_dense", "gate")
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
    frozen: frozenset[str]  # weights (below the layer) whose Keras variable does not train
    integer: frozenset[str] = frozenset()  # `<layer>/<weight>` that Keras keeps as int32
    layer_trainable: bool = True  # the layer's own `trainable` (False: all its weights are
    # its `non_trainable_weights`, though a sublayer's variables may still train)

    def keras_value(self, weight: str, value: Any) -> Any:
        """A weight's value in the dtype Keras stores it in (a Normalization's `count`)."""
        return np.asarray(value).astype(np.int32) if weight in self.integer else value

    @property
    def weights(self) -> list[str]:
        """`<layer>/<weight>` of each weight, in Keras's `get_weights()` order."""
        return [f"{self.name}/{w}" for w in _weights_order(self.saveables)]

    @property
    def trainable(self) -> list[str]:
        """The weights the optimizer trains (those of the model's `trainable_variables`:
        variables whose `trainable` is set), in order."""
        return [f"{self.name}/{w}" for w in _weights_order(self.saveables) if w not in self.frozen]

    @property
    def legacy_order(self) -> list[str]:
        """The order of a legacy `.h5`'s `weight_names`: the layer's `trainable_weights`,
        then the rest (`legacy_h5_format.py` `_legacy_weights`); a frozen layer's
        `trainable_weights` is empty."""
        trainable = self.trainable if self.layer_trainable else []
        return [*trainable, *(w for w in self.weights if w not in trainable)]

    def legacy_path(self, weight: str, prefix: tuple[str, ...] = ()) -> str:
        """A weight's variable path in a legacy `.h5`, as Keras names the variables of a
        model it loaded from one: the names from the layer down (`lstm/lstm_cell/kernel`),
        after a Sequential's name (`prefix`), whose build creates them; a wrapped layer's
        from its own name (`forward_lstm/lstm_cell/kernel`), since its `build_config`
        builds it on its own. The paths are informative: Keras loads by position."""
        below = weight.removeprefix(f"{self.name}/")
        # the last holder is its owner (SpectralNormalization also tracks its layer's kernel)
        saveable = [s for s in self.saveables if below in s.weights][-1]
        leaf = below.rpartition("/")[2]
        if saveable.scope is not None:
            return "/".join((*saveable.scope, leaf))
        return "/".join((*prefix, self.name, *saveable.names, leaf))


def _weights_order(saveables: tuple[Saveable, ...]) -> list[str]:
    """`get_weights()` order: the layer's own, then its sublayers' as they were built
    (`saveables` lists them so: MultiHeadAttention's query, key, value, output), each
    once (SpectralNormalization's own variables hold its layer's kernel too)."""
    return list(dict.fromkeys(w for s in saveables for w in s.weights))


def own_weights(layer: LayerSpec) -> list[str]:
    """The weights a layer creates itself, in creation order (Keras's and the engine's)."""
    bias = ["bias"] if getattr(layer, "use_bias", False) else []
    kind = _CELLS.get(layer.type, layer.type)  # a cell holds its recurrent layer's weights
    if kind in _KERNEL_AND_BIAS or kind in RECURRENT or kind in CONV_LSTM:
        recurrent = ["recurrent_kernel"] if kind in RECURRENT or kind in CONV_LSTM else []
        return ["kernel", *recurrent, *bias]
    if kind in ("SeparableConv1D", "SeparableConv2D"):
        return ["depthwise_kernel", "pointwise_kernel", *bias]
    if kind == "Embedding":
        return ["embeddings"]
    if kind == "BatchNormalization":
        scale, center = getattr(layer, "scale"), getattr(layer, "center")  # noqa: B009
        return [*["gamma"] * scale, *["beta"] * center, *MOVING_STATISTICS]
    if kind == "LayerNormalization":
        rms, scale, center = (getattr(layer, k) for k in ("rms_scaling", "scale", "center"))
        return [*["gamma"] * (scale or rms), *["beta"] * (center and not rms)]
    if kind == "GroupNormalization":
        scale, center = getattr(layer, "scale"), getattr(layer, "center")  # noqa: B009
        return [*["gamma"] * scale, *["beta"] * center]
    if kind in _OWN_WEIGHTS:
        return _OWN_WEIGHTS[kind](layer)
    return []


# Layers whose variables Keras creates in `build`, by their arguments.
_OWN_WEIGHTS: dict[str, Callable[[Any], list[str]]] = {
    "PReLU": lambda layer: ["alpha"],
    "RMSNormalization": lambda layer: ["scale"],
    "Attention": lambda layer: [
        *["scale"] * layer.use_scale,
        *["concat_score_weight"] * (layer.score_mode == "concat"),
    ],
    "AdditiveAttention": lambda layer: ["scale"] * layer.use_scale,
    "EinsumDense": lambda layer: ["kernel", *["bias"] * (layer.bias_axes is not None)],
    # Adapted statistics (non-trainable); none when `mean` and `variance` are given.
    "Normalization": lambda layer: [] if layer.mean is not None else ["mean", "variance", "count"],
    "STFTSpectrogram": lambda layer: layer.kernels,  # real_kernel, imag_kernel as the mode needs
    "ReversibleEmbedding": lambda layer: [
        "embeddings",
        *["reverse_embeddings"] * (not layer.tie_weights),
    ],
    # Its `self.kernel = layer.kernel` tracks the wrapped layer's kernel as its own.
    "SpectralNormalization": lambda layer: [
        f"{wrapped_layers(layer)[0][1]}/{layer.kernel_name}",
        "vector_u",
    ],
}
_ALL_FROZEN = {"Normalization"}  # layers whose every weight is non-trainable
_HANDS_ITS_FLAG_TO_ITS_CELL = RECURRENT  # not ConvLSTM*: see `_frozen`


def saveables(layer: LayerSpec, name: str) -> list[Saveable]:
    """Every object with variables (or a `vars` group) under one layer, as Keras walks it."""
    top = Saveable("", (), name, ())
    if layer.type in RECURRENT or layer.type in CONV_LSTM:
        # Keras names its cells `lstm_cell` …, and every ConvLSTM's `conv_lstm_cell`.
        kind = "ConvLSTM" if layer.type in CONV_LSTM else layer.type
        cell = f"{snake_case(kind)}_cell"
        return [top, Saveable("cell", (cell,), cell, tuple(own_weights(layer)))]
    if layer.type == "RNN":
        return [top, *_rnn_cells(layer)]
    if layer.type == "RandomColorJitter":  # its sublayers: no variables, a `vars` group each
        factors = ("brightness", "contrast", "saturation", "hue")
        parts = [f"random_{f}" for f in factors if getattr(layer, f"{f}_factor") is not None]
        return [top, *(Saveable(part, (part,), part, ()) for part in parts)]
    if layer.type in ("RandAugment", "AugMix"):
        # A group per operation, as RandomColorJitter; Keras gives the inner layers the
        # `name` it was given, so a loaded model's carry the outer layer's name.
        parts = [part for part, _ in getattr(layer, "named_parts")()]  # noqa: B009
        return [top, *(Saveable(part, (name,), name, ()) for part in parts)]
    if layer.type == "Pipeline":
        # Its list of layers is `layers/` below it, each named as Keras names the entries
        # of a list: by class, numbered (`dense`, `dense_1`), as `model_layout` does.
        found, used = [top], Counter[str]()
        entries = zip(getattr(layer, "layers"), getattr(layer, "inner_names"), strict=True)  # noqa: B009
        for part, part_name in entries:
            base = snake_case(registry.layer_class(part.type) or part.type)
            entry = base if used[base] == 0 else f"{base}_{used[base]}"
            used[base] += 1
            for s in saveables(part, part_name):
                path = f"layers/{entry}/{s.path}".rstrip("/")
                below = tuple(f"{part_name}/{w}" for w in s.weights)
                # built with the model (no build configs): variables under its path
                found.append(Saveable(path, (part_name, *s.names), s.name, below, s.scope))
        return found
    if layer.type in ("MultiHeadAttention", "GroupQueryAttention"):
        return [top, *_attention_parts(layer)]
    found = [Saveable("", (), name, tuple(own_weights(layer)))]
    for key, inner_name, inner in wrapped_layers(layer):
        attr = _WRAPPER_ATTRIBUTES[key] if layer.type == "Bidirectional" else key
        for s in saveables(inner, inner_name):
            path = f"{attr}/{s.path}".rstrip("/")
            below = tuple(f"{inner_name}/{w}" for w in s.weights)
            scope = s.scope if s.scope is not None else (inner_name, *s.names)
            found.append(Saveable(path, (inner_name, *s.names), s.name, below, scope))
    return found


def _attention_parts(layer: LayerSpec) -> list[Saveable]:
    """MultiHeadAttention's or GroupedQueryAttention's sublayers, in build order."""
    parts = list(_ATTENTION)
    if getattr(layer, "use_gate", False):
        parts.insert(2, _GATE)
    private = layer.type == "GroupQueryAttention"
    found = []
    for attr, part in parts:
        weights = (f"{part}/kernel", *[f"{part}/bias"] * getattr(layer, "use_bias", True))
        found.append(Saveable(f"_{attr}" if private else attr, (part,), part, weights))
    # Their dropout and softmax layers have no variables, but Keras writes their groups.
    hidden = [("_dropout_layer", "dropout"), ("_softmax", "softmax")]
    return [*found, *(Saveable(attr, (n,), n, ()) for attr, n in hidden)]


def _rnn_cells(layer: LayerSpec) -> list[Saveable]:
    """An RNN's `cell`; or its StackedRNNCells (no variables) and the cells of its `cells`
    list, which Keras's walk names by class, numbered when repeated
    (`saving_lib._save_container_state`: `cell/cells/gru_cell`, `cell/cells/gru_cell_1`).
    Weights are named as the engine names them: `kernel` … for one cell,
    `<cell name>/kernel` … for a stack. A cell's variables are named from the cell down
    (`gru_cell/kernel`): each cell's `build_config` builds it on its own."""
    cells, names = getattr(layer, "cells"), getattr(layer, "cell_names")  # noqa: B009
    stack = getattr(layer, "cell")  # noqa: B009
    if stack.type != "StackedRNNCells":
        weights = tuple(own_weights(cells[0]))
        return [Saveable("cell", (names[0],), names[0], weights, (names[0],))]
    stack_name = stack.name or "stacked_rnn_cells"
    found = [Saveable("cell", (stack_name,), stack_name, ())]
    used: Counter[str] = Counter()
    for cell, name in zip(cells, names, strict=True):
        base = snake_case(cell.type)
        member = base if used[base] == 0 else f"{base}_{used[base]}"
        used[base] += 1
        weights = tuple(f"{name}/{w}" for w in own_weights(cell))
        found.append(Saveable(f"cell/cells/{member}", (stack_name, name), name, weights, (name,)))
    return found


def _frozen(layer: LayerSpec) -> set[str]:
    """Weights below `layer` whose Keras variable does not train: a frozen layer's own,
    moving statistics, a Normalization's, a frozen cell's.

    A layer's `trainable=False` does not reach the layers it holds: Keras sets it in
    `Layer.__init__`, before it tracks an RNN's cell, a wrapper's layer, or the attention
    layers' dense layers (built later), so their variables still train (they are in the
    model's `trainable_variables`); SimpleRNN, LSTM and GRU hand their flag to the cell
    they make (`keras/src/layers/rnn/lstm.py`), ConvLSTM1D/2D/3D do not.
    """
    frozen = not layer.trainable or layer.type in _ALL_FROZEN
    kind = layer.type
    if kind in RECURRENT or kind in CONV_LSTM:
        frozen = frozen and kind in _HANDS_ITS_FLAG_TO_ITS_CELL
    out = {w for w in own_weights(layer) if frozen or w in MOVING_STATISTICS}
    if kind == "SpectralNormalization":  # its `vector_u`; the kernel is its layer's
        out = {"vector_u"}
    if kind == "RNN":
        cells = getattr(layer, "cells")  # noqa: B009
        for found, cell in zip(_rnn_cells(layer)[-len(cells) :], cells, strict=True):
            out |= set(found.weights) if not cell.trainable else set()
    for _, inner_name, inner in wrapped_layers(layer):
        out |= {f"{inner_name}/{w}" for w in _frozen(inner)}
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
        # Keras names the group by the class (GroupQueryAttention is GroupedQueryAttention).
        kind = (registry.layer_class(layer.type) or layer.type) if layer is not None else None
        base = snake_case(kind) if kind is not None else "input_layer"
        group = f"layers/{base}" if used[base] == 0 else f"layers/{base}_{used[base]}"
        used[base] += 1
        found = saveables(layer, name) if layer is not None else [Saveable("", (), name, ())]
        frozen = _frozen(layer) if layer is not None else set()
        integer = (
            {f"{name}/count"} if layer is not None and "count" in own_weights(layer) else set()
        )
        trainable = layer is None or layer.trainable
        layouts.append(
            LayerLayout(name, group, tuple(found), frozenset(frozen), frozenset(integer), trainable)
        )
    return layouts


def weight_names(spec: SequentialSpec | FunctionalSpec) -> list[str]:
    """Every `<layer>/<weight>` of the model, in Keras's `get_weights()` order."""
    return [w for layout in model_layout(spec) for w in layout.weights]
