"""Parity with Keras 3 on real data through the service: scikit-learn's digits and
breast cancer, standardised, 80/20 split (seed 0), Dense(64, relu) → head, RMSprop,
50 epochs, batch 32. Keras's accuracies (tests/data/keras/parity.json) come from
Keras 3.15 itself, five seeds each."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from tests.conftest import Service
from tests.helpers import upload, wait_for_job

KERAS = json.loads((Path(__file__).parents[1] / "data" / "keras" / "parity.json").read_text())


@pytest.mark.parametrize(
    ("name", "load", "head", "loss"),
    [
        (
            "digits",
            load_digits,
            {"units": 10, "activation": "softmax"},
            "sparse_categorical_crossentropy",
        ),
        (
            "breast_cancer",
            load_breast_cancer,
            {"units": 1, "activation": "sigmoid"},
            "binary_crossentropy",
        ),
    ],
)
def test_test_accuracy_within_one_and_a_half_points_of_keras(
    http: httpx.Client,
    worker: Service,
    name: str,
    load: Callable[..., Any],
    head: dict[str, Any],
    loss: str,
) -> None:
    x, y = load(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
    scaler = StandardScaler().fit(x_train)
    ids = [
        upload(http, a)
        for a in (
            scaler.transform(x_train).astype(np.float32),
            y_train,
            scaler.transform(x_test).astype(np.float32),
            y_test,
        )
    ]
    spec = {
        "model": {
            "layers": [
                {"type": "Dense", "units": 64, "activation": "relu", "input_shape": [x.shape[1]]},
                {"type": "Dense", **head},
            ]
        },
        "compile": {"optimizer": "rmsprop", "loss": loss, "metrics": ["accuracy"]},
        "fit": {"epochs": 50, "batch_size": 32},
        "data": {"x": ids[0], "y": ids[1]},
    }
    jobs = [
        http.post("/v1/jobs", json={**spec, "fit": {**spec["fit"], "seed": seed}}).json()
        for seed in range(5)
    ]
    accuracies = []
    for job in jobs:  # five seeds, as the Keras reference: one split of 114 or 360 is noisy
        done = wait_for_job(http, job["id"], timeout_s=300)
        assert done["status"] == "succeeded", done["error"]
        evaluated = http.post(f"/v1/jobs/{job['id']}/evaluate", json={"x": ids[2], "y": ids[3]})
        accuracies.append(evaluated.json()["accuracy"])
    ours, keras = float(np.mean(accuracies)), KERAS["results"][name]["mean"]
    assert abs(ours - keras) <= 0.015, f"Cornu {ours:.4f} vs Keras {keras:.4f} (mean of 5 seeds)"
