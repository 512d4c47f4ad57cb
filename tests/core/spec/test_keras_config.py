"""Cornu's specs written as Keras 3's own model JSON: Keras 3.15 builds the same model from
it, serializes it back to the same JSON, and `from_keras` reads it back; compile
configurations both ways. The models are the zoo's (keras_zoo.py).
"""

from __future__ import annotations

import copy
import json
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
from tests.core.spec.keras_zoo import (
    DATA,
    ZOO,
    Spec,
    keras_json,
    keras_or_skip,
    same_json,
    shapes_of,
    spec_of,
    without_masks,
    without_pipeline_builds,
)


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
        elif key in ("layer", "cell"):  # a wrapped layer, an RNN's cell (or stack of them)
            assert_same_layer(a, b, None)
        elif key == "cells" or (key == "layers" and ours.type == "Pipeline"):
            for inner_a, inner_b in zip(a, b, strict=True):
                assert_same_layer(inner_a, inner_b, None)
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
    if layer.type in ("LayerNormalization", "RMSNormalization") and isinstance(layer.axis, int):
        found.append(("axis", layer.axis, [layer.axis]))
    return found


def test_a_sequential_needs_its_input_shape() -> None:
    with pytest.raises(SpecError, match="input shape"):
        to_keras({"layers": [{"type": "Dense", "units": 2}]})


def test_a_functional_model_needs_the_shapes_of_its_tensors() -> None:
    with pytest.raises(SpecError, match="output shape of layer 'da'.*model.summary"):
        to_keras(spec_of("two_inputs_two_outputs"))


# RandomCrop: at inference Keras 3.15 returns the image uncropped, against its own output
# shape, where Cornu crops the centred window (tests/core/engine/layers/test_preprocessing.py).
NOT_IN_THE_ZOO = {"RandomCrop"}
# Keras builds these only with TensorFlow, which this venv lacks: their configs are
# checked against Keras's in tests/core/engine/layers/test_lookup_hashing.py.
NOT_IN_THE_ZOO |= {"IntegerLookup", "Hashing", "HashedCrossing"}


def test_every_layer_cornu_supports_is_in_the_zoo() -> None:
    seen = set()
    for name in ZOO:
        spec = spec_of(name)
        found = spec.layers if isinstance(spec, SequentialSpec) else [n.layer for n in spec.layers]
        stack = [layer for layer in found if layer is not None]
        while stack:  # layers, and the layers and cells inside them
            layer = stack.pop()
            seen.add(layer.type)
            inner = [getattr(layer, key, None) for key in ("layer", "cell")]
            stack += [i for i in inner if i is not None] + list(getattr(layer, "cells", []))
    assert set(LAYER_SPECS) - seen == NOT_IN_THE_ZOO


def _keras_rows(model: Any) -> dict[str, tuple[str, Any, int]]:
    """Each layer of a Keras model: class, output shape(s) of its first call, parameters."""
    rows = {}
    for layer in model.layers:
        outputs = layer._inbound_nodes[0].output_tensors
        shapes = [tuple(t.shape[1:]) for t in outputs]
        rows[layer.name] = (type(layer).__name__, shapes, layer.count_params())
    return rows


# Keras 3.15 rebuilds a model holding Equalization with its input renamed "imageCLONE"
# (its `compute_output_spec` returns the input tensor itself); the layers, weights and
# predictions still agree (tests/core/test_keras_files_written.py).
KERAS_RENAMES_ITS_INPUT = {"equalized"}


@pytest.mark.parametrize("name", sorted(set(ZOO) - KERAS_RENAMES_ITS_INPUT))
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


@pytest.mark.parametrize("name", sorted(set(ZOO) - KERAS_RENAMES_ITS_INPUT))
def test_the_json_is_what_keras_writes(name: str) -> None:
    """Keras serializes the model it built from our JSON into our JSON again (but for the
    mask computations it adds as operations: Cornu leaves masks to Keras)."""
    keras = keras_or_skip()
    written = keras_json(spec_of(name))
    model = keras.models.model_from_json(json.dumps(written))
    assert same_json(without_pipeline_builds(without_masks(json.loads(model.to_json()))), written)


def test_files_keras_wrote_are_written_back_the_same() -> None:
    for stem in ("keras3_mlp", "keras3_convnet", "keras3_embedding_lstm", "keras3_functional"):
        theirs = json.loads((DATA / f"{stem}.json").read_text())
        spec = model_spec(from_keras(theirs))
        assert keras_json(spec) == without_masks(theirs)


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
