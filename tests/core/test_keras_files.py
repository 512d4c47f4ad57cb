"""Keras's own model files, both ways: what Cornu writes, Keras 3.15 loads (without a
warning) and predicts with as Cornu's engine does, laid out exactly as Keras lays out its
own; what Keras 3.15 saves, Cornu reads into a model that predicts as Keras does. The
reference models and files are made here, by Keras, from code (no checked-in binaries)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from cornu.core.engine.build import build_model
from cornu.core.engine.model import Model
from cornu.core.errors import PayloadTooLarge, SpecError
from cornu.core.spec import CompileSpec
from cornu.core.spec import keras_files as files
from cornu.core.spec.keras_config import from_keras, model_spec, to_keras
from cornu.core.spec.keras_files.legacy import full_loss_names
from tests.core.engine.test_keras_weights import predict, sample_inputs, trained_looking
from tests.core.spec.test_keras_config import (
    ZOO,
    _without_masks,
    keras_or_skip,
    same_json,
    shapes_of,
    spec_of,
)

os.environ["KERAS_BACKEND"] = "torch"  # Keras reads it once, at its first import

# Keras 3.15 cannot load a legacy .h5 of a LayerNormalization over several axes, even
# one it saved itself: it builds it over the last axis only.
LEGACY_H5_FAILS_IN_KERAS = {"layer_normalization_axes"}
FORMATS = ["keras", "h5", "weights.h5"]
COMPILE = {"optimizer": {"type": "Adam", "learning_rate": 0.002}, "loss": "mse", "metrics": ["mae"]}
COMPILES = {  # each optimizer's variables are in the files, as Keras builds them
    "mlp": {"optimizer": {"type": "RMSprop", "momentum": 0.5, "centered": True}, "loss": "mse"},
    "convnet": {"optimizer": "adam", "loss": "categorical_crossentropy", "metrics": ["accuracy"]},
    "embedding_lstm": {"optimizer": {"type": "Nadam"}, "loss": "binary_crossentropy"},
    "gru": {"optimizer": {"type": "SGD", "momentum": 0.9}, "loss": "mae"},
    "bidirectional": {"optimizer": {"type": "Adagrad"}, "loss": "mse"},
    "two_inputs_two_outputs": {
        "optimizer": {"type": "Adam", "amsgrad": True},
        "loss": {"cls": "categorical_crossentropy", "reg": "mse"},
        "loss_weights": {"cls": 1.0, "reg": 0.5},
        "metrics": {"cls": ["accuracy"], "reg": ["mae"]},
    },
    "attention": {"optimizer": {"type": "Adadelta"}, "loss": ["mse", "mae"]},
    "frozen": {"optimizer": {"type": "Adamax"}, "loss": "mse"},
    "conv1d": {  # no learning_rate variable when it follows a schedule
        "optimizer": {
            "type": "Adam",
            "learning_rate": {
                "type": "CosineDecay",
                "initial_learning_rate": 0.1,
                "decay_steps": 9,
            },
        },
        "loss": "mse",
    },
    "masked_functional": {"optimizer": {"type": "AdamW"}, "loss": ["mse", "mse"]},
}


def trained(name: str) -> tuple[Any, Model, dict[str, np.ndarray]]:
    """A zoo model in the engine, with trained-looking weights."""
    spec = spec_of(name)
    model = build_model(spec)
    weights = trained_looking(model)
    model.load_keras_weights(weights)
    return spec, model, weights


def save(tmp_path: Path, name: str, kind: str, compile: Any = COMPILE) -> Path:
    spec, model, weights = trained(name)
    path = tmp_path / f"{name}.{kind}"
    files.save_model(path, spec, weights, compile=compile, shapes=shapes_of(spec))
    return path


class Complaints:
    """Everything Keras warns about (warnings and its absl log) while the block runs."""

    def __enter__(self) -> list[str]:
        self.found: list[str] = []
        self.caught = warnings.catch_warnings(record=True)
        self.records = self.caught.__enter__()
        warnings.simplefilter("always")
        self.handler = logging.Handler(logging.WARNING)
        self.handler.emit = lambda record: self.found.append(record.getMessage())  # type: ignore[method-assign]
        logging.getLogger().addHandler(self.handler)
        return self.found

    def __exit__(self, *exc: Any) -> None:
        logging.getLogger().removeHandler(self.handler)
        self.caught.__exit__(*exc)
        self.found += [str(w.message) for w in self.records]
        self.found[:] = [m for m in self.found if not m.startswith(KERAS_OWN)]


KERAS_OWN = (  # what Keras also says when it loads its own files: not about the file
    "__array__ implementation",  # numpy 2, about Keras's torch tensors
    "You passed `rms_scaling=True`",  # LayerNormalization's deprecated argument
    "Compiled the loaded model, but the compiled metrics",  # any legacy .h5 with metrics
)


def keras_load(path: Path, kind: str) -> Any:
    keras = keras_or_skip()
    if kind != "weights.h5":
        return keras.models.load_model(path)
    spec = spec_of(path.name.split(".")[0])
    model = keras.models.model_from_json(json.dumps(to_keras(spec, shapes_of(spec))))
    model.load_weights(path)
    return model


def keras_predict(model: Any, inputs: list[np.ndarray]) -> list[np.ndarray]:
    out = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    return [np.asarray(y) for y in (out if isinstance(out, list | tuple) else [out])]


# -- Cornu writes, Keras reads ------------------------------------------------------------------


@pytest.mark.parametrize("kind", FORMATS)
@pytest.mark.parametrize("name", sorted(ZOO))
def test_keras_loads_what_cornu_writes_and_predicts_the_same(
    tmp_path: Path, name: str, kind: str
) -> None:
    keras_or_skip()
    if kind == "h5" and name in LEGACY_H5_FAILS_IN_KERAS:
        pytest.skip("Keras 3.15 cannot load this model from a legacy .h5")
    spec, model, weights = trained(name)
    path = tmp_path / f"{name}.{kind}"
    files.save_model(
        path, spec, weights, compile=COMPILES.get(name, COMPILE), shapes=shapes_of(spec)
    )
    with Complaints() as complaints:
        loaded = keras_load(path, kind)
    assert complaints == []
    inputs = sample_inputs(model)
    for expected, got in zip(predict(model, inputs), keras_predict(loaded, inputs), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    if kind != "weights.h5":
        assert (
            loaded.compiled
            and type(loaded.optimizer).__name__
            == CompileSpec.model_validate(COMPILES.get(name, COMPILE)).optimizer.type
        )


def h5_tree(h5: Any) -> dict[str, Any]:
    """Every group (its attributes) and dataset (shape, dtype, values) of an HDF5 file."""
    tree: dict[str, Any] = {"/": _attrs(h5)}

    def visit(name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Dataset):
            tree[name] = (obj.shape, str(obj.dtype), np.asarray(obj[()]).tolist())
        else:
            tree[name] = _attrs(obj)

    h5.visititems(visit)
    return tree


def _attrs(obj: Any) -> dict[str, Any]:
    out = {}
    for key, value in obj.attrs.items():
        value = value.tolist() if isinstance(value, np.ndarray) else value
        out[key] = value.decode() if isinstance(value, bytes) else value
    return out


def _hidden_names(tree: dict[str, Any]) -> dict[str, Any]:
    """Without the names Keras numbers per session (MultiHeadAttention's inner dropout
    and softmax layers, `dropout_3`)."""
    return {
        k: ({} if k.endswith(("_dropout_layer/vars", "_softmax/vars")) else v)
        for k, v in tree.items()
    }


@pytest.mark.parametrize("name", sorted(ZOO))
def test_the_keras_archive_is_laid_out_as_keras_lays_it_out(tmp_path: Path, name: str) -> None:
    """Keras loads our `.keras` and saves it again: the same members, config and weights file."""
    keras = keras_or_skip()
    ours = save(tmp_path, name, "keras", COMPILES.get(name, COMPILE))
    again = tmp_path / "again.keras"
    keras.models.load_model(ours).save(again)
    with zipfile.ZipFile(ours) as a, zipfile.ZipFile(again) as b:
        assert a.namelist() == b.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        assert [i.compress_type for i in a.infolist()] == [i.compress_type for i in b.infolist()]
        assert (
            json.loads(a.read("metadata.json")).keys() == json.loads(b.read("metadata.json")).keys()
        )
        assert same_json(_comparable(a.read("config.json")), _comparable(b.read("config.json")))
        with (
            h5py.File(io.BytesIO(a.read("model.weights.h5"))) as x,
            h5py.File(io.BytesIO(b.read("model.weights.h5"))) as y,
        ):
            assert _hidden_names(h5_tree(x)) == _hidden_names(h5_tree(y))


def _comparable(text: bytes | str) -> dict[str, Any]:
    """A model's JSON without what Keras's session adds: object ids, mask operations, its
    torch optimizer class's module."""
    config: dict[str, Any] = _without_masks(json.loads(text))
    optimizer = (config.get("compile_config") or {}).get("optimizer")
    if optimizer:
        optimizer.update(module="keras.optimizers", registered_name=None)
    return config


@pytest.mark.parametrize("name", sorted(ZOO))
def test_the_legacy_h5_is_laid_out_as_keras_lays_it_out(tmp_path: Path, name: str) -> None:
    """Keras loads our `.h5` and saves it again: the same attributes, config, layer groups
    and weights (Keras also writes the optimizer it built; Cornu writes none, so Keras
    starts it afresh). Its `training_config` is what Keras writes for a model compiled
    from our `.keras`'s (loading an `.h5` turns metric names into objects)."""
    keras = keras_or_skip()
    if name in LEGACY_H5_FAILS_IN_KERAS:
        pytest.skip("Keras 3.15 cannot load this model from a legacy .h5")
    compile = COMPILES.get(name, COMPILE)
    ours = save(tmp_path, name, "h5", compile)
    keras.models.load_model(ours).save(tmp_path / "again.h5")
    keras.models.load_model(save(tmp_path, name, "keras", compile)).save(tmp_path / "compiled.h5")
    with h5py.File(ours) as x, h5py.File(tmp_path / "again.h5") as y:
        a, b = h5_tree(x), h5_tree(y)
    with h5py.File(tmp_path / "compiled.h5") as z:
        compiled = h5_tree(z)["/"]
    a_top, b_top = a.pop("/"), b.pop("/")
    assert same_json(_comparable(a_top.pop("model_config")), _comparable(b_top.pop("model_config")))
    training = [json.loads(top.pop("training_config")) for top in (a_top, compiled)]
    # Cornu spells loss aliases out, since Keras cannot load back its own "mse" (.h5 only)
    training[1]["loss"] = full_loss_names(training[1]["loss"])
    for config in training:  # Keras's is its float32
        rate = config["optimizer_config"]["config"]["learning_rate"]
        if isinstance(rate, float):
            config["optimizer_config"]["config"]["learning_rate"] = float(str(np.float32(rate)))
    assert training[0] == training[1]
    b_top.pop("training_config")
    assert a_top == b_top
    assert {k: v for k, v in b.items() if not k.startswith("optimizer_weights")} == a


@pytest.mark.parametrize("name", sorted(ZOO))
def test_the_weights_file_is_laid_out_as_keras_lays_it_out(tmp_path: Path, name: str) -> None:
    keras = keras_or_skip()
    spec, _, weights = trained(name)
    ours = tmp_path / "ours.weights.h5"
    files.write_weights(ours, spec, weights)
    model = keras.models.model_from_json(json.dumps(to_keras(spec, shapes_of(spec))))
    model.load_weights(ours)
    again = tmp_path / "again.weights.h5"
    model.save_weights(again)
    with h5py.File(ours) as x, h5py.File(again) as y:
        assert _hidden_names(h5_tree(x)) == _hidden_names(h5_tree(y))


# -- Keras writes, Cornu reads -------------------------------------------------------------------


def keras_models() -> dict[str, Any]:
    """Models as a Keras user builds them, with Keras's own (random) weights."""
    keras = keras_or_skip()
    layers = keras.layers
    keras.utils.set_random_seed(0)
    a, b = keras.Input((8,), name="a"), keras.Input((5,), name="b")
    shared = layers.Dense(6, activation="relu", name="shared")
    merged = layers.Concatenate(name="cat")(
        [shared(layers.Dense(8, name="pa")(a)), shared(layers.Dense(8, name="pb")(b))]
    )
    q = keras.Input((5, 8), name="q")
    attended = layers.MultiHeadAttention(2, 4, name="mha")(q, q, use_causal_mask=True)
    ids = keras.Input((7,), name="ids")
    masked = layers.Bidirectional(layers.LSTM(3, return_sequences=True))(
        layers.Embedding(20, 4, mask_zero=True)(ids)
    )
    models = {
        "mlp": keras.Sequential(
            [
                keras.Input((20,)),
                layers.Dense(16, activation="relu"),
                layers.Dropout(0.5),
                layers.Dense(3, activation="softmax"),
            ]
        ),
        "convnet": keras.Sequential(
            [
                keras.Input((10, 10, 3)),
                layers.Conv2D(4, 3, padding="same"),
                layers.BatchNormalization(),
                layers.ReLU(),
                layers.MaxPooling2D(),
                layers.SeparableConv2D(5, 3),
                layers.Flatten(),
                layers.Dense(2),
            ]
        ),
        "embedding_lstm": keras.Sequential(
            [
                keras.Input((7,)),
                layers.Embedding(20, 4, mask_zero=True),
                layers.LSTM(5),
                layers.Dense(1, activation="sigmoid"),
            ]
        ),
        "gru": keras.Sequential(
            [
                keras.Input((6, 3)),
                layers.GRU(4, return_sequences=True),
                layers.GRU(2, go_backwards=True),
            ]
        ),
        "bidirectional": keras.Sequential(
            [
                keras.Input((6, 3)),
                layers.Bidirectional(layers.LSTM(4, return_sequences=True)),
                layers.TimeDistributed(layers.Dense(2)),
            ]
        ),
        "functional": keras.Model(
            [a, b],
            [
                layers.Dense(3, activation="softmax", name="cls")(merged),
                layers.Dense(1, name="reg")(merged),
            ],
        ),
        "attention": keras.Model(q, layers.LayerNormalization()(layers.Add()([q, attended]))),
        "masked": keras.Model(
            ids, [layers.LSTM(2)(masked), layers.GlobalAveragePooling1D()(masked)]
        ),
    }
    rng = np.random.default_rng(3)
    for model in models.values():  # trained-looking: no zero biases, moving statistics moved
        model.set_weights(
            [
                rng.normal(0, 0.4, w.shape).astype("float32") + (w.min() > 0.5)
                for w in model.get_weights()
            ]
        )
    models["mlp"].compile(
        keras.optimizers.RMSprop(0.01), "categorical_crossentropy", metrics=["accuracy"]
    )
    models["functional"].compile(
        "adam",
        {"cls": "categorical_crossentropy", "reg": "mse"},
        loss_weights={"cls": 1.0, "reg": 0.2},
    )
    return models


@pytest.fixture(scope="module")
def keras_saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Path]]:
    keras_or_skip()
    folder = tmp_path_factory.mktemp("keras_saved")
    saved = {}
    for name, model in keras_models().items():
        for kind in FORMATS:
            path = folder / f"{name}.{kind}"
            model.save_weights(path) if kind == "weights.h5" else model.save(path)
        saved[name] = (model, folder / name)
    return saved


@pytest.mark.parametrize("kind", FORMATS)
@pytest.mark.parametrize(
    "name",
    [
        "mlp",
        "convnet",
        "embedding_lstm",
        "gru",
        "bidirectional",
        "functional",
        "attention",
        "masked",
    ],
)
def test_cornu_reads_what_keras_writes_and_predicts_the_same(
    keras_saved: Any, name: str, kind: str
) -> None:
    keras_model, stem = keras_saved[name]
    path = stem.with_name(f"{name}.{kind}")
    if kind == "weights.h5":
        spec = from_keras(json.loads(keras_model.to_json()))
        weights, compile = files.read_weights(path, spec), None
    else:
        read = files.load_model(path)
        spec, weights, compile = read.model, read.weights, read.compile
    model = build_model(model_spec(spec))
    assert list(weights) == list(model.keras_weights())  # Keras's get_weights() order
    for ours, theirs in zip(weights.values(), keras_model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    model.load_keras_weights(weights)
    inputs = sample_inputs(model)
    for expected, got in zip(
        keras_predict(keras_model, inputs), predict(model, inputs), strict=True
    ):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    if keras_model.compiled and kind != "weights.h5":
        assert compile is not None
        theirs = keras_model.get_compile_config()
        assert compile["optimizer"]["type"] == type(keras_model.optimizer).__name__
        assert compile["optimizer"]["learning_rate"] == float(
            str(np.float32(keras_model.optimizer.learning_rate))
        )
        loss = theirs["loss"] if kind == "keras" else compile["loss"]
        assert compile["loss"] == loss and compile["loss_weights"] == theirs["loss_weights"]
    else:
        assert compile is None


def test_read_and_written_again_is_the_same(tmp_path: Path) -> None:
    """model, compile and weights read from a file, written again and read again: the same."""
    path = save(tmp_path, "two_inputs_two_outputs", "keras", COMPILES["two_inputs_two_outputs"])
    first = files.read_keras(path)
    again = tmp_path / "again.keras"
    files.write_keras(
        again,
        first.model,
        first.weights,
        compile=first.compile,
        shapes=shapes_of(model_spec(first.model)),
    )
    second = files.read_keras(again)
    assert second.model == first.model and second.compile == first.compile
    assert list(second.weights) == list(first.weights)
    assert all(np.array_equal(second.weights[k], v) for k, v in first.weights.items())
    assert CompileSpec.model_validate(first.compile) == CompileSpec.model_validate(
        COMPILES["two_inputs_two_outputs"]
    )


def tf_keras2_h5(path: Path) -> dict[str, np.ndarray]:
    """A legacy `.h5` as tf.keras 2.15's `model.save("m.h5")` lays it out: its JSON (as
    `tfkeras2_mlp.json` holds it), `keras_version` 2.15.0, weights named `dense/kernel:0`,
    optimizer `Custom>Adam` and metrics as `MeanMetricWrapper`s."""
    config = json.loads(
        (Path(__file__).parents[1] / "data" / "keras" / "tfkeras2_mlp.json").read_text()
    )
    rng = np.random.default_rng(4)
    weights = {
        "dense/kernel": rng.normal(0, 0.05, (784, 512)).astype(np.float32),
        "dense/bias": rng.normal(0, 0.05, (512,)).astype(np.float32),
        "dense_1/kernel": rng.normal(0, 0.05, (512, 10)).astype(np.float32),
        "dense_1/bias": rng.normal(0, 0.05, (10,)).astype(np.float32),
    }
    accuracy = {"name": "accuracy", "dtype": "float32", "fn": "categorical_accuracy"}
    adam = {"name": "Adam", "weight_decay": None, "clipnorm": None, "global_clipnorm": None}
    adam |= {"clipvalue": None, "use_ema": False, "ema_momentum": 0.99, "jit_compile": False}
    adam |= {"ema_overwrite_frequency": None, "is_legacy_optimizer": False}
    adam |= {"learning_rate": 0.0010000000474974513, "beta_1": 0.9, "beta_2": 0.999}
    adam |= {"epsilon": 1e-07, "amsgrad": False}
    training = {
        "loss": "categorical_crossentropy",
        "metrics": [[{"class_name": "MeanMetricWrapper", "config": accuracy}]],
        "weighted_metrics": None,
        "loss_weights": None,
        "optimizer_config": {"class_name": "Custom>Adam", "config": adam},
    }
    with h5py.File(path, "w") as h5:
        h5.attrs.update(keras_version="2.15.0", backend="tensorflow")
        h5.attrs["model_config"] = json.dumps(config).encode()
        h5.attrs["training_config"] = json.dumps(training).encode()
        group = h5.create_group("model_weights")
        group.attrs.update(
            layer_names=[b"dense", b"dropout", b"dense_1"],
            backend=b"tensorflow",
            keras_version=b"2.15.0",
        )
        for layer in ("dense", "dropout", "dense_1"):
            names = [f"{layer}/{w}:0" for w in ("kernel", "bias")] if layer != "dropout" else []
            group.create_group(layer).attrs["weight_names"] = [n.encode() for n in names]
            for name in names:
                group[layer].create_dataset(name, data=weights[name.removesuffix(":0")])
    return weights


def test_tf_keras2_h5_files_are_read(tmp_path: Path) -> None:
    weights = tf_keras2_h5(tmp_path / "tf2.h5")
    read = files.read_h5(tmp_path / "tf2.h5")
    assert read.compile is not None
    assert CompileSpec.model_validate(read.compile) == CompileSpec.model_validate(
        {"optimizer": "adam", "loss": "categorical_crossentropy", "metrics": ["accuracy"]}
    )
    assert list(read.weights) == list(weights)
    assert all(np.array_equal(read.weights[k], v) for k, v in weights.items())
    model = build_model(model_spec(read.model))
    model.load_keras_weights(read.weights)
    x = sample_inputs(model)[0]  # relu(x·W + b), Dropout off, then softmax(h·W + b)
    hidden = np.maximum(x @ weights["dense/kernel"] + weights["dense/bias"], 0)
    logits = hidden @ weights["dense_1/kernel"] + weights["dense_1/bias"]
    expected = np.exp(logits - logits.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(predict(model, [x])[0], expected, rtol=1e-5, atol=1e-6)


# -- what is refused -----------------------------------------------------------------------------


def test_lambda_layers_are_refused_with_the_reason(tmp_path: Path) -> None:
    keras = keras_or_skip()
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2), keras.layers.Dense(1)]
    )
    model.save(tmp_path / "lambda.keras")
    model.save(tmp_path / "lambda.h5")
    for path in ("lambda.keras", "lambda.h5"):
        with pytest.raises(SpecError, match="Lambda.*marshalled bytecode.*never runs"):
            files.load_model(tmp_path / path)


def test_custom_classes_are_refused(tmp_path: Path) -> None:
    keras = keras_or_skip()

    @keras.saving.register_keras_serializable(package="my_package")
    class Doubling(keras.layers.Layer):  # type: ignore[misc]
        def call(self, x: Any) -> Any:
            return x * 2

    keras.Sequential([keras.Input((3,)), Doubling(), keras.layers.Dense(1)]).save(
        tmp_path / "custom.keras"
    )
    with pytest.raises(SpecError, match="custom Keras objects are not supported.*Doubling"):
        files.read_keras(tmp_path / "custom.keras")


def test_non_numeric_weights_and_links_are_refused(tmp_path: Path) -> None:
    spec, _, weights = trained("mlp")
    path = tmp_path / "m.weights.h5"
    files.write_weights(path, spec, weights)
    with h5py.File(path, "a") as h5:
        del h5["layers/dense/vars/0"]
        h5["layers/dense/vars/0"] = np.array([b"pickled?"], dtype=object)
    with pytest.raises(SpecError, match="not numbers; refused"):
        files.read_weights(path, spec)
    with h5py.File(path, "a") as h5:
        del h5["layers/dense/vars/0"]
        h5["layers/dense/vars/0"] = h5py.SoftLink("/layers/dense/vars/1")
    with pytest.raises(SpecError, match="SoftLink"):
        files.read_weights(path, spec)


def test_sizes_are_capped(tmp_path: Path) -> None:
    path = save(tmp_path, "mlp", "keras")
    with pytest.raises(PayloadTooLarge, match="config.json declares"):
        files.read_keras(path, limits=files.Limits(max_config_bytes=1000))
    with pytest.raises(PayloadTooLarge, match="more than 1000 bytes, the limit"):
        files.read_keras(path, limits=files.Limits(max_weights_bytes=1000))
    with pytest.raises(PayloadTooLarge, match="limit of 100 bytes for one weight"):
        files.load_model(save(tmp_path, "mlp", "h5"), limits=files.Limits(max_weight_bytes=100))
    with pytest.raises(PayloadTooLarge, match="the file holds .* more than the limit of 1000"):
        files.read_h5(save(tmp_path, "mlp", "h5"), limits=files.Limits(max_file_bytes=1000))
    bomb = tmp_path / "bomb.keras"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info)
            out.writestr(
                info.filename, data + b" " * 10_000_000 if info.filename == "config.json" else data
            )
    with pytest.raises(PayloadTooLarge, match="expanding at most 100 times"):
        files.read_keras(bomb)


def test_files_that_are_not_keras_models_are_named_so(tmp_path: Path) -> None:
    (tmp_path / "x.keras").write_bytes(b"not a zip")
    with pytest.raises(SpecError, match="not a .keras archive"):
        files.read_keras(tmp_path / "x.keras")
    keras = keras_or_skip()
    from keras.src.saving import saving_lib

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    saving_lib.save_model(model, tmp_path / "npz.keras", weights_format="npz")
    with pytest.raises(SpecError, match="saved as .npz are not supported"):
        files.read_keras(tmp_path / "npz.keras")
    with pytest.raises(SpecError, match="holds no model"):
        files.load_model(tmp_path / "m.weights.h5")


def test_weights_that_are_not_the_models_are_named(tmp_path: Path) -> None:
    spec, _, weights = trained("mlp")
    weights["dense/gamma"] = weights.pop("dense/bias")
    with pytest.raises(SpecError) as raised:
        files.write_keras(tmp_path / "m.keras", spec, weights)
    assert [e.msg for e in raised.value.errors] == [
        "'dense/bias' is missing",
        "'dense/gamma' is not a weight of this model (its weights: dense/kernel, dense/bias, "
        "dense_1/kernel, dense_1/bias)",
    ]
    spec, _, weights = trained("convnet")
    path = tmp_path / "conv.weights.h5"
    files.write_weights(path, spec, weights)
    with pytest.raises(
        SpecError, match="layer 'dense_1': the file has no weights at 'layers/dense_1"
    ):
        files.read_weights(path, spec_of("mlp"))


def test_file_objects_work_as_paths_do() -> None:
    spec, _, weights = trained("mlp")
    for kind in FORMATS:
        buffer = io.BytesIO()
        files.save_model(buffer, spec, weights, compile=COMPILE, format=kind)
        buffer.seek(0)
        read = (
            files.read_weights(buffer, spec)
            if kind == "weights.h5"
            else files.load_model(buffer, format=kind).weights
        )
        assert all(np.array_equal(read[k], v) for k, v in weights.items())


def test_reading_and_writing_needs_neither_torch_nor_h5py_at_import() -> None:
    # Only these modules and what they import (not the SDK's `cornu/__init__.py`).
    code = (
        "import sys, types; sdk = types.ModuleType('cornu'); sdk.__path__ = ['cornu']; "
        "sys.modules['cornu'] = sdk; "
        "import cornu.core.spec.keras_files, cornu.core.spec.keras_config; "
        "print('torch' in sys.modules, 'h5py' in sys.modules)"
    )
    root = Path(__file__).parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.split() == ["False", "False"]


def test_keras_2_13_weights_files_are_read(tmp_path: Path) -> None:
    """Keras 2.13's `.keras` files name the layers' container `_layer_checkpoint_dependencies`
    (Keras 3 reads them too: `H5IOStore.get`)."""
    spec, _, weights = trained("bidirectional")
    path = tmp_path / "m.weights.h5"
    files.write_weights(path, spec, weights)
    with h5py.File(path, "a") as h5:
        h5.move("layers", "_layer_checkpoint_dependencies")
    read = files.read_weights(path, spec)
    assert all(np.array_equal(read[k], v) for k, v in weights.items())
