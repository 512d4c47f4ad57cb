"""The book's Jena-climate code (Deep Learning with Python, ch. 10), small, against the live
stack: `timeseries_dataset_from_array` sends the series once and the worker cuts the
windows; over HTTP, a series too short for one window is a 422 naming the numbers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import numpy as np
import pytest

import cornu
from cornu import layers, utils
from tests.conftest import Service, Stack
from tests.helpers import upload, wait_for_job


@pytest.fixture
def connected(api_url: str, new_api_key: Callable[[], str]) -> Iterator[cornu.Client]:
    client = cornu.connect(api_url, new_api_key())
    yield client
    client.close()


def climate(steps: int = 1500, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A standardised (steps, 4) series whose first column cycles daily (144 steps), and
    that column as the temperature to forecast."""
    rng = np.random.default_rng(seed)
    temperature = np.sin(2 * np.pi * np.arange(steps) / 144) + 0.05 * rng.normal(size=steps)
    raw_data = np.stack([temperature, *rng.normal(size=(3, steps))], axis=1)
    return raw_data.astype(np.float32), temperature.astype(np.float32)


def test_the_books_jena_code_trains_from_one_uploaded_series(
    connected: cornu.Client, worker: Service
) -> None:
    raw_data, temperature = climate()
    posted: list[int] = []
    submitted: list[dict[str, Any]] = []

    def record(request: httpx.Request) -> None:
        if request.method == "POST" and request.url.path == "/v1/datasets":
            posted.append(1)
        if request.method == "POST" and request.url.path == "/v1/jobs":
            submitted.append(json.loads(request.content))

    connected._http.event_hooks["request"].append(record)
    # The book's code, with its sizes scaled down (120 steps every 6 → 24 every 3).
    num_train_samples, num_val_samples = 900, 300
    sampling_rate, sequence_length, batch_size = 3, 24, 64
    delay = sampling_rate * (sequence_length + 12 - 1)
    common: dict[str, Any] = {
        "sampling_rate": sampling_rate,
        "sequence_length": sequence_length,
        "shuffle": True,
        "batch_size": batch_size,
    }
    train_dataset = utils.timeseries_dataset_from_array(
        raw_data[:-delay],
        targets=temperature[delay:],
        start_index=0,
        end_index=num_train_samples,
        **common,
    )
    val_dataset = utils.timeseries_dataset_from_array(
        raw_data[:-delay],
        targets=temperature[delay:],
        start_index=num_train_samples,
        end_index=num_train_samples + num_val_samples,
        **common,
    )
    inputs = cornu.Input(shape=(sequence_length, raw_data.shape[-1]))
    x = layers.LSTM(16)(inputs)
    outputs = layers.Dense(1)(x)
    model = cornu.Model(inputs, outputs)
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    history = model.fit(train_dataset, epochs=4, validation_data=val_dataset, verbose=0)
    assert isinstance(history, cornu.History)

    assert sorted(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    assert len(history.history["loss"]) == 4
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert posted == [1, 1]  # the series and the targets, once for both datasets
    (spec,) = submitted
    data = spec["data"]
    assert data["type"] == "timeseries" and data["sequence_length"] == sequence_length
    assert spec["fit"]["validation_data"]["start_index"] == num_train_samples
    assert data["seed"] == train_dataset._made[1]["seed"]  # the local order's seed


def test_a_series_too_short_for_one_window_is_a_422(http: httpx.Client, worker: Service) -> None:
    series = upload(http, np.zeros((100, 14), dtype=np.float32))
    targets = upload(http, np.zeros(100, dtype=np.float32))
    spec: dict[str, Any] = {
        "model": {
            "layers": [
                {"type": "Input", "shape": [120, 14]},
                {"type": "LSTM", "units": 4},
                {"type": "Dense", "units": 1},
            ]
        },
        "compile": {"loss": "mse"},
        "data": {
            "type": "timeseries",
            "data": series,
            "targets": targets,
            "sequence_length": 120,
            "sampling_rate": 6,
        },
    }
    response = http.post("/v1/jobs", json=spec)
    assert response.status_code == 422, response.text
    text = response.text
    assert "sequence_length=120" in text and "715 steps" in text and "100" in text
    spec["data"] |= {"sequence_length": 10}
    response = http.post("/v1/jobs", json=spec)
    assert response.status_code == 422 and "(10, 14)" in response.text  # the window shape
    spec["model"]["layers"][0]["shape"] = [10, 14]
    response = http.post("/v1/jobs", json=spec)
    assert response.status_code in (200, 201, 202), response.text
    assert wait_for_job(http, response.json()["id"])["status"] == "succeeded"


def test_evaluate_and_predict_send_the_source_and_match_the_windows(
    connected: cornu.Client, worker: Service
) -> None:
    """evaluate and predict on a TimeseriesDataset send the source (the series once);
    the worker's windows give what the same model gives on the windows themselves,
    one prediction per window in the dataset's order (shuffled: its numpy order)."""
    raw_data, temperature = climate(steps=700)
    posted: list[str] = []
    sources: list[dict[str, Any]] = []

    def record(request: httpx.Request) -> None:
        if request.method == "POST" and request.url.path == "/v1/datasets":
            posted.append(request.url.path)
        if request.method == "POST" and request.url.path.endswith(("/evaluate", "/predict")):
            sources.append(json.loads(request.content)["x"])

    connected._http.event_hooks["request"].append(record)
    sequence_length, sampling_rate = 12, 2
    delay = sampling_rate * (sequence_length + 6 - 1)
    common: dict[str, Any] = {
        "targets": temperature[delay:],
        "sequence_length": sequence_length,
        "sampling_rate": sampling_rate,
        "batch_size": 32,
        "start_index": 100,
    }
    ordered = utils.timeseries_dataset_from_array(raw_data[:-delay], **common)
    shuffled = utils.timeseries_dataset_from_array(
        raw_data[:-delay], shuffle=True, seed=5, **common
    )
    inputs = cornu.Input(shape=(sequence_length, raw_data.shape[-1]))
    model = cornu.Model(inputs, layers.Dense(1)(layers.LSTM(8)(inputs)))
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])

    predicted = model.predict(ordered, verbose=0)
    predicted_shuffled = model.predict(shuffled, verbose=0)
    logs = model.evaluate(ordered, verbose=0, return_dict=True)
    assert len(posted) == 2  # the series and the targets, once for all three
    assert [s["type"] for s in sources] == ["timeseries"] * 3
    assert sources[1]["shuffle"] is True and sources[1]["seed"] == 5

    def materialised(dataset: Any) -> tuple[np.ndarray, np.ndarray]:
        batches = list(dataset)
        return np.concatenate([x for x, _ in batches]), np.concatenate([y for _, y in batches])

    windows, targets = materialised(ordered)
    assert predicted.shape == (len(windows), 1)  # one row per window
    np.testing.assert_allclose(predicted, model.predict(windows, verbose=0), rtol=1e-4, atol=1e-5)
    windows_shuffled, _ = materialised(shuffled)
    assert not np.array_equal(windows_shuffled, windows)
    np.testing.assert_allclose(
        predicted_shuffled, model.predict(windows_shuffled, verbose=0), rtol=1e-4, atol=1e-5
    )
    expected = model.evaluate(windows, targets, batch_size=32, verbose=0, return_dict=True)
    assert logs.keys() == expected.keys()
    for name, value in expected.items():
        assert logs[name] == pytest.approx(value, rel=1e-4), name


def test_evaluate_and_predict_requests_with_a_source_over_http(
    http: httpx.Client, worker: Service
) -> None:
    """The API's side: evaluate takes the source's targets (and refuses others), predict
    answers one row per window; a stateful model takes the source's batch size."""
    series_array = np.random.default_rng(1).normal(size=(40, 2)).astype(np.float32)
    series, targets = upload(http, series_array), upload(http, np.arange(40, dtype=np.float32))
    spec: dict[str, Any] = {
        "model": {
            "layers": [
                {"type": "Input", "shape": [5, 2], "batch_size": 4},
                {"type": "LSTM", "units": 3, "stateful": True},
                {"type": "Dense", "units": 1},
            ]
        },
        "compile": {"loss": "mse"},
        "fit": {"epochs": 0},
    }
    job = http.post("/v1/jobs", json=spec)
    assert job.status_code in (200, 201), job.text
    job_id = job.json()["id"]
    assert wait_for_job(http, job_id)["status"] == "succeeded"
    source: dict[str, Any] = {
        "type": "timeseries",
        "data": series,
        "sequence_length": 5,
        "batch_size": 4,
        "end_index": 36,  # 32 windows: 8 full batches of 4
    }
    answer = http.post(f"/v1/jobs/{job_id}/predict", json={"x": source, "batch_size": 7})
    assert answer.status_code == 200, answer.text
    predictions = np.asarray(answer.json()["predictions"])
    assert predictions.shape == (32, 1)
    windows = np.stack([series_array[i : i + 5] for i in range(32)])
    # One request: the stateful LSTM carries its states from batch to batch.
    inline = {"inputs": windows.tolist(), "batch_size": 4}
    expected = http.post(f"/v1/jobs/{job_id}/predict", json=inline).json()["predictions"]
    np.testing.assert_allclose(predictions, expected, rtol=1e-5, atol=1e-6)

    url = f"/v1/jobs/{job_id}/evaluate"
    response = http.post(url, json={"x": source})
    assert response.status_code == 422 and "these windows have none" in response.text
    response = http.post(url, json={"x": source | {"targets": targets}, "y": targets})
    assert response.status_code == 422 and "leave out y" in response.text
    response = http.post(url, json={"x": source | {"targets": targets, "end_index": 34}})
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["loc"] == ["x", "batch_size"]
    assert "data holds 30 samples: the last batch would hold 2" in error["msg"]
    response = http.post(url, json={"x": source | {"targets": targets}})
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"loss"}


def test_predict_on_windows_past_the_answer_limit_goes_in_parts(
    make_stack: Callable[..., Stack],
) -> None:
    """More predictions than one answer holds: the windows are drawn and asked for in
    parts, as arrays are, and still come one row per window in order."""
    stack = make_stack(CORNU_MAX_PREDICT_VALUES="100")
    with stack.client() as http:
        client = cornu.connect(stack.api_url, http.headers["Authorization"].removeprefix("Bearer "))
    raw_data, temperature = climate(steps=300)
    dataset = utils.timeseries_dataset_from_array(
        raw_data, temperature, sequence_length=10, batch_size=32
    )
    inputs = cornu.Input(shape=(10, raw_data.shape[-1]))
    model = cornu.Model(inputs, layers.Dense(1)(layers.Flatten()(inputs)))
    predicted = model.predict(dataset, verbose=0)
    windows = np.concatenate([x for x, _ in dataset])
    kernel, bias = model.get_weights()
    assert predicted.shape == (291, 1)
    expected = windows.reshape(len(windows), -1) @ kernel + bias
    np.testing.assert_allclose(predicted, expected, rtol=1e-4, atol=1e-5)
    client.close()
