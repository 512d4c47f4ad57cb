"""Keras's own files through the API: `GET /v1/jobs/{id}/export?format=keras|h5` gives a file
Keras 3.15 loads and that predicts what the service predicts; `POST /v1/models/import` takes
a file Keras saved, and the model continues training on the service (fine-tuned, exported
again, loaded by Keras)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.api.test_export import export, predicted, problem
from tests.core.spec.keras_zoo import keras_or_skip
from tests.helpers import upload, wait_for_job

pytestmark = pytest.mark.usefixtures("worker")

# keras.io's bidirectional LSTM text classifier, small: ids → Embedding → two
# Bidirectional LSTMs → Dense, as a functional model.
BIDIRECTIONAL = {
    "type": "functional",
    "inputs": [{"name": "ids", "shape": [None], "dtype": "int32"}],
    "layers": [
        {"name": "emb", "type": "Embedding", "input_dim": 50, "output_dim": 8, "inputs": ["ids"]},
        {"name": "bi1", "type": "Bidirectional", "inputs": ["emb"],
         "layer": {"type": "LSTM", "units": 6, "return_sequences": True}},
        {"name": "bi2", "type": "Bidirectional", "inputs": ["bi1"],
         "layer": {"type": "LSTM", "units": 4}},
        {"name": "out", "type": "Dense", "units": 1, "activation": "sigmoid", "inputs": ["bi2"]},
    ],
    "outputs": ["out"],
}  # fmt: skip


def _train(http: httpx.Client, spec: dict[str, Any]) -> str:
    created = http.post("/v1/jobs", json=spec)
    assert created.status_code == 201, created.text
    job = wait_for_job(http, created.json()["id"])
    assert job["status"] == "succeeded", job
    return str(job["id"])


def _text_job(http: httpx.Client, model: Any, **fit: Any) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    x = rng.integers(1, 50, (48, 12)).astype(np.int32)
    y = (x[:, :1] > 25).astype(np.float32)
    return {
        "model": model,
        "compile": {"optimizer": "adam", "loss": "binary_crossentropy", "metrics": ["accuracy"]},
        "fit": {"epochs": 1, "batch_size": 16, "seed": 0, **fit},
        "data": {"x": upload(http, x), "y": upload(http, y)},
    }


def _load(keras: Any, data: bytes, suffix: str, tmp_path: Path) -> Any:
    path = tmp_path / f"model{suffix}"
    path.write_bytes(data)
    return keras.models.load_model(path)


@pytest.mark.parametrize(("fmt", "media_type"), [("keras", "application/zip"),
                                                 ("h5", "application/x-hdf5")])  # fmt: skip
def test_keras_loads_the_export_and_predicts_what_the_service_predicts(
    http: httpx.Client, fmt: str, media_type: str, tmp_path: Path
) -> None:
    keras = keras_or_skip()
    job_id = _train(http, _text_job(http, BIDIRECTIONAL))
    data = export(http, job_id, fmt, media_type, fmt)
    model = _load(keras, data, f".{fmt}", tmp_path)
    assert model.count_params() == 50 * 8 + 2 * 4 * 6 * (8 + 6 + 1) + 2 * 4 * 4 * (12 + 4 + 1) + 9
    x = np.random.default_rng(1).integers(1, 50, (10, 17)).astype(np.int32)  # another length
    got = np.asarray(model.predict(x, verbose=0))
    assert np.abs(got - predicted(http, job_id, {"ids": x})[0]).max() <= 1e-5
    if fmt == "keras":  # Keras's own layout, written by Cornu
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert sorted(archive.namelist()) == ["config.json", "metadata.json",
                                                  "model.weights.h5"]  # fmt: skip
            config = json.loads(archive.read("config.json"))
        assert config["compile_config"]["loss"] == "binary_crossentropy"


def _keras_saved(keras: Any, tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    """A functional model built, compiled, trained and saved by Keras itself; its input
    batch and Keras's predictions on it."""
    keras.utils.set_random_seed(3)
    inputs = keras.Input(shape=(10, 3), name="series")
    h = keras.layers.Bidirectional(keras.layers.GRU(5, return_sequences=True))(inputs)
    h = keras.layers.GlobalAveragePooling1D()(h)
    out = keras.layers.Dense(2, activation="softmax", name="head")(h)
    model = keras.Model(inputs, out)
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["acc"])
    rng = np.random.default_rng(2)
    x = rng.normal(size=(32, 10, 3)).astype(np.float32)
    y = rng.integers(0, 2, 32)
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "laptop.keras"
    model.save(path)
    return path, x, np.asarray(model.predict(x, verbose=0))


def test_a_keras_saved_model_is_imported_fine_tuned_and_exported_again(
    http: httpx.Client, tmp_path: Path
) -> None:
    keras = keras_or_skip()
    path, x, keras_predictions = _keras_saved(keras, tmp_path)
    response = http.post("/v1/models/import", files={"file": ("laptop.keras", path.read_bytes())})
    assert response.status_code == 200, response.text
    imported = response.json()
    assert imported["format"] == "keras"
    assert imported["summary"]["total_params"] == keras.models.load_model(path).count_params()
    assert imported["compile"]["loss"] == "sparse_categorical_crossentropy"
    weights = imported["initial_weights"]  # Cornu's names: `<layer>/<weight>`, as summary
    assert (
        len(weights) == len(keras.models.load_model(path).weights) == 2 * 3 + 2
    )  # two GRUs, the head
    assert "head/kernel" in weights
    y = np.random.default_rng(4).integers(0, 2, 32)
    spec = {
        "model": imported["model"],
        "compile": imported["compile"],
        "data": {"x": upload(http, x), "y": upload(http, y)},
    }
    # Before training, the service's model is Keras's: the same predictions.
    start = _train(http, {**spec, "fit": {"epochs": 0, "initial_weights":
                                          imported["initial_weights"]}})  # fmt: skip
    assert np.abs(predicted(http, start, {"series": x})[0] - keras_predictions).max() <= 1e-5
    fit = {"epochs": 2, "batch_size": 8, "initial_weights": imported["initial_weights"]}
    tuned = _train(http, {**spec, "fit": fit})
    model = _load(keras, export(http, tuned, "keras", "application/zip", "keras"), ".keras",
                  tmp_path)  # fmt: skip
    got = np.asarray(model.predict(x, verbose=0))
    assert np.abs(got - predicted(http, tuned, {"series": x})[0]).max() <= 1e-5
    assert np.abs(got - keras_predictions).max() > 1e-4  # it did train on


def test_an_h5_file_is_imported_too(http: httpx.Client, tmp_path: Path) -> None:
    keras = keras_or_skip()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"),
                              keras.layers.Dense(1)])  # fmt: skip
    path = tmp_path / "m.h5"
    model.save(path)
    response = http.post("/v1/models/import", files={"file": ("m.h5", path.read_bytes())})
    assert response.status_code == 200, response.text
    assert response.json()["format"] == "h5"
    assert response.json()["summary"]["total_params"] == 4 * 3 + 3 + 3 + 1
    assert response.json()["compile"] is None


def test_what_is_not_a_keras_model_file_is_a_problem(http: httpx.Client, tmp_path: Path) -> None:
    junk = http.post("/v1/models/import", files={"file": ("m.keras", b"not a model")})
    assert "HDF5" in problem(junk, 422)["detail"]
    keras = keras_or_skip()
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs))
    path = tmp_path / "code.keras"
    model.save(path)
    refused = http.post("/v1/models/import", files={"file": ("code.keras", path.read_bytes())})
    assert "Lambda" in problem(refused, 422)["detail"]
    missing = http.post("/v1/models/import", data={"other": "x"})
    assert problem(missing, 422)["errors"][0]["loc"] == ["file"]


def test_export_of_a_job_without_a_trained_model_is_404(http: httpx.Client) -> None:
    response = http.get(
        "/v1/jobs/job_01M8NDTDVEJXS6PFF8TV63C4H0/export", params={"format": "keras"}
    )
    problem(response, 404)


def test_the_sdk_client_imports_a_file_and_downloads_keras_files(
    api_url: str, new_api_key: Any, tmp_path: Path
) -> None:
    import cornu

    keras = keras_or_skip()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    model.save(tmp_path / "m.keras")
    with cornu.Client(api_url, new_api_key()) as client:
        imported = client.import_model(tmp_path / "m.keras")
        assert imported.summary.total_params == 10
        assert imported.compile is not None and imported.compile["loss"] == "mse"  # as compiled
        x = client.upload(np.ones((4, 4), np.float32))
        y = client.upload(np.zeros((4, 2), np.float32))
        fit = {"epochs": 0, "initial_weights": imported.initial_weights}
        spec = {"model": imported.model, "compile": imported.compile, "fit": fit}
        job = client.submit({**spec, "data": {"x": x.id, "y": y.id}})
        assert client.wait(job.id, timeout_s=60).status.value == "succeeded"
        path = client.download(job.id, tmp_path / "again.h5", format="h5")
    again = keras.models.load_model(path)
    for got, want in zip(again.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)


def test_a_trained_model_with_normalization_and_a_bidirectional_lstm_goes_to_keras(
    http: httpx.Client, tmp_path: Path
) -> None:
    """The issue's case: Normalization (adapted statistics, as weights) → Bidirectional
    LSTM → Dense, trained on the service, exported as .keras: Keras 3.15 predicts what
    the service predicts, on sequences of another length than the training ones."""
    keras = keras_or_skip()
    model = {
        "type": "functional",
        "inputs": [{"name": "series", "shape": [None, 3]}],
        "layers": [
            {"name": "norm", "type": "Normalization", "axis": -1, "inputs": ["series"]},
            {"name": "bi", "type": "Bidirectional", "inputs": ["norm"],
             "layer": {"type": "LSTM", "units": 4}},
            {"name": "out", "type": "Dense", "units": 1, "inputs": ["bi"]},
        ],
        "outputs": ["out"],
    }  # fmt: skip
    rng = np.random.default_rng(5)
    x = (rng.normal(size=(32, 6, 3)) * [1.0, 10.0, 0.1] + [0.0, 5.0, -2.0]).astype(np.float32)
    statistics = {  # what adapt() computes (count: a scalar, sent as one element)
        "norm/mean": x.reshape(-1, 3).mean(0),
        "norm/variance": x.reshape(-1, 3).var(0),
        "norm/count": np.array([0], np.int32),
    }
    spec = {
        "model": model,
        "compile": {"optimizer": "adam", "loss": "mse"},
        "data": {"x": upload(http, x), "y": upload(http, x[:, :1, 0])},
        "fit": {"epochs": 1, "batch_size": 8, "seed": 0,
                "initial_weights": {k: upload(http, v) for k, v in statistics.items()}},
    }  # fmt: skip
    job_id = _train(http, spec)
    exported = _load(keras, export(http, job_id, "keras", "application/zip", "keras"),
                     ".keras", tmp_path)  # fmt: skip
    np.testing.assert_allclose(exported.get_layer("norm").mean.numpy().ravel(),
                               statistics["norm/mean"], rtol=1e-6)  # fmt: skip
    other = rng.normal(size=(5, 9, 3)).astype(np.float32)
    got = np.asarray(exported.predict(other, verbose=0))
    assert np.abs(got - predicted(http, job_id, {"series": other})[0]).max() <= 1e-5
