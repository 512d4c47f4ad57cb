"""GET /v1/jobs/{id}/export: models trained through the service, exported and run by
onnxruntime and torch.jit.load, give what POST /v1/jobs/{id}/predict gives; what cannot
be exported, unknown formats and jobs without a trained model are problems."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import onnxruntime
import pytest
import torch

from cornu.core.store import Store, keys
from tests.helpers import upload, wait_for_job

pytestmark = [
    pytest.mark.usefixtures("worker"),
    pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning"),
]

CONVNET: list[dict[str, Any]] = [
    {
        "type": "Conv2D",
        "filters": 8,
        "kernel_size": 3,
        "activation": "relu",
        "input_shape": [12, 12, 1],
    },
    {"type": "MaxPooling2D", "pool_size": 2},
    {"type": "Conv2D", "filters": 16, "kernel_size": 3},
    {"type": "Flatten"},
    {"type": "Dense", "units": 10, "activation": "softmax"},
]
TWO_IN_TWO_OUT = {
    "inputs": [{"name": "a", "shape": [4]}, {"name": "b", "shape": [3]}],
    "layers": [
        {"name": "da", "type": "Dense", "units": 5, "activation": "relu", "inputs": ["a"]},
        {"name": "db", "type": "Dense", "units": 5, "inputs": ["b"]},
        {"name": "sum", "type": "Add", "inputs": ["da", "db"]},
        {"name": "cat", "type": "Concatenate", "inputs": ["da", "db"]},
        {"name": "cls", "type": "Dense", "units": 3, "activation": "softmax", "inputs": ["sum"]},
        {"name": "yes", "type": "Dense", "units": 1, "activation": "sigmoid", "inputs": ["cat"]},
    ],
    "outputs": ["cls", "yes"],
}


def lstm(mask_zero: bool = False) -> list[dict[str, Any]]:
    return [
        {
            "type": "Embedding",
            "input_dim": 100,
            "output_dim": 8,
            "mask_zero": mask_zero,
            "input_shape": [7],
        },
        {"type": "LSTM", "units": 8},
        {"type": "Dense", "units": 1, "activation": "sigmoid"},
    ]


@dataclass(frozen=True)
class Case:
    """A model to train through the service, its loss, and random data for it."""

    model: dict[str, Any]
    loss: str | dict[str, str]
    x: Callable[[np.random.Generator, int], dict[str, np.ndarray]]
    y: Callable[[dict[str, np.ndarray], np.random.Generator], dict[str, np.ndarray]]


def sequential(layers: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "sequential", "layers": layers}


def ids(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    return {"input_layer": rng.integers(0, 100, (n, 7))}


def halves(x: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"dense": (x["input_layer"][:, :1] >= 50) * 1.0}


CASES = {
    "convnet": Case(
        sequential(CONVNET),
        "sparse_categorical_crossentropy",
        lambda rng, n: {"input_layer": rng.normal(size=(n, 12, 12, 1)).astype(np.float32)},
        lambda x, rng: {"dense": rng.integers(0, 10, len(x["input_layer"]))},
    ),
    "two_in_two_out": Case(
        TWO_IN_TWO_OUT,
        {"cls": "sparse_categorical_crossentropy", "yes": "binary_crossentropy"},
        lambda rng, n: {
            "a": rng.normal(size=(n, 4)).astype(np.float32),
            "b": rng.normal(size=(n, 3)).astype(np.float32),
        },
        lambda x, rng: {"cls": rng.integers(0, 3, len(x["a"])), "yes": (x["a"][:, :1] > 0) * 1.0},
    ),
    "lstm": Case(sequential(lstm()), "binary_crossentropy", ids, halves),
    "masked_lstm": Case(sequential(lstm(mask_zero=True)), "binary_crossentropy", ids, halves),
}


def train(http: httpx.Client, case: Case, epochs: int = 2, wait: bool = True) -> str:
    """Trains `case` through the service on 64 random samples; the job's id (once it has
    succeeded, with `wait`)."""
    rng = np.random.default_rng(0)
    x = case.x(rng, 64)
    y = case.y(x, rng)
    datasets = {name: upload(http, array) for name, array in {**x, **y}.items()}
    spec = {
        "model": case.model,
        "compile": {"optimizer": "adam", "loss": case.loss},
        "fit": {"epochs": epochs, "batch_size": 16, "seed": 0},
        "data": {"x": {n: datasets[n] for n in x}, "y": {n: datasets[n] for n in y}},
    }
    created = http.post("/v1/jobs", json=spec)
    assert created.status_code == 201, created.text
    job_id = str(created.json()["id"])
    if wait:
        job = wait_for_job(http, job_id)
        assert job["status"] == "succeeded", job
    return job_id


def predicted(http: httpx.Client, job_id: str, x: dict[str, np.ndarray]) -> list[np.ndarray]:
    """What POST /predict gives for the inline batch `x`, one array per output."""
    response = http.post(
        f"/v1/jobs/{job_id}/predict", json={"inputs": {n: a.tolist() for n, a in x.items()}}
    )
    assert response.status_code == 200, response.text
    out = response.json()["predictions"]
    return [np.array(v) for v in out.values()] if isinstance(out, dict) else [np.array(out)]


def export(http: httpx.Client, job_id: str, fmt: str, media_type: str, extension: str) -> bytes:
    response = http.get(f"/v1/jobs/{job_id}/export", params={"format": fmt})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media_type
    disposition = f'attachment; filename="{job_id}.{extension}"'
    assert response.headers["content-disposition"] == disposition
    return response.content


def max_difference(got: list[np.ndarray], want: list[np.ndarray]) -> float:
    assert [g.shape for g in got] == [w.shape for w in want]
    return max(float(np.abs(g - w).max()) for g, w in zip(got, want, strict=True))


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("name", ["convnet", "lstm"])
def test_onnx_export_matches_predict(http: httpx.Client, name: str) -> None:
    case = CASES[name]
    job_id = train(http, case)
    model = export(http, job_id, "onnx", "application/onnx", "onnx")
    session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input_layer"]
    assert [o.name for o in session.get_outputs()] == ["dense"]
    x = case.x(np.random.default_rng(1), 16)
    got = session.run(None, x)
    assert max_difference(got, predicted(http, job_id, x)) <= 1e-4


@pytest.mark.parametrize("name", ["convnet", "two_in_two_out"])
def test_torchscript_export_matches_predict(http: httpx.Client, name: str) -> None:
    case = CASES[name]
    job_id = train(http, case)
    exported = export(http, job_id, "torchscript", "application/octet-stream", "pt")
    module = torch.jit.load(io.BytesIO(exported))
    x = case.x(np.random.default_rng(1), 16)
    with torch.no_grad():
        out = module(*(torch.from_numpy(a) for a in x.values()))  # in the model's input order
    got = [o.numpy() for o in (out if isinstance(out, tuple) else (out,))]
    assert max_difference(got, predicted(http, job_id, x)) <= 1e-5


def test_safetensors_export_is_the_weights(http: httpx.Client) -> None:
    job_id = train(http, CASES["convnet"], epochs=1)
    exported = export(http, job_id, "safetensors", "application/octet-stream", "safetensors")
    assert exported == http.get(f"/v1/jobs/{job_id}/weights").content


def test_an_export_is_built_once_and_kept_in_the_blob_store(
    http: httpx.Client, redis_url: str
) -> None:
    job_id = train(http, CASES["convnet"], epochs=1)
    first = export(http, job_id, "torchscript", "application/octet-stream", "pt")
    store = Store.from_url(redis_url)
    try:
        kept = json.loads(store.redis.hget(keys.job(job_id), "export:model.pt"))  # type: ignore[arg-type]
        assert kept["key"].endswith(f"/jobs/{job_id}/exports/model.pt")
        assert store.blobs.store.read(kept["key"]) == first
    finally:
        store.close()
    assert export(http, job_id, "torchscript", "application/octet-stream", "pt") == first


def test_a_masked_lstm_is_refused_with_the_reason(http: httpx.Client) -> None:
    job_id = train(http, CASES["masked_lstm"], epochs=1)
    for fmt, what in (("onnx", "ONNX"), ("torchscript", "TorchScript")):
        response = http.get(f"/v1/jobs/{job_id}/export", params={"format": fmt})
        assert problem(response, 422)["detail"].startswith(
            f"layer 'lstm' (LSTM) reads a mask (from an Embedding with mask_zero=True), "
            f"which {what} export does not support"
        )
    export(http, job_id, "safetensors", "application/octet-stream", "safetensors")


def test_an_unknown_format_lists_the_valid_ones(http: httpx.Client) -> None:
    job_id = train(http, CASES["convnet"], epochs=1)
    response = http.get(f"/v1/jobs/{job_id}/export", params={"format": "pb"})
    assert problem(response, 422)["detail"] == (
        "query.format: Input should be 'keras', 'h5', 'onnx', 'torchscript' or 'safetensors'"
    )
    missing = http.get(f"/v1/jobs/{job_id}/export")
    assert problem(missing, 422)["detail"] == "query.format: 'format' is required"


def test_a_job_without_a_trained_model_is_404(http: httpx.Client) -> None:
    nan_x = np.full((8, 12, 12, 1), np.nan, dtype=np.float32)
    spec = {
        "model": sequential(CONVNET),
        "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy"},
        "data": {"x": upload(http, nan_x), "y": upload(http, np.zeros(8, dtype=np.int64))},
    }
    failed = wait_for_job(http, http.post("/v1/jobs", json=spec).json()["id"])
    assert failed["status"] == "failed"
    unfinished = train(http, CASES["convnet"], epochs=10_000, wait=False)  # queued or running
    for job_id in (str(failed["id"]), unfinished):
        for fmt in ("onnx", "torchscript", "safetensors"):
            response = http.get(f"/v1/jobs/{job_id}/export", params={"format": fmt})
            assert f"job '{job_id}' has no" in problem(response, 404)["detail"]
    assert http.post(f"/v1/jobs/{unfinished}/cancel").status_code in (200, 202)


def test_another_tenants_job_is_404(
    http: httpx.Client, api_url: str, new_api_key: Callable[[], str]
) -> None:
    job_id = train(http, CASES["convnet"], epochs=1)
    headers = {"Authorization": f"Bearer {new_api_key()}"}
    with httpx.Client(base_url=api_url, headers=headers) as other:
        for fmt in ("onnx", "torchscript", "safetensors"):
            response = other.get(f"/v1/jobs/{job_id}/export", params={"format": fmt})
            assert problem(response, 404)["detail"] == f"no job '{job_id}'"
