"""POST /v1/models/summary: Keras's model.summary() as data, for every model form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.helpers import upload, wait_for_job

DATA = Path(__file__).parents[1] / "data" / "keras"
EXPECTED = json.loads((DATA / "expected_summaries.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_keras_json_summaries_equal_keras(http: httpx.Client, name: str) -> None:
    model = (DATA / name).read_text()  # as the string model.to_json() returns
    response = http.post("/v1/models/summary", json={"model": model})
    assert response.status_code == 200, response.text
    summary = response.json()
    expected = EXPECTED[name]
    assert summary["total_params"] == expected["total_params"]
    assert summary["trainable_params"] == expected["trainable_params"]
    got = [
        (lay["name"], lay["type"], lay["output_shape"], lay["params"]) for lay in summary["layers"]
    ]
    want = [
        (lay["name"], lay["class_name"], lay["output_shape"], lay["params"])
        for lay in expected["layers"]
    ]
    assert got == want


def test_a_native_functional_spec(http: httpx.Client) -> None:
    model: dict[str, Any] = {
        "type": "functional",
        "inputs": [{"name": "img", "shape": [28, 28, 1]}],
        "layers": [
            {"name": "c1", "type": "Conv2D", "filters": 32, "kernel_size": 3, "inputs": ["img"]},
            {"name": "flat", "type": "Flatten", "inputs": ["c1"]},
            {
                "name": "out",
                "type": "Dense",
                "units": 10,
                "activation": "softmax",
                "inputs": ["flat"],
            },
        ],
        "outputs": ["out"],
    }
    summary = http.post("/v1/models/summary", json={"model": model}).json()
    assert [(lay["name"], lay["output_shape"], lay["params"]) for lay in summary["layers"]] == [
        ("img", [28, 28, 1], 0),
        ("c1", [26, 26, 32], 320),  # Keras: Conv2D(32, 3) on 28×28×1
        ("flat", [21632], 0),
        ("out", [10], 216_330),
    ]
    assert summary["total_params"] == summary["trainable_params"] == 216_650


def test_a_shape_error_names_the_layer_and_both_shapes(http: httpx.Client) -> None:
    model = {
        "layers": [
            {"type": "Dense", "units": 8, "input_shape": [4]},
            {"type": "Reshape", "target_shape": [3, 3]},
        ]
    }
    response = http.post("/v1/models/summary", json={"model": model})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["model", "layers", 1]
    assert (
        "layer 1 'reshape' (Reshape): input (batch, 8): Reshape cannot turn (8,) (8 values per "
        "sample) into target_shape (3, 3)" in response.json()["detail"]
    )


def test_an_unknown_layer_is_located_under_model(http: httpx.Client) -> None:
    response = http.post(
        "/v1/models/summary", json={"model": {"layers": [{"type": "Dence", "units": 2}]}}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["model", "layers", 0]


def test_what_keras_would_warn_about_comes_back_with_the_summary_and_the_job(
    http: httpx.Client, worker: object
) -> None:
    # Keras 2.0's list-form Sequential with `implementation: 0` and a key tf.keras wrote.
    model = {
        "class_name": "Sequential",
        "keras_version": "2.0.8",
        "config": [
            {"class_name": "LSTM", "config": {"name": "lstm_1", "units": 4, "implementation": 0,
                                              "batch_input_shape": [None, 6, 3]}},
            {"class_name": "Dense", "config": {"name": "dense_1", "units": 1, "fused": True}},
        ],
    }  # fmt: skip
    expected = [
        "layer 'dense_1' (Dense): Keras 3.15.1 has no argument 'fused' (an older Keras wrote "
        "it); it was ignored",
        "layer 'lstm_1' (LSTM): implementation=0 is Keras 2.0's; Keras 2.1+ uses 1 in its place",
    ]
    summary = http.post("/v1/models/summary", json={"model": model}).json()
    assert summary["total_params"] == 4 * 4 * (3 + 4 + 1) + 5
    assert summary["warnings"] == expected
    x = upload(http, np.zeros((8, 6, 3), np.float32))
    y = upload(http, np.zeros((8, 1), np.float32))
    spec = {"model": model, "compile": {"optimizer": "sgd", "loss": "mse"},
            "data": {"x": x, "y": y}, "fit": {"epochs": 1}}  # fmt: skip
    response = http.post("/v1/jobs", json=spec)
    assert response.status_code == 201, response.text
    job_id = response.json()["id"]
    assert wait_for_job(http, job_id)["status"] == "succeeded"
    events = http.get(f"/v1/jobs/{job_id}/events").json()["events"]
    assert [e["text"] for e in events if e["type"] == "warning"] == expected
