"""More ways in, through the live stack: narrow data stored narrow and trained as Keras
would (cast on the worker), pandas data fitted from the SDK."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import numpy as np
import pytest

import cornu
from cornu import layers, models
from cornu.uploads import NpyStream
from tests.conftest import Service
from tests.helpers import npy_bytes, upload, wait_for_job


def multi_hot(samples: int = 96, words: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The book's IMDB encoding, small: a 0/1 row per review, label by two words."""
    rng = np.random.default_rng(seed)
    x = (rng.random((samples, words)) < 0.05).astype(np.uint8)
    y = (x[:, 3] | x[:, 7]).astype(np.uint8)
    return x, y


def imdb_spec(x: str, y: str, words: int) -> dict[str, Any]:
    return {
        "model": {"type": "sequential", "layers": [
            {"type": "Dense", "units": 16, "activation": "relu", "input_shape": [words]},
            {"type": "Dense", "units": 1, "activation": "sigmoid"}]},
        "compile": {"optimizer": "rmsprop", "loss": "binary_crossentropy", "metrics": ["accuracy"]},
        "fit": {"epochs": 3, "batch_size": 16, "seed": 0},
        "data": {"x": x, "y": y},
    }  # fmt: skip


def history_of(http: httpx.Client, spec: dict[str, Any]) -> dict[str, list[float]]:
    created = http.post("/v1/jobs", json=spec)
    assert created.status_code == 201, created.text
    job = wait_for_job(http, created.json()["id"])
    assert job["status"] == "succeeded", job["error"]
    history: dict[str, list[float]] = http.get(f"/v1/jobs/{job['id']}/metrics").json()["history"]
    return history


def test_uint8_is_stored_as_uint8_and_trains_as_float32_does(
    http: httpx.Client, worker: Service
) -> None:
    x, y = multi_hot()
    narrow = upload(http, x)
    record = http.get(f"/v1/datasets/{narrow}").json()
    assert record["dtype"] == "uint8" and record["bytes"] == len(npy_bytes(x)) == 128 + x.size
    wide = upload(http, x.astype(np.float32))
    assert http.get(f"/v1/datasets/{wide}").json()["bytes"] == 128 + 4 * x.size
    labels = upload(http, y)
    as_uint8 = history_of(http, imdb_spec(narrow, labels, x.shape[1]))
    as_float32 = history_of(http, imdb_spec(wide, upload(http, y.astype(np.float32)), 300))
    assert as_uint8["loss"] == pytest.approx(as_float32["loss"], rel=1e-6)
    assert as_uint8["accuracy"] == as_float32["accuracy"]


@pytest.fixture
def connected(api_url: str, new_api_key: Callable[[], str]) -> Iterator[cornu.Client]:
    client = cornu.connect(api_url, new_api_key())
    yield client
    client.close()


def _stored(client: cornu.Client, **arrays: Any) -> dict[str, Any]:
    """The datasets the service holds for these arrays, as fit sends them."""
    found = {k: client.find_dataset(NpyStream(v).sha256()) for k, v in arrays.items()}
    assert all(found.values()), found
    return found


def test_the_books_float64_multi_hot_goes_up_as_uint8(
    connected: cornu.Client, worker: Service
) -> None:
    x, y = multi_hot()
    model = models.Sequential([layers.Dense(16, activation="relu"), layers.Dense(1, "sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    # The book's vectorize_sequences makes float64 zeros and ones.
    history = model.fit(x.astype(np.float64), y.astype(np.float64), epochs=2, verbose=0)
    assert isinstance(history, cornu.History)
    assert len(history.history["loss"]) == 2
    stored = _stored(connected, x=x.astype(np.float64), y=y.astype(np.float64))
    assert stored["x"].dtype == "uint8" and stored["x"].bytes == 128 + x.size
    assert stored["y"].dtype == "uint8"


def test_a_dataframe_and_a_series_fit_from_the_sdk(
    connected: cornu.Client, worker: Service
) -> None:
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"rooms": rng.integers(1, 8, 120), "area": rng.normal(80, 20, 120),
                          "age": rng.normal(30, 10, 120)})  # fmt: skip
    price = pd.Series(frame["rooms"] * 10 + frame["area"] * 0.5, name="price")
    model = models.Sequential([layers.Dense(8, activation="relu"), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    history = model.fit(frame, price, epochs=3, batch_size=16, validation_split=0.2, verbose=0)
    assert isinstance(history, cornu.History)
    assert len(history.history["val_loss"]) == 3
    stored = _stored(connected, x=frame, y=price)
    # As Keras converts them: the frame's floats cast all its columns to float32, and the
    # Series is a column.
    assert stored["x"].shape == [120, 3] and stored["x"].dtype == "float32"
    assert stored["y"].shape == [120, 1]
    predicted = model.predict(frame.head(5), verbose=0)
    assert predicted.shape == (5, 1)
    assert np.isfinite(model.evaluate(frame, price, verbose=0)[0])
