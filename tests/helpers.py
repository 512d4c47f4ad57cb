"""Helpers shared by the API and integration tests."""

from __future__ import annotations

import io
import time

import httpx
import numpy as np


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def upload(http: httpx.Client, array: np.ndarray) -> str:
    response = http.post("/v1/datasets", files={"file": ("a.npy", npy_bytes(array))})
    assert response.status_code == 201, response.text
    dataset_id: str = response.json()["id"]
    return dataset_id


def wait_for_job(http: httpx.Client, job_id: str, timeout_s: float = 120) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job: dict[str, object] = http.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout_s}s: {job}")


def mlp_spec(x: str, y: str, *, features: int, classes: int, epochs: int = 3) -> dict[str, object]:
    """The issue's example JobSpec, sized for small data."""
    return {
        "model": {
            "type": "sequential",
            "layers": [
                {"type": "Dense", "units": 16, "activation": "relu", "input_shape": [features]},
                {"type": "Dropout", "rate": 0.1},
                {"type": "Dense", "units": classes, "activation": "softmax"},
            ],
        },
        "compile": {
            "optimizer": {"type": "RMSprop", "learning_rate": 0.001},
            "loss": "sparse_categorical_crossentropy",
            "metrics": ["accuracy"],
        },
        "fit": {"batch_size": 32, "epochs": epochs, "seed": 0},
        "data": {"x": x, "y": y},
    }
