"""Cornu's specs written as Keras 3's own model JSON: Keras 3.15 builds the same model from
it, serializes it back to the same JSON, and `from_keras` reads it back.

`ZOO` covers every layer Cornu supports, Sequential and functional models, several
inputs and outputs, shared layers (also at different depths), layers with several
outputs, wrappers and masks; the other Keras-format tests use it too.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

from cornu.core.engine.build import build_model
from cornu.core.errors import SpecError
from cornu.core.spec import CompileSpec, FunctionalSpec, SequentialSpec
from cornu.core.spec.keras_config import (
    Graph,
    compile_config,
    compile_from_keras,
    from_keras,
    initializer,
    keras_layer_order,
    layer_names,
    model_spec,
    to_keras,
)
from cornu.core.spec.layers import LAYER_SPECS, LayerSpec

os.environ["KERAS_BACKEND"] = "torch"  # Keras reads it once, at its first import

DATA = Path(__file__).parents[2] / "data" / "keras"
Spec = SequentialSpec | FunctionalSpec


def seq(*layers: dict[str, Any], **model: Any) -> dict[str, Any]:
    return {"type": "sequential", "layers": list(layers), **model}


def fun(
    inputs: dict[str, list[int]], *layers: dict[str, Any], outputs: list[str]
) -> dict[str, Any]:
    given = [{"name": n, "shape": s} for n, s in inputs.items()]
    return {"type": "functional", "inputs": given, "layers": list(layers), "outputs": outputs}


def node(name: str, inputs: list[str], kind: str, **args: Any) -> dict[str, Any]:
    if "layer" in args:  # a wrapper: its own `layer` needs the nested node form
        return {"name": name, "inputs": inputs, "layer": {"type": kind, **args}}
    return {"name": name, "inputs": inputs, "type": kind, **args}


def call(name: str, layer: str, inputs: list[str]) -> dict[str, Any]:
    return {"name": name, "call": layer, "inputs": inputs}


def inp(*shape: int) -> dict[str, Any]:
    return {"type": "Input", "shape": list(shape)}


MERGES = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]
ZOO: dict[str, dict[str, Any]] = {
    "mlp": seq(
        inp(20),
        {
            "type": "Dense",
            "units": 16,
            "activation": "relu",
            "kernel_initializer": "he_normal",
            "kernel_regularizer": {"type": "l2", "l2": 1e-3},
            "bias_constraint": {"type": "max_norm", "max_value": 3.0},
        },
        {"type": "Dropout", "rate": 0.3},
        {
            "type": "Dense",
            "units": 10,
            "activation": "softmax",
            "bias_initializer": {"type": "Constant", "value": 0.1},
        },
        name="mlp",
    ),
    "input_shape_on_first_layer": seq(
        {
            "type": "Dense",
            "units": 8,
            "input_shape": [5],
            "use_bias": False,
            "activity_regularizer": "l1",
        },
        {"type": "Dense", "units": 2, "kernel_constraint": {"type": "unit_norm"}, "name": "head"},
    ),
    "convnet": seq(
        inp(12, 12, 3),
        {
            "type": "Conv2D",
            "filters": 8,
            "kernel_size": 3,
            "padding": "same",
            "activation": "relu",
            "kernel_initializer": {"type": "RandomNormal", "stddev": 0.02},
        },
        {"type": "BatchNormalization", "momentum": 0.9},
        {"type": "MaxPooling2D", "pool_size": 2},
        {
            "type": "Conv2D",
            "filters": 6,
            "kernel_size": [3, 3],
            "dilation_rate": 2,
            "use_bias": False,
        },
        {"type": "AveragePooling2D", "pool_size": 2, "padding": "same"},
        {"type": "Flatten"},
        {"type": "Dense", "units": 3, "activation": "softmax"},
    ),
    "conv1d": seq(
        inp(16, 4),
        {
            "type": "Conv1D",
            "filters": 6,
            "kernel_size": 3,
            "padding": "causal",
            "activation": "relu",
        },
        {"type": "MaxPooling1D", "pool_size": 2},
        {"type": "Conv1D", "filters": 4, "kernel_size": 2, "strides": 2, "groups": 2},
        {"type": "AveragePooling1D", "pool_size": 2, "strides": 1},
        {"type": "GlobalMaxPooling1D"},
        {"type": "Dense", "units": 2},
    ),
    "embedding_lstm": seq(
        inp(10),
        {"type": "Embedding", "input_dim": 50, "output_dim": 8, "mask_zero": True},
        {"type": "LSTM", "units": 6, "return_sequences": True, "dropout": 0.1},
        {"type": "GlobalAveragePooling1D"},
        {"type": "Dense", "units": 1, "activation": "sigmoid"},
    ),
    "gru": seq(
        inp(7, 5),
        {"type": "GRU", "units": 4, "return_sequences": True, "reset_after": False},
        {
            "type": "GRU",
            "units": 3,
            "go_backwards": True,
            "recurrent_initializer": "glorot_uniform",
        },
        {"type": "Dense", "units": 2},
    ),
    "simple_rnn": seq(
        inp(6, 3),
        {"type": "SimpleRNN", "units": 5, "activation": "relu"},
        {"type": "RepeatVector", "n": 3},
        {"type": "SimpleRNN", "units": 2, "return_sequences": True, "use_bias": False},
        {"type": "TimeDistributed", "layer": {"type": "Dense", "units": 2, "activation": "tanh"}},
    ),
    "bidirectional": seq(
        inp(6, 3),
        {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 4, "return_sequences": True}},
        {"type": "Bidirectional", "layer": {"type": "GRU", "units": 3}, "merge_mode": "sum"},
        {"type": "Dense", "units": 2},
    ),
    "bidirectional_backward_layer": seq(
        inp(5, 2),
        {
            "type": "Bidirectional",
            "layer": {"type": "SimpleRNN", "units": 3, "return_sequences": True, "name": "rnn"},
            "backward_layer": {
                "type": "SimpleRNN",
                "units": 3,
                "return_sequences": True,
                "go_backwards": True,
                "name": "back",
            },
            "merge_mode": "ave",
        },
        {"type": "Flatten"},
        {"type": "Dense", "units": 1},
    ),
    "reshaping": seq(
        inp(4, 4, 2),
        {"type": "ZeroPadding2D", "padding": [[1, 0], [0, 2]]},
        {"type": "Cropping2D", "cropping": [[1, 1], [0, 1]]},
        {"type": "UpSampling2D", "size": [2, 1]},
        {
            "type": "Conv2DTranspose",
            "filters": 3,
            "kernel_size": 3,
            "strides": 2,
            "padding": "same",
        },
        {"type": "SeparableConv2D", "filters": 4, "kernel_size": 3, "depth_multiplier": 2},
        {"type": "Reshape", "target_shape": [-1, 4]},
        {"type": "Permute", "dims": [2, 1]},
        {"type": "Flatten"},
        {"type": "Dense", "units": 2},
    ),
    "activations": seq(
        inp(8),
        {"type": "Dense", "units": 8},
        {"type": "ReLU", "max_value": 6.0, "negative_slope": 0.1},
        {"type": "LeakyReLU", "negative_slope": 0.1},
        {"type": "Activation", "activation": "tanh"},
        {"type": "GaussianNoise", "stddev": 0.1},
        {"type": "Dense", "units": 4},
        {"type": "Softmax"},
        {"type": "LayerNormalization", "epsilon": 1e-5},
        {"type": "Dense", "units": 3, "activation": "gelu"},
    ),
    "spatial_dropout": seq(
        inp(6, 6, 3),
        {"type": "SpatialDropout2D", "rate": 0.2},
        {"type": "Conv2D", "filters": 2, "kernel_size": 1},
        {"type": "GlobalAveragePooling2D", "keepdims": True},
        {"type": "Flatten"},
        {"type": "Reshape", "target_shape": [2, 1]},
        {"type": "SpatialDropout1D", "rate": 0.2},
        {"type": "GlobalAveragePooling1D"},
    ),
    "global_max": seq(inp(5, 5, 2), {"type": "GlobalMaxPooling2D"}, {"type": "Dense", "units": 2}),
    "time_distributed_conv": seq(
        inp(3, 8, 8, 1),
        {"type": "TimeDistributed", "layer": {"type": "Conv2D", "filters": 2, "kernel_size": 3}},
        {"type": "TimeDistributed", "layer": {"type": "Flatten"}},
        {"type": "LSTM", "units": 4},
    ),
    "frozen": seq(
        inp(6),
        {"type": "Dense", "units": 6, "trainable": False},
        {"type": "BatchNormalization", "trainable": False, "center": False},
        {"type": "Dense", "units": 2},
    ),
    "layer_normalization_axes": seq(
        inp(3, 4),
        {"type": "LayerNormalization", "axis": [1, 2]},
        {"type": "LayerNormalization", "rms_scaling": True},
        {"type": "Flatten"},
        {"type": "Dense", "units": 2},
    ),
    "two_inputs_two_outputs": fun(
        {"a": [8], "b": [5]},
        node("da", ["a"], "Dense", units=6, activation="relu"),
        node("db", ["b"], "Dense", units=6, activation="tanh"),
        node("cat", ["da", "db"], "Concatenate"),
        node("cls", ["cat"], "Dense", units=3, activation="softmax"),
        node("reg", ["cat"], "Dense", units=1),
        outputs=["cls", "reg"],
    ),
    "merging": fun(
        {"x": [6], "y": [6]},
        node("tower", ["x"], "Dense", units=4, activation="relu"),
        call("tower_b", "tower", ["y"]),
        *[node(m.lower(), ["tower", "tower_b"], m) for m in MERGES],
        node("dot", ["tower", "tower_b"], "Dot", axes=1, normalize=True),
        node("cat", [m.lower() for m in MERGES] + ["dot"], "Concatenate", axis=-1),
        node("out", ["cat"], "Dense", units=1),
        outputs=["out"],
    ),
    "return_state": fun(
        {"seq": [5, 3]},
        node("lstm", ["seq"], "LSTM", units=4, return_state=True),
        node("from_h", ["lstm:1"], "Dense", units=2),
        outputs=["lstm", "from_h", "lstm:2"],
    ),
    "attention": fun(
        {"q": [5, 8], "v": [7, 8]},
        node("cross", ["q", "v"], "MultiHeadAttention", num_heads=2, key_dim=4),
        node(
            "causal",
            ["q", "q", "q"],
            "MultiHeadAttention",
            num_heads=2,
            key_dim=3,
            value_dim=5,
            output_shape=[6],
            use_causal_mask=True,
        ),
        node("norm", ["cross"], "LayerNormalization"),
        node("pool", ["norm"], "GlobalAveragePooling1D"),
        node("out", ["pool"], "Dense", units=2),
        outputs=["out", "causal"],
    ),
    "masked_functional": fun(
        {"ids": [6]},
        node("emb", ["ids"], "Embedding", input_dim=30, output_dim=4, mask_zero=True),
        node(
            "bi",
            ["emb"],
            "Bidirectional",
            layer={"type": "LSTM", "units": 3, "return_sequences": True},
        ),
        node("last", ["bi"], "LSTM", units=2),
        node("mean", ["bi"], "GlobalAveragePooling1D"),
        node("out", ["last"], "Dense", units=1),
        outputs=["out", "mean"],
    ),
    "bidirectional_states": fun(
        {"seq": [4, 3]},
        node(
            "bi",
            ["seq"],
            "Bidirectional",
            layer={"type": "GRU", "units": 2, "return_state": True},
            merge_mode=None,
        ),
        outputs=["bi", "bi:1", "bi:2", "bi:3"],
    ),
    "shared_at_two_depths": fun(  # A(B(A(B(x)))): one layer at two depths of the graph
        {"x": [4]},
        node("a", ["x"], "Dense", units=4),
        node("b", ["a"], "Dense", units=4, activation="tanh"),
        call("a_again", "a", ["b"]),
        call("b_again", "b", ["a_again"]),
        outputs=["b_again"],
    ),
    "diamond": fun(
        {"x": [4], "z": [3]},
        node("left", ["x"], "Dense", units=4),
        node("right", ["x"], "Dense", units=4),
        node("deep", ["left"], "Dense", units=4),
        node("deeper", ["deep"], "Dense", units=4),
        node("sum", ["deeper", "right"], "Add"),
        node("zz", ["z"], "Dense", units=4),
        node("cat", ["zz", "sum"], "Concatenate"),
        node("out", ["cat"], "Dense", units=1),
        outputs=["out", "right"],
    ),
}
ZOO.update(
    {
        f.stem: from_keras(json.loads(f.read_text()))
        for f in sorted(DATA.glob("*.json"))
        if f.stem.startswith(("keras3_", "tfkeras2_"))
    }
)


def spec_of(name: str) -> Spec:
    return model_spec(ZOO[name])


def shapes_of(spec: Spec) -> dict[str, Any]:
    """Each layer's output shape by name, as the engine's summary lists them."""
    return {row.name: row.output_shape for row in build_model(spec, device="meta").summary()}


def keras_json(spec: Spec) -> dict[str, Any]:
    return to_keras(spec, shapes_of(spec))


def keras_or_skip() -> Any:
    """Keras 3.15.1, the reference (a dev dependency: a test fails without it), on torch
    (tests/conftest.py sets KERAS_BACKEND before anything imports it)."""
    import keras

    assert keras.backend.backend() == "torch", "Keras was imported with another backend"
    return keras


# -- the round trip ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ZOO))
def test_reading_what_was_written_gives_the_same_model(name: str) -> None:
    spec = spec_of(name)
    written = keras_json(spec)
    normal = model_spec(from_keras(written))
    # Reading gives the spec with Keras's spelled-out defaults; from there it is exact.
    assert to_keras(normal, shapes_of(normal)) == written
    assert model_spec(from_keras(keras_json(normal))) == normal
    assert_same_up_to_keras_defaults(spec, normal)
    ours, theirs = build_model(spec, device="meta"), build_model(normal, device="meta")
    assert sorted(ours.summary(), key=str) == sorted(theirs.summary(), key=str)
    assert {k: v.shape for k, v in ours.keras_weights().items()} == {
        k: v.shape for k, v in theirs.keras_weights().items()
    }


def assert_same_up_to_keras_defaults(spec: Spec, normal: Spec) -> None:
    """Layer by layer and call by call, `normal` is `spec` but for what Keras spells out.

    A functional model's layers may come in another order (Keras's) and a layer's second
    call is named `<layer>_call1`: its calls are compared as Keras numbers them.
    """
    if isinstance(spec, SequentialSpec):
        assert isinstance(normal, SequentialSpec)
        assert normal.layers[0].type == "Input" and normal.input_shape == spec.input_shape
        assert normal.name == (spec.name or "sequential")
        for name, ours, theirs in zip(
            layer_names(spec.stack), spec.stack, normal.stack, strict=True
        ):
            assert_same_layer(ours, theirs, name)
        return
    assert isinstance(normal, FunctionalSpec) and normal.inputs == spec.inputs
    ours_graph, their_graph = Graph(spec), Graph(normal)
    assert {(c.layer, c.index): c.reads for c in ours_graph.calls.values()} == {
        (c.layer, c.index): c.reads for c in their_graph.calls.values()
    }
    assert [ours_graph.history(r) for r in spec.outputs] == [
        their_graph.history(r) for r in normal.outputs
    ]
    theirs = {n.name: n.layer for n in normal.layers if n.layer is not None}
    for n in spec.layers:
        if n.layer is not None:
            assert_same_layer(n.layer, theirs[n.name], n.name)


def assert_same_layer(ours: LayerSpec, theirs: LayerSpec | None, name: str | None) -> None:
    assert theirs is not None and theirs.type == ours.type
    for key in type(ours).model_fields:
        a, b = getattr(ours, key), getattr(theirs, key)
        if a == b:
            continue
        where = f"{name} ({ours.type}).{key}: {a!r} became {b!r}"
        if key == "name":
            assert a is None and b is not None, where  # Keras names every layer
        elif key == "input_shape":
            assert b is None, where  # an InputLayer comes first instead
        elif key.endswith("_initializer"):
            assert initializer(a) == initializer(b), where  # a name is written as its class
        elif key in ("layer", "backward_layer") and ours.type == "Bidirectional":
            # Keras writes both directions, named forward_… and backward_…, with
            # zero_output_for_mask set to return_sequences.
            inner = ours.backward if key == "backward_layer" else a  # type: ignore[attr-defined]
            forced = {"zero_output_for_mask": b.zero_output_for_mask, "name": b.name}
            assert b.name.startswith(("forward_", "backward_")) or b.name == inner.name, where
            assert_same_layer(inner.model_copy(update=forced), b, None)
        elif key == "layer":
            assert_same_layer(a, b, None)
        else:
            assert (key, a, b) in keras_spells_out(ours), where


def keras_spells_out(layer: Any) -> list[tuple[str, Any, Any]]:
    """(argument, Cornu's default, what Keras writes for it)."""
    found = [
        ("activation", None, "linear"),
        ("recurrent_activation", None, "linear"),
        ("data_format", None, "channels_last"),
        ("query_shape", getattr(layer, "query_shape", None), None),  # tf.keras 2's
        ("key_shape", getattr(layer, "key_shape", None), None),
        ("value_shape", getattr(layer, "value_shape", None), None),
    ]
    if hasattr(layer, "pool_size"):
        found.append(("strides", None, layer.pool_size))
    if layer.type == "MultiHeadAttention":
        found += [("value_dim", None, layer.key_dim), ("attention_axes", None, (1,))]
    if layer.type == "LayerNormalization" and isinstance(layer.axis, int):
        found.append(("axis", layer.axis, [layer.axis]))
    return found


def test_a_sequential_needs_its_input_shape() -> None:
    with pytest.raises(SpecError, match="input shape"):
        to_keras({"layers": [{"type": "Dense", "units": 2}]})


def test_a_functional_model_needs_the_shapes_of_its_tensors() -> None:
    with pytest.raises(SpecError, match="output shape of layer 'da'.*model.summary"):
        to_keras(spec_of("two_inputs_two_outputs"))


def test_every_layer_cornu_supports_is_in_the_zoo() -> None:
    seen = set()
    for name in ZOO:
        spec = spec_of(name)
        layers = spec.layers if isinstance(spec, SequentialSpec) else [n.layer for n in spec.layers]
        for layer in layers:
            while layer is not None:
                seen.add(layer.type)
                layer = getattr(layer, "layer", None)
    assert set(LAYER_SPECS) - seen == set()


# -- against Keras 3.15 -----------------------------------------------------------------------


def _keras_rows(model: Any) -> dict[str, tuple[str, Any, int]]:
    """Each layer of a Keras model: class, output shape(s) of its first call, parameters."""
    rows = {}
    for layer in model.layers:
        outputs = layer._inbound_nodes[0].output_tensors
        shapes = [tuple(t.shape[1:]) for t in outputs]
        rows[layer.name] = (type(layer).__name__, shapes, layer.count_params())
    return rows


@pytest.mark.parametrize("name", sorted(ZOO))
def test_keras_builds_the_same_model(name: str) -> None:
    keras = keras_or_skip()
    spec = spec_of(name)
    model = keras.models.model_from_json(json.dumps(keras_json(spec)))
    built = build_model(spec, device="meta")
    ours = {
        row.name: (
            row.type,
            row.output_shape if isinstance(row.output_shape, list) else [row.output_shape],
            row.params,
        )
        for row in built.summary()
    }
    assert _keras_rows(model) == ours
    assert model.count_params() == built.count_params()[0]
    order = layer_names(spec.stack) if isinstance(spec, SequentialSpec) else keras_layer_order(spec)
    assert [layer.name for layer in model.layers] == order
    assert [w.shape for w in model.get_weights()] == [
        tuple(w.shape) for w in built.keras_weights().values()
    ]


def _without_masks(value: Any) -> Any:
    """Keras's JSON without the mask computations it writes (ops and `mask` tensors)."""
    if isinstance(value, list):
        return [_without_masks(v) for v in value if not _is_op(v)]
    if isinstance(value, dict):
        out = {k: _without_masks(v) for k, v in value.items() if k != "shared_object_id"}
        if isinstance(out.get("mask"), dict):
            out["mask"] = None
        return out
    return value


def _is_op(value: Any) -> bool:
    return isinstance(value, dict) and str(value.get("module", "")).startswith("keras.src.ops")


@pytest.mark.parametrize("name", sorted(ZOO))
def test_the_json_is_what_keras_writes(name: str) -> None:
    """Keras serializes the model it built from our JSON into our JSON again (but for the
    mask computations it adds as operations: Cornu leaves masks to Keras)."""
    keras = keras_or_skip()
    written = keras_json(spec_of(name))
    model = keras.models.model_from_json(json.dumps(written))
    assert same_json(_without_masks(json.loads(model.to_json())), written)


def same_json(a: Any, b: Any) -> bool:
    """Equal, but for floats that Keras keeps as float32 (an `L1` factor of 0.01 is written
    back as 0.009999999776482582)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-7)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def test_files_keras_wrote_are_written_back_the_same() -> None:
    for stem in ("keras3_mlp", "keras3_convnet", "keras3_embedding_lstm", "keras3_functional"):
        theirs = json.loads((DATA / f"{stem}.json").read_text())
        spec = model_spec(from_keras(theirs))
        assert keras_json(spec) == _without_masks(theirs)


@pytest.mark.parametrize(
    "kind",
    [
        "GlorotUniform",
        "glorot_normal",
        "he_uniform",
        "HeNormal",
        "lecun_uniform",
        "lecun_normal",
        "zeros",
        "ones",
        "random_normal",
        "random_uniform",
        "truncated_normal",
        "orthogonal",
        "identity",
        "variance_scaling",
        "uniform",
        "normal",
    ],
)
def test_initializers_are_serialized_as_keras_does(kind: str) -> None:
    keras = keras_or_skip()
    assert initializer(kind) == keras.initializers.serialize(keras.initializers.get(kind))


# -- compile ----------------------------------------------------------------------------------

COMPILES: list[dict[str, Any]] = [
    {"loss": "mse"},
    {"optimizer": "adam", "loss": "categorical_crossentropy", "metrics": ["accuracy"]},
    {
        "optimizer": {"type": "Adam", "learning_rate": 0.01, "amsgrad": True, "clipnorm": 1.0},
        "loss": {"type": "Huber", "delta": 0.5},
        "metrics": ["mae", {"type": "AUC", "num_thresholds": 50}],
    },
    {
        "optimizer": {"type": "SGD", "learning_rate": 0.1, "momentum": 0.9, "nesterov": True},
        "loss": {"cls": "sparse_categorical_crossentropy", "reg": "mse"},
        "loss_weights": {"cls": 1.0, "reg": 0.5},
        "metrics": {"cls": ["accuracy"], "reg": ["mae"]},
        "weighted_metrics": ["mse"],
    },
    {
        "optimizer": {
            "type": "RMSprop",
            "rho": 0.8,
            "centered": True,
            "momentum": 0.5,
            "learning_rate": {
                "type": "ExponentialDecay",
                "initial_learning_rate": 0.1,
                "decay_steps": 10,
                "decay_rate": 0.9,
            },
        },
        "loss": ["binary_crossentropy", None],
        "loss_weights": [1.0, 0.0],
    },
    {"optimizer": {"type": "AdamW", "weight_decay": 0.01}, "loss": "mae"},
    {"optimizer": {"type": "Adagrad", "initial_accumulator_value": 0.2}, "loss": "mse"},
    {"optimizer": {"type": "Adadelta"}, "loss": "mse"},
    {"optimizer": {"type": "Adamax", "global_clipnorm": 2.0}, "loss": "mse"},
    {
        "optimizer": {
            "type": "Nadam",
            "learning_rate": {
                "type": "PiecewiseConstantDecay",
                "boundaries": [10],
                "values": [0.1, 0.01],
            },
        },
        "loss": "mse",
    },
    {
        "optimizer": {
            "type": "SGD",
            "learning_rate": {
                "type": "CosineDecay",
                "initial_learning_rate": 0.1,
                "decay_steps": 100,
            },
        },
        "loss": "mse",
    },
    {
        "optimizer": {
            "type": "SGD",
            "learning_rate": {
                "type": "InverseTimeDecay",
                "initial_learning_rate": 0.1,
                "decay_steps": 10,
                "decay_rate": 0.5,
            },
        },
        "loss": "mse",
    },
]


@pytest.mark.parametrize("given", COMPILES)
def test_compile_round_trips(given: dict[str, Any]) -> None:
    config = compile_config(given)
    assert CompileSpec.model_validate(compile_from_keras(config)) == CompileSpec.model_validate(
        given
    )


@pytest.mark.parametrize("given", COMPILES)
def test_compile_config_is_what_keras_writes(given: dict[str, Any]) -> None:
    """Keras compiles with what our config deserializes to and writes the same config back
    (its optimizer under the backend's module, its learning rate as a float32)."""
    keras = keras_or_skip()
    ours = compile_config(given)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile_from_config(copy.deepcopy(ours))  # Keras deserializes in place
    theirs = model.get_compile_config()
    optimizer, ours_optimizer = theirs.pop("optimizer"), ours.pop("optimizer")
    assert optimizer["class_name"] == ours_optimizer["class_name"]
    rate = optimizer["config"].pop("learning_rate")
    if not isinstance(rate, float):  # a schedule: Keras serializes it when it saves
        rate = keras.saving.serialize_keras_object(rate)
    ours_rate = ours_optimizer["config"].pop("learning_rate")
    assert same_json(rate, ours_rate)  # a float32
    assert optimizer["config"].pop("name") and ours_optimizer["config"].pop("name")
    assert optimizer["config"] == ours_optimizer["config"]
    for key in ("loss", "metrics"):  # Keras writes its loss and metric objects' full configs
        assert _class_names(theirs.pop(key)) == _class_names(ours.pop(key))
    assert theirs == ours


def _class_names(value: Any) -> Any:
    if isinstance(value, dict) and "class_name" in value:
        return value["class_name"]
    if isinstance(value, dict):
        return {k: _class_names(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_class_names(v) for v in value]
    return value


def test_keras_compile_configs_are_read() -> None:
    keras = keras_or_skip()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="out")])
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="mse", metrics=["mae"])
    read = compile_from_keras(model.get_compile_config(), ["out"])
    assert read is not None and read["optimizer"]["learning_rate"] == 0.001  # not its float32
    assert CompileSpec.model_validate(read) == CompileSpec.model_validate(
        {"optimizer": "adam", "loss": "mse", "metrics": ["mae"]}
    )


def test_custom_objects_in_a_compile_config_are_refused() -> None:
    config = compile_config({"loss": "mse"})
    config["loss"] = {"module": "my_package.losses", "class_name": "MyLoss", "config": {}}
    with pytest.raises(SpecError, match="custom Keras objects.*'my_package.losses'"):
        compile_from_keras(config)
