"""POST /v1/models/summary: Keras's model.summary() as data, for every model form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

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
            {"type": "Dense", "units": 2, "input_shape": [5]},
        ]
    }
    response = http.post("/v1/models/summary", json={"model": model})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["model", "layers", 1]
    assert (
        "declares input_shape (batch, 5) but the previous layer outputs (batch, 8)"
        in response.json()["detail"]
    )


def test_an_unknown_layer_is_located_under_model(http: httpx.Client) -> None:
    response = http.post(
        "/v1/models/summary", json={"model": {"layers": [{"type": "Dence", "units": 2}]}}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["model", "layers", 0]
