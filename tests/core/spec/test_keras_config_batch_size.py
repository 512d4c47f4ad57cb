"""A model whose input has a fixed batch size (`keras.Input(shape, batch_size=4)`, which
stateful=True recurrent layers need) is written as Keras 3.15 writes it: the batch size
in every shape (the InputLayer's `batch_shape`, each `build_config`, each tensor, a
Sequential's `build_input_shape`), so Keras builds it back with that batch size."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from cornu.core.spec.keras_config import from_keras, model_spec
from tests.core.spec.keras_zoo import keras_json, keras_or_skip, spec_of

SHAPE_KEYS = ("batch_shape", "shape", "build_input_shape", "input_shape", "shapes_dict")


def shapes_in(value: Any) -> list[tuple[str, Any]]:
    """Every shape a Keras JSON writes, in order (names left out)."""
    found: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in SHAPE_KEYS:
                found.append((key, inner))
            else:
                found += shapes_in(inner)
    elif isinstance(value, list):
        for inner in value:
            found += shapes_in(inner)
    return found


def keras_stateful_sequential() -> Any:
    """ZOO["stateful"] as Keras builds it itself."""
    keras = keras_or_skip()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=(5, 3), batch_size=4),
            layers.LSTM(6, stateful=True, return_sequences=True),
            layers.Bidirectional(layers.GRU(3, stateful=True, return_sequences=True)),
            layers.TimeDistributed(layers.Dense(2, name="per_step")),
            layers.RNN([layers.SimpleRNNCell(3), layers.SimpleRNNCell(2)], stateful=True),
            layers.Dense(2),
        ]
    )


def keras_stateful_functional() -> Any:
    """ZOO["stateful_functional"] as Keras builds it itself."""
    keras = keras_or_skip()
    layers = keras.layers
    steps = keras.Input(shape=(5, 3), batch_size=4, name="steps")
    extra = keras.Input(shape=(2,), batch_size=4, name="extra")
    x = layers.SimpleRNN(4, stateful=True, return_sequences=True, name="rnn")(steps)
    x = layers.LSTM(3, stateful=True, name="lstm")(x)
    x = layers.Concatenate(name="both")([x, extra])
    return keras.Model([steps, extra], layers.Dense(1, name="out")(x))


def test_shapes_are_those_keras_writes_for_a_fixed_batch_size() -> None:
    for name, build in (
        ("stateful", keras_stateful_sequential),
        ("stateful_functional", keras_stateful_functional),
    ):
        ours = shapes_in(keras_json(spec_of(name)))
        theirs = shapes_in(json.loads(build().to_json()))
        assert ours == theirs
        assert any(value[0] == 4 for key, value in ours if key == "batch_shape")


def test_keras_builds_it_back_with_the_batch_size_and_cornu_reads_it() -> None:
    keras = keras_or_skip()
    for name, inputs in (
        ("stateful", [np.ones((4, 5, 3), "float32")]),
        ("stateful_functional", [np.ones((4, 5, 3), "float32"), np.ones((4, 2), "float32")]),
    ):
        written = keras_json(spec_of(name))
        model = keras.models.model_from_json(json.dumps(written))
        assert [tuple(t.shape)[0] for t in model.inputs] == [4] * len(inputs)
        model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)  # stateful: runs
        spec = model_spec(from_keras(json.loads(model.to_json())))
        assert spec.batch_sizes == {4}
