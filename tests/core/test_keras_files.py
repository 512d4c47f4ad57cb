"""Keras's files as Cornu reads them: what Keras 3.15 and tf.keras 2 write reads back and
predicts the same, and what is not a model Cornu can run (Lambda layers, custom
classes, links, oversized or broken files) is refused with the reason.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from cornu.core.engine.build import build_model
from cornu.core.errors import PayloadTooLarge, SpecError
from cornu.core.spec import CompileSpec
from cornu.core.spec import keras_files as files
from cornu.core.spec.keras_config import from_keras, model_spec
from tests.core.engine.test_keras_weights import predict, sample_inputs
from tests.core.keras_files_support import (
    COMPILE,
    COMPILES,
    FORMATS,
    keras_models,
    keras_predict,
    save,
    tf_keras2_h5,
    trained,
)
from tests.core.spec.keras_zoo import (
    keras_or_skip,
    shapes_of,
    spec_of,
)


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
