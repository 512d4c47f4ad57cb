"""One layer as Keras 3.15 serializes it: its `config` (what `get_config` writes), its
`build_config` (`get_build_config`), and a wrapper's inner layers.

Keras spells out defaults that Cornu leaves open: `activation: "linear"`,
`data_format: "channels_last"`, pooling `strides` (the pool size), MultiHeadAttention's
`value_dim` and `attention_axes`, LayerNormalization's `axis` as a list, and a
Bidirectional's `backward_layer`. Keys Keras 3 has no argument for (tf.keras 2's
`time_major`, `query_shape` …) are left out; `use_causal_mask` is a call argument
(`models.py` writes it into the call).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cornu.core.spec.keras_config.objects import (
    Json,
    constraint,
    initializer,
    keras_object,
    plain,
    regularizer,
)
from cornu.core.spec.layers import LayerSpec
from cornu.core.spec.layers.merging import MERGING
from cornu.core.spec.names import snake_case

DTYPE_POLICY: Json = keras_object("keras", "DTypePolicy", {"name": "float32"})
# Layers whose Keras serialization has no `build_config` (they do not define `build`).
_NO_BUILD_CONFIG = {
    "Activation", "ReLU", "LeakyReLU", "Softmax", "Dropout", "SpatialDropout1D",
    "SpatialDropout2D", "GaussianNoise", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D",
    "AveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "Reshape",
    "Masking", "Identity", "ELU", "ActivityRegularization", "AlphaDropout", "GaussianDropout",
    "SpatialDropout3D", "UnitNormalization",
    "MaxPooling3D", "AveragePooling3D", "GlobalMaxPooling3D", "GlobalAveragePooling3D",
}  # fmt: skip
# Cornu's own keys, and tf.keras 2's, that Keras 3 has no constructor argument for.
_NOT_KERAS = {"type", "name", "trainable", "input_shape", "time_major", "virtual_batch_size"}
_NOT_KERAS |= {"query_shape", "key_shape", "value_shape", "use_causal_mask"}
_NOT_KERAS |= {"return_attention_scores"}  # a call argument, like use_causal_mask
# Keys Keras 3 accepts but does not write: written only when they differ from the default.
_UNWRITTEN: dict[str, dict[str, Any]] = {
    "Dense": {"activity_regularizer": None},
    "SimpleRNN": {"seed": None},
    "LSTM": {"implementation": 2, "use_cudnn": "auto"},
    "GRU": {"implementation": 2, "use_cudnn": "auto"},
    "MultiHeadAttention": {"flash_attention": None},
    "GroupQueryAttention": {"flash_attention": None},
    "SimpleRNNCell": {"activity_regularizer": None},
    "LSTMCell": {"activity_regularizer": None, "implementation": 2},
    "GRUCell": {"activity_regularizer": None, "implementation": 2},
    "Conv2DTranspose": {"groups": 1},
    "SeparableConv2D": {"groups": 1},
    "Conv1DTranspose": {"groups": 1},
    "Conv3DTranspose": {"groups": 1},
    "SeparableConv1D": {"groups": 1},
    "CategoryEncoding": {"sparse": False},
    "RandomGrayscale": {"seed": None},
    "MaxNumBoundingBoxes": {"fill_value": -1},  # Keras 3.15 never writes it
}
WRAPPERS = ("Bidirectional", "TimeDistributed", "SpectralNormalization")
# Attention layers Keras calls on a list, `[query, value(, key)]` (`args: [[q, v]]`, as
# MERGING); the others (MultiHeadAttention, GroupQueryAttention) take them one by one.
LISTED_ATTENTION = ("Attention", "AdditiveAttention", "HashedCrossing")  # and HashedCrossing
# MERGING: the layers called on a list of tensors (`args: [[t1, t2]]` in Keras's JSON).


def batch_shape(shape: Sequence[int | None] | None, batch: int | None = None) -> list[Any] | None:
    """A sample's shape with Keras's batch axis in front: `None`, or the fixed batch size
    of the model's input (`keras.Input(..., batch_size=4)`), which Keras carries into
    every shape it writes."""
    return None if shape is None else [batch, *shape]


def build_config(layer: LayerSpec, input_shape: Any, batch: int | None = None) -> Json | None:
    """Keras's `get_build_config`: the input shape(s) the layer was built for (with the
    model's fixed batch size, if any)."""
    if layer.type in _NO_BUILD_CONFIG or input_shape is None:
        return None
    if layer.type == "IntegerLookup":
        return {}  # Keras's `IndexLookup.get_build_config`
    if layer.type in ("MultiHeadAttention", "GroupQueryAttention"):
        roles = ("query_shape", "value_shape", "key_shape")
        shapes = zip(roles, input_shape, strict=False)
        return {"shapes_dict": {role: batch_shape(s, batch) for role, s in shapes}}
    if layer.type in MERGING or layer.type in LISTED_ATTENTION:
        return {"input_shape": [batch_shape(s, batch) for s in input_shape]}
    return {"input_shape": batch_shape(input_shape, batch)}


def _value(layer: LayerSpec, key: str, value: Any) -> Any:
    """One argument as Keras's `get_config` writes it."""
    if key.endswith("_initializer"):
        return initializer(value)
    if key.endswith("_regularizer"):
        return regularizer(value)
    if key.endswith("_constraint"):
        return constraint(value)
    if value is None:
        if key in ("activation", "recurrent_activation"):
            return "linear"
        if key == "data_format":
            return "channels_last"
        if key == "strides" and "Pooling" in layer.type:
            return plain(getattr(layer, "pool_size"))  # noqa: B009  (only poolings have it)
        if layer.type == "MultiHeadAttention" and key == "value_dim":
            return getattr(layer, "key_dim")  # noqa: B009
        if layer.type == "MultiHeadAttention" and key == "attention_axes":
            return [1]  # the steps axis of (batch, steps, features), the only one Cornu has
    if (
        layer.type in ("LayerNormalization", "RMSNormalization")
        and key == "axis"
        and isinstance(value, int)
    ):
        return [value]
    return plain(value)


def layer_config(layer: LayerSpec, name: str) -> Json:
    """The `config` of one layer's Keras object, without a wrapper's inner layers."""
    if layer.type == "Pipeline":
        # `Pipeline.get_config` writes its layers and name only; its constructor takes
        # nothing else (`keras/src/layers/preprocessing/pipeline.py`).
        return {"name": name}
    if layer.type in ("SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"):
        # Keras's `BaseSpatialDropout.get_config` writes its own few keys, and its
        # constructor takes no `trainable` (`keras/src/layers/regularization/spatial_dropout.py`).
        rate, seed = getattr(layer, "rate"), getattr(layer, "seed")  # noqa: B009
        config = {"rate": rate, "seed": seed, "name": name, "dtype": "float32"}
        if layer.type != "SpatialDropout1D":
            config["data_format"] = "channels_last"
        return config
    if layer.type in _OWN_CONFIG:
        return _OWN_CONFIG[layer.type](layer, name)
    config = {"name": name, "trainable": layer.trainable, "dtype": dict(DTYPE_POLICY)}
    if layer.type == "Hashing" and getattr(layer, "output_mode") == "int":  # noqa: B009
        config["dtype"] = keras_object("keras", "DTypePolicy", {"name": "int64"})
    optional = _UNWRITTEN.get(layer.type, {})
    for key in type(layer).model_fields:
        value = getattr(layer, key)
        if key in _NOT_KERAS or (key in optional and value == optional[key]):
            continue
        if key in ("layer", "backward_layer") and layer.type in WRAPPERS:
            continue  # `layer_object` writes them
        if key == "cell" and layer.type == "RNN":
            continue  # `layer_object` writes it (`rnn_cell`)
        config[key] = _value(layer, key, value)
    if layer.type == "IntegerLookup":
        config["vocabulary_size"] = getattr(layer, "depth") if layer.vocabulary else None  # type: ignore[attr-defined]  # noqa: B009
    if layer.type in ("Dense", "Embedding", "EinsumDense", "ReversibleEmbedding"):
        config["quantization_config"] = None
    return config


def _discretization(layer: Any, name: str) -> Json:
    """Keras's `Discretization.get_config`: its own keys, a plain dtype, no `trainable`
    (its constructor takes none; `keras/src/layers/preprocessing/discretization.py`)."""
    keys = ("bin_boundaries", "num_bins", "epsilon", "output_mode", "sparse")
    return {**{k: plain(getattr(layer, k)) for k in keys}, "name": name, "dtype": "float32"}


def _hashed_crossing(layer: Any, name: str) -> Json:
    """Keras's `HashedCrossing.get_config`: no `trainable`; dtype int64 for "int"."""
    dtype = "int64" if layer.output_mode == "int" else "float32"
    keys = ("num_bins", "output_mode", "sparse")
    return {**{k: getattr(layer, k) for k in keys}, "name": name, "dtype": dtype}


# Layers whose `get_config` writes its own few keys (and whose constructor takes no
# `trainable`, so Keras could not load the common form).
_OWN_CONFIG = {"Discretization": _discretization, "HashedCrossing": _hashed_crossing}


def wrapped_layers(layer: LayerSpec) -> list[tuple[str, str, LayerSpec]]:
    """A wrapper's inner layers as Keras builds them: (config key, Keras name, spec).

    TimeDistributed and SpectralNormalization keep their layer's name. Bidirectional
    names its copies `forward_<name>` and `backward_<name>` and sets their
    `zero_output_for_mask` to
    `return_sequences` (`keras/src/layers/rnn/bidirectional.py`, as the engine does).
    """
    if layer.type not in WRAPPERS:
        return []
    inner: LayerSpec = getattr(layer, "layer")  # noqa: B009
    base = inner.name or snake_case(inner.type)
    if layer.type in ("TimeDistributed", "SpectralNormalization"):
        return [("layer", base, inner)]
    backward: LayerSpec = getattr(layer, "backward")  # noqa: B009
    given: LayerSpec | None = getattr(layer, "backward_layer")  # noqa: B009
    if given is None:
        backward_name = "backward_" + base.removeprefix("backward_")
    else:
        backward_name = given.name or f"backward_{snake_case(backward.type)}"
    zero = {"zero_output_for_mask": getattr(inner, "return_sequences")}  # noqa: B009
    return [
        ("layer", "forward_" + base.removeprefix("forward_"), inner.model_copy(update=zero)),
        ("backward_layer", backward_name, backward.model_copy(update=zero)),
    ]


def layer_object(
    layer: LayerSpec, name: str, input_shape: Any = None, batch: int | None = None
) -> Json:
    """A layer as Keras serializes it, with a `build_config` when its input shape is known
    (one sample's shape; a list of them for a layer called on several tensors; `batch`
    the model's fixed batch size, if any)."""
    config = layer_config(layer, name)
    inner_shape = input_shape
    if layer.type == "TimeDistributed" and input_shape is not None:
        inner_shape = tuple(input_shape[1:])
    for key, inner_name, inner in wrapped_layers(layer):
        config[key] = layer_object(inner, inner_name, inner_shape, batch)
    if layer.type == "RNN":
        config["cell"] = rnn_cell(layer, input_shape, batch)
    if layer.type == "Pipeline":
        # Without build configs: the shapes between the inner layers are the engine's to
        # know; Keras builds the layers when it builds the model (and writes for them
        # the batch size of its symbolic call, 83, not None).
        entries = zip(getattr(layer, "layers"), getattr(layer, "inner_names"), strict=True)  # noqa: B009
        config["layers"] = [layer_object(part, part_name) for part, part_name in entries]
    out = keras_object("keras.layers", layer.type, config)
    build = build_config(layer, input_shape, batch)
    if build is not None:
        out["build_config"] = build
    return out


def rnn_cell(layer: LayerSpec, input_shape: Any = None, batch: int | None = None) -> Json:
    """An RNN's `cell` as Keras serializes it: the cell, or a StackedRNNCells of them,
    each with the input it is built for (`(batch, features)`: the sequence's features,
    then the previous cell's units)."""
    features = None if input_shape is None else input_shape[-1]
    cells = []
    for name, cell in zip(getattr(layer, "cell_names"), getattr(layer, "cells"), strict=True):  # noqa: B009
        obj = keras_object("keras.layers", cell.type, layer_config(cell, name))
        if features is not None:
            obj["build_config"] = {"input_shape": [batch, features]}
        cells.append(obj)
        features = cell.units
    stack = getattr(layer, "cell")  # noqa: B009
    if stack.type != "StackedRNNCells":
        return cells[0]
    config = {"name": stack.name or "stacked_rnn_cells", "trainable": stack.trainable}
    config |= {"dtype": dict(DTYPE_POLICY), "cells": cells}
    out = keras_object("keras.layers", "StackedRNNCells", config)
    if input_shape is not None:
        out["build_config"] = {"input_shape": [batch, input_shape[-1]]}
    return out


def input_layer(
    name: str, shape: Sequence[int | None], dtype: str | None, batch: int | None = None
) -> Json:
    """Keras's `InputLayer` for `keras.Input(shape, dtype, name, batch_size=batch)`."""
    config: Json = {"batch_shape": batch_shape(shape, batch), "dtype": dtype or "float32"}
    config |= {"sparse": False, "ragged": False, "name": name, "optional": False}
    return keras_object("keras.layers", "InputLayer", config)
