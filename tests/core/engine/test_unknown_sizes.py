"""Dimensions of unknown size (None), where Keras allows them: a sequence's length, an
image's height and width. Shapes and parameter counts against Keras 3.15 itself;
training and prediction on data of any size that fits."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

from cornu.core.engine import train_job
from cornu.core.engine.summary import summarize
from cornu.core.errors import SpecError
from cornu.core.spec import JobSpec

MODELS: dict[str, dict[str, Any]] = {
    "gru_series": {
        "type": "sequential",
        "layers": [
            {"type": "GRU", "units": 8, "input_shape": [None, 14], "return_sequences": True},
            {"type": "GRU", "units": 4},
            {"type": "Dense", "units": 1},
        ],
    },
    "text": {  # fmt: skip
        "type": "functional",
        "inputs": [{"name": "ids", "shape": [None]}],
        "layers": [
            {
                "name": "emb",
                "type": "Embedding",
                "input_dim": 50,
                "output_dim": 8,
                "inputs": ["ids"],
            },
            {
                "name": "bi",
                "type": "Bidirectional",
                "layer": {"type": "LSTM", "units": 4},
                "inputs": ["emb"],
            },
            {"name": "out", "type": "Dense", "units": 2, "activation": "softmax", "inputs": ["bi"]},
        ],
        "outputs": ["out"],
    },
    "conv1d": {
        "type": "sequential",
        "layers": [
            {"type": "Conv1D", "filters": 6, "kernel_size": 5, "input_shape": [None, 3]},
            {"type": "MaxPooling1D", "pool_size": 2},
            {"type": "Conv1D", "filters": 4, "kernel_size": 3, "padding": "same"},
            {"type": "GlobalMaxPooling1D"},
            {"type": "Dense", "units": 2},
        ],
    },
    "images": {
        "type": "sequential",
        "layers": [
            {"type": "Input", "shape": [None, None, 3]},
            {"type": "Conv2D", "filters": 4, "kernel_size": 3, "activation": "relu"},
            {"type": "MaxPooling2D"},
            {"type": "GlobalAveragePooling2D"},
            {"type": "Dense", "units": 3},
        ],
    },
}


@pytest.fixture(scope="module")
def keras() -> Any:
    os.environ["KERAS_BACKEND"] = "torch"
    import keras

    return keras


def keras_model(keras: Any, name: str) -> Any:
    layers = keras.layers
    if name == "gru_series":
        return keras.Sequential([keras.Input((None, 14)), layers.GRU(8, return_sequences=True),
                                 layers.GRU(4), layers.Dense(1)])  # fmt: skip
    if name == "text":
        ids = keras.Input((None,))
        x = layers.Embedding(50, 8)(ids)
        x = layers.Bidirectional(layers.LSTM(4))(x)
        return keras.Model(ids, layers.Dense(2, activation="softmax")(x))
    if name == "conv1d":
        return keras.Sequential([keras.Input((None, 3)), layers.Conv1D(6, 5),
                                 layers.MaxPooling1D(2), layers.Conv1D(4, 3, padding="same"),
                                 layers.GlobalMaxPooling1D(), layers.Dense(2)])  # fmt: skip
    return keras.Sequential([keras.Input((None, None, 3)), layers.Conv2D(4, 3, activation="relu"),
                             layers.MaxPooling2D(), layers.GlobalAveragePooling2D(),
                             layers.Dense(3)])  # fmt: skip


@pytest.mark.parametrize("name", list(MODELS))
def test_shapes_and_parameters_are_keras_s(keras: Any, name: str) -> None:
    ours = summarize(MODELS[name])
    theirs = keras_model(keras, name)
    rows = [row for row in ours.layers if row.type != "InputLayer"]
    keras_layers = [layer for layer in theirs.layers if type(layer).__name__ != "InputLayer"]
    assert [row.params for row in rows] == [layer.count_params() for layer in keras_layers]
    keras_shapes = [list(layer.output.shape)[1:] for layer in keras_layers]
    assert [row.output_shape for row in rows] == keras_shapes


def job(model: dict[str, Any], **fit: Any) -> JobSpec:
    return JobSpec.model_validate(
        {
            "model": model,
            "compile": {"optimizer": "adam", "loss": "mse"},
            "fit": {"epochs": 2, "batch_size": 8, "seed": 0, **fit},
            "data": {"x": "x", "y": "y"},
        }
    )


def test_training_takes_the_datas_length_and_validates_on_another() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 20, 14)).astype(np.float32), rng.normal(size=(32, 1))
    vx, vy = rng.normal(size=(8, 35, 14)).astype(np.float32), rng.normal(size=(8, 1))
    spec = job(MODELS["gru_series"], validation_data={"x": "vx", "y": "vy"})
    result = train_job(spec, {"x": x, "y": y, "vx": vx, "vy": vy})
    assert result.plan.input_shapes == [(20, 14)]
    assert len(result.history.history["val_loss"]) == 2


def test_sizes_the_spec_fixes_must_match_the_data() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(8, 20, 5)).astype(np.float32), rng.normal(size=(8, 1))
    with pytest.raises(SpecError, match=r"samples of shape \(20, 5\) but the model's input "
                                        r"shape is \(None, 14\)"):  # fmt: skip
        train_job(job(MODELS["gru_series"]), {"x": x, "y": y})


def test_a_layer_whose_weights_follow_an_unknown_size_is_refused() -> None:
    flat = {
        "type": "sequential",
        "layers": [
            {"type": "Embedding", "input_dim": 9, "output_dim": 2, "input_shape": [None]},
            {"type": "Flatten"},
            {"type": "Dense", "units": 1},
        ],  # fmt: skip
    }
    with pytest.raises(SpecError, match="layer 'dense' .* depend on a dimension of unknown size"):
        summarize(flat)
    x = np.random.default_rng(2).integers(0, 9, (8, 6))
    with pytest.raises(SpecError, match="depend on a dimension of unknown size"):
        train_job(job(flat), {"x": x, "y": np.zeros((8, 1))})
