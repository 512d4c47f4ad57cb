"""Every generation of Keras's model JSON, read as Keras reads it: Keras 2.0–2.2's list-form
Sequential, the class and object names Keras's registries still resolve (taken from the
generated `keras_registry.json`), the arguments Keras maps or ignores (noted as warnings,
not refused) and those Cornu cannot honour (refused by name). Parameter counts come from
Keras 3.15 itself where it loads the JSON, and by hand where only Keras 2 did."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from cornu.core.engine.summary import summarize
from cornu.core.errors import SpecError
from cornu.core.spec import registry
from cornu.core.spec.layers import layer_type
from tests.core.spec.keras_zoo import keras_or_skip

# Keras 2.1.6's `model.to_json()` of the book's first IMDB LSTM (chapter 6), as public
# repositories hold it: `config` is the list of layers, the first has `batch_input_shape`,
# the Embedding its `input_length`, the LSTM Keras 2.0's `implementation: 0`.
KERAS21_IMDB_LSTM: dict[str, Any] = {
    "class_name": "Sequential",
    "keras_version": "2.1.6",
    "backend": "tensorflow",
    "config": [
        {"class_name": "Embedding", "config": {
            "name": "embedding_1", "trainable": True, "batch_input_shape": [None, 500],
            "dtype": "float32", "input_dim": 10000, "output_dim": 32,
            "embeddings_initializer": {"class_name": "RandomUniform", "config": {
                "minval": -0.05, "maxval": 0.05, "seed": None}},
            "embeddings_regularizer": None, "activity_regularizer": None,
            "embeddings_constraint": None, "mask_zero": False, "input_length": 500}},
        {"class_name": "LSTM", "config": {
            "name": "lstm_1", "trainable": True, "return_sequences": False,
            "return_state": False, "go_backwards": False, "stateful": False, "unroll": False,
            "units": 32, "activation": "tanh", "recurrent_activation": "hard_sigmoid",
            "use_bias": True,
            "kernel_initializer": {"class_name": "VarianceScaling", "config": {
                "scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}},
            "recurrent_initializer": {"class_name": "Orthogonal", "config": {
                "gain": 1.0, "seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "unit_forget_bias": True, "kernel_regularizer": None,
            "recurrent_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": None, "kernel_constraint": None,
            "recurrent_constraint": None, "bias_constraint": None, "dropout": 0.0,
            "recurrent_dropout": 0.0, "implementation": 0}},
        {"class_name": "Dense", "config": {
            "name": "dense_1", "trainable": True, "units": 1, "activation": "sigmoid",
            "use_bias": True,
            "kernel_initializer": {"class_name": "VarianceScaling", "config": {
                "scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}},
    ],
}  # fmt: skip


def test_keras2_list_form_sequential_reads_with_keras2_counts() -> None:
    summary = summarize(KERAS21_IMDB_LSTM)
    # By hand, as Keras 2 printed it: 10000·32; 4·32·(32 + 32 + 1); 32 + 1.
    assert [(row.name, row.output_shape, row.params) for row in summary.layers] == [
        ("embedding_1", [500, 32], 320_000),
        ("lstm_1", [32], 8_320),
        ("dense_1", [1], 33),
    ]
    assert summary.total_params == 328_353
    assert any("implementation=0" in w and "lstm_1" in w for w in summary.warnings)
    assert any("input_length" in w and "embedding_1" in w for w in summary.warnings)


def test_keras2_list_form_without_a_first_layer_shape_is_a_clear_error() -> None:
    data = copy.deepcopy(KERAS21_IMDB_LSTM)
    del data["config"][0]["config"]["batch_input_shape"]
    with pytest.raises(SpecError, match="the first layer gives no input_shape"):
        summarize(data)


def _keras3_sequential(*layers: dict[str, Any], batch_shape: list[Any]) -> dict[str, Any]:
    first = {"class_name": "InputLayer", "config": {"batch_shape": batch_shape, "name": "x"}}
    config = {"name": "s", "layers": [first, *layers]}
    return {"module": "keras", "class_name": "Sequential", "config": config}


def _keras_counts(data: dict[str, Any]) -> tuple[int, list[Any]]:
    keras = keras_or_skip()
    model = keras.models.model_from_json(json.dumps(data))
    rows = [(layer.name, layer.count_params()) for layer in model.layers]
    return model.count_params(), rows


ALIASED = {
    "orthogonal_initializer": _keras3_sequential(
        {"module": "keras.layers", "class_name": "LSTM", "config": {
            "name": "lstm", "units": 4, "recurrent_initializer": {
                "module": "keras.initializers", "class_name": "OrthogonalInitializer",
                "config": {"gain": 1.0, "seed": None}}}},
        batch_shape=[None, 5, 3],
    ),
    "short_initializer_names": _keras3_sequential(
        {"module": "keras.layers", "class_name": "Dense", "config": {
            "name": "d", "units": 3, "kernel_initializer": "normal", "bias_initializer": "one"}},
        {"module": "keras.layers", "class_name": "Dense", "config": {
            "name": "e", "units": 2, "kernel_initializer": "uniform", "bias_initializer": "zero"}},
        batch_shape=[None, 4],
    ),
    "layer_class_aliases": _keras3_sequential(
        {"module": "keras.layers", "class_name": "Convolution2D", "config": {
            "name": "c", "filters": 4, "kernel_size": [3, 3]}},
        {"module": "keras.layers", "class_name": "MaxPool2D", "config": {"name": "p"}},
        {"module": "keras.layers", "class_name": "GlobalAvgPool2D", "config": {"name": "g"}},
        batch_shape=[None, 9, 9, 2],
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(ALIASED))
def test_names_keras_registries_resolve_read_with_keras_counts(name: str) -> None:
    total, rows = _keras_counts(ALIASED[name])
    summary = summarize(ALIASED[name])
    assert summary.total_params == total
    assert [(row.name, row.params) for row in summary.layers] == rows


def test_the_registry_is_keras_own_and_covers_every_alias_it_lists() -> None:
    keras = keras_or_skip()
    assert registry.keras_version() == keras.__version__
    for name in registry.keras_layer_names():
        assert getattr(keras.layers, name).__name__ == registry.layer_class(name)
    assert len(registry.keras_layer_names()) == len(
        [n for n in dir(keras.layers) if isinstance(getattr(keras.layers, n), type)
         and issubclass(getattr(keras.layers, n), keras.layers.Layer)]
    )  # fmt: skip
    for alias, target in [("OrthogonalInitializer", "Orthogonal"), ("normal", "RandomNormal")]:
        assert registry.resolve("initializers", alias) == target
        assert keras.initializers.get(alias).__class__.__name__ == target


def test_a_native_spec_takes_keras_other_class_names() -> None:
    summary = summarize(
        {
            "layers": [
                {"type": "Convolution1D", "filters": 2, "kernel_size": 3, "input_shape": [10, 1]},
                {"type": "GlobalMaxPool1D"},
            ]
        }  # fmt: skip
    )
    assert [row.type for row in summary.layers] == ["Conv1D", "GlobalMaxPooling1D"]
    assert summary.total_params == 3 * 2 + 2
    # and a class's own name where Keras exports it under another
    assert layer_type("GroupedQueryAttention") == "GroupQueryAttention"
    assert layer_type("AvgPool3D") == "AveragePooling3D" and layer_type("Nope") == "Nope"


def _dense_json(**config: Any) -> dict[str, Any]:
    layer = {"module": "keras.layers", "class_name": "Dense",
             "config": {"name": "d", "units": 2, **config}}  # fmt: skip
    return _keras3_sequential(layer, batch_shape=[None, 3])


def test_arguments_an_older_keras_wrote_are_ignored_with_a_warning() -> None:
    # tf.keras 1.x/2.x wrote these; Keras 3.15 has no such arguments.
    bn = {"module": "keras.layers", "class_name": "BatchNormalization", "config": {
        "name": "bn", "fused": True, "renorm": False, "virtual_batch_size": None,
        "adjustment": None}}  # fmt: skip
    summary = summarize(_keras3_sequential(bn, batch_shape=[None, 3]))
    assert summary.total_params == 12  # gamma, beta, moving mean and variance of 3
    assert summary.warnings == [
        "layer 'bn' (BatchNormalization): Keras 3.15.1 has no argument 'fused' (an older "
        "Keras wrote it); it was ignored"
    ]  # `renorm: false` and the nulls are Keras's defaults: nothing to say


def test_keras3_arguments_at_their_default_are_silent_and_others_refused_by_name() -> None:
    assert summarize(_dense_json(lora_rank=None, lora_alpha=None)).warnings == []
    with pytest.raises(SpecError, match=r"layer 'd' \(Dense\) sets lora_rank=4, which Cornu"):
        summarize(_dense_json(lora_rank=4))


def test_an_input_shape_after_the_first_layer_is_ignored_with_a_warning() -> None:
    summary = summarize(
        {
            "layers": [
                {"type": "Dense", "units": 4, "input_shape": [8]},
                {"type": "Dense", "units": 2, "input_shape": [99]},
            ]
        }  # fmt: skip
    )
    assert summary.total_params == (8 * 4 + 4) + (4 * 2 + 2)  # as Keras builds it
    assert summary.warnings == [
        "layer 1 (Dense) gives an input_shape, which only the first layer of a Sequential "
        "model uses; it was ignored, as Keras ignores it"
    ]


def test_a_native_spec_still_refuses_unknown_arguments() -> None:
    with pytest.raises(SpecError, match="Dense has no argument 'fused'"):
        summarize({"layers": [{"type": "Dense", "units": 2, "input_shape": [3], "fused": True}]})
