"""The Keras features of issue 3 through the service: functional models with several
inputs and outputs, Keras JSON, callbacks, fit arguments, evaluate and predict."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.conftest import Service
from tests.helpers import upload, wait_for_job

KERAS = Path(__file__).parents[1] / "data" / "keras"


def blobs(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    return rng.normal(size=(n, 8)).astype(np.float32) + 2 * np.eye(3, 8, dtype=np.float32)[y], y


def mlp(x: str, y: str, **fit: Any) -> dict[str, Any]:
    return {
        "model": {
            "layers": [
                {"type": "Dense", "units": 16, "activation": "relu"},
                {"type": "Dense", "units": 3, "activation": "softmax"},
            ]
        },
        "compile": {
            "optimizer": "adam",
            "loss": "sparse_categorical_crossentropy",
            "metrics": ["accuracy"],
        },
        "fit": {"epochs": 4, "batch_size": 16, "seed": 0, **fit},
        "data": {"x": x, "y": y},
    }


def train(http: httpx.Client, spec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    created = http.post("/v1/jobs", json=spec)
    assert created.status_code == 201, created.text
    job = wait_for_job(http, created.json()["id"])
    return job, http.get(f"/v1/jobs/{job['id']}/metrics").json()


@pytest.fixture
def data(http: httpx.Client) -> dict[str, str]:
    x, y = blobs(200)
    vx, vy = blobs(60, seed=1)
    return {
        "x": upload(http, x),
        "y": upload(http, y),
        "vx": upload(http, vx),
        "vy": upload(http, vy),
    }


def test_two_inputs_shared_layer_concat_two_outputs(http: httpx.Client, worker: Service) -> None:
    rng = np.random.default_rng(0)
    a, b = (
        rng.normal(size=(64, 16)).astype(np.float32),
        rng.normal(size=(64, 16)).astype(np.float32),
    )
    y_cls, y_reg = (a[:, 0] > 0).astype(np.int64) + (b[:, 0] > 0), (a[:, 1] - b[:, 1])[:, None]
    ids = {
        name: upload(http, array)
        for name, array in {"a": a, "b": b, "cls": y_cls, "reg": y_reg}.items()
    }
    spec = {
        "model": (KERAS / "keras3_functional.json").read_text(),
        "compile": {
            "optimizer": "adam",
            "loss": {"cls": "sparse_categorical_crossentropy", "reg": "mse"},
            "loss_weights": {"cls": 1.0, "reg": 0.5},
            "metrics": {"cls": ["accuracy"], "reg": ["mae"]},
        },
        "fit": {"epochs": 2, "batch_size": 8, "validation_split": 0.25, "seed": 0},
        "data": {"x": {"a": ids["a"], "b": ids["b"]}, "y": {"cls": ids["cls"], "reg": ids["reg"]}},
    }
    job, metrics = train(http, spec)
    assert job["status"] == "succeeded", job["error"]
    history = metrics["history"]
    keras_keys = json.loads((KERAS / "metrics.json").read_text())["multi_output"]["history_keys"]
    assert list(history) == keras_keys  # the names (and order) Keras gives
    for epoch in range(2):  # the minimised total is the weighted sum of the outputs' losses
        total = history["cls_loss"][epoch] + 0.5 * history["reg_loss"][epoch]
        assert history["loss"][epoch] == pytest.approx(total, rel=1e-5)
    weights = http.get(f"/v1/jobs/{job['id']}/weights")
    assert weights.status_code == 200


def test_evaluate_and_predict_agree_with_training(
    http: httpx.Client, data: dict[str, str], worker: Service
) -> None:
    job, metrics = train(
        http, mlp(data["x"], data["y"], validation_data={"x": data["vx"], "y": data["vy"]})
    )
    assert job["status"] == "succeeded", job["error"]
    evaluated = http.post(
        f"/v1/jobs/{job['id']}/evaluate", json={"x": data["vx"], "y": data["vy"]}
    ).json()
    assert evaluated["loss"] == pytest.approx(metrics["history"]["val_loss"][-1], rel=1e-5)
    assert evaluated["accuracy"] == pytest.approx(metrics["history"]["val_accuracy"][-1])
    weighted = http.post(
        f"/v1/jobs/{job['id']}/evaluate",
        json={"x": data["vx"], "y": data["vy"], "sample_weight": upload(http, np.full(60, 2.0))},
    ).json()
    assert weighted["loss"] == pytest.approx(2 * evaluated["loss"], rel=1e-5)  # Keras: Σ w·l / n

    vx, vy = blobs(60, seed=1)
    response = http.post(f"/v1/jobs/{job['id']}/predict", json={"x": data["vx"]})
    assert response.status_code == 200, response.text
    predicted = response.json()["predictions"]
    probs = np.array(predicted)
    assert probs.shape == (60, 3) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert (probs.argmax(axis=1) == vy).mean() == pytest.approx(evaluated["accuracy"])
    inline = http.post(f"/v1/jobs/{job['id']}/predict", json={"inputs": vx[:5].tolist()}).json()
    assert np.allclose(inline["predictions"], probs[:5], atol=1e-6)


def test_predict_is_bounded_and_checked(
    http: httpx.Client, data: dict[str, str], worker: Service
) -> None:
    job, _ = train(http, mlp(data["x"], data["y"], epochs=1))
    url = f"/v1/jobs/{job['id']}/predict"
    wrong = http.post(url, json={"inputs": [[1.0, 2.0]]})
    assert wrong.status_code == 422 and "holds samples of shape (2,)" in wrong.json()["detail"]
    both = http.post(url, json={"x": data["x"], "inputs": [[0.0] * 8]})
    assert both.status_code == 422
    too_many = http.post(url, json={"inputs": [[0.0] * 8] * 2000})
    assert (
        too_many.status_code == 413
        and "upload larger batches as a dataset" in too_many.json()["detail"]
    )


@pytest.mark.parametrize(
    ("name", "x_shape", "y"),
    [
        ("keras3_mlp.json", (784,), "classes"),
        ("tfkeras2_mlp.json", (784,), "classes"),
        ("keras3_convnet.json", (28, 28, 1), "classes"),
        ("keras3_embedding_lstm.json", (200,), "binary"),
    ],
)
def test_keras_json_models_train(
    http: httpx.Client, worker: Service, name: str, x_shape: tuple[int, ...], y: str
) -> None:
    rng = np.random.default_rng(0)
    if name == "keras3_embedding_lstm.json":
        x = rng.integers(1, 10_000, (32, *x_shape))  # token ids for the Embedding
        targets = rng.integers(0, 2, 32).astype(np.float32)
        loss = "binary_crossentropy"
    else:
        x = rng.random((32, *x_shape), dtype=np.float32)
        targets, loss = rng.integers(0, 10, 32), "sparse_categorical_crossentropy"
    spec = {
        "model": (KERAS / name).read_text(),  # model.to_json(), as Keras returns it
        "compile": {
            "optimizer": {"class_name": "RMSprop", "config": {"learning_rate": 0.001}},
            "loss": loss,
            "metrics": ["accuracy"],
        },
        "fit": {"epochs": 2, "batch_size": 16},
        "data": {"x": upload(http, x), "y": upload(http, targets)},
    }
    job, metrics = train(http, spec)
    assert job["status"] == "succeeded", job["error"]
    assert list(metrics["history"]) == ["accuracy", "loss"]
    assert len(metrics["history"]["loss"]) == 2


def test_early_stopping_and_restore_best_weights(
    http: httpx.Client, data: dict[str, str], worker: Service
) -> None:
    # "max" on a falling loss never improves after the first epoch: patience 1 stops at 2.
    stop = {"type": "EarlyStopping", "monitor": "loss", "mode": "max", "patience": 1}
    _, metrics = train(http, mlp(data["x"], data["y"], epochs=10, callbacks=[stop]))
    assert len(metrics["history"]["loss"]) == 2


def test_reduce_lr_on_plateau_reports_the_learning_rate(
    http: httpx.Client, data: dict[str, str], worker: Service
) -> None:
    plateau = {
        "type": "ReduceLROnPlateau",
        "monitor": "loss",
        "mode": "max",
        "patience": 1,
        "factor": 0.5,
    }
    _, metrics = train(http, mlp(data["x"], data["y"], epochs=4, callbacks=[plateau]))
    assert metrics["history"]["learning_rate"] == pytest.approx([0.001, 0.001, 0.0005, 0.00025])


def test_model_checkpoint_keeps_the_best_epochs_weights(
    http: httpx.Client, data: dict[str, str], worker: Service
) -> None:
    keep = {"type": "ModelCheckpoint", "monitor": "val_loss", "save_best_only": True}
    spec = mlp(
        data["x"],
        data["y"],
        epochs=6,
        callbacks=[keep],
        validation_data={"x": data["vx"], "y": data["vy"]},
    )
    spec["compile"]["optimizer"] = {"type": "SGD", "learning_rate": 0.5}  # a bumpy ride
    job, metrics = train(http, spec)
    evaluated = http.post(
        f"/v1/jobs/{job['id']}/evaluate", json={"x": data["vx"], "y": data["vy"]}
    ).json()
    assert evaluated["loss"] == pytest.approx(min(metrics["history"]["val_loss"]), rel=1e-5)


def test_a_callback_that_monitors_nothing_is_refused(
    http: httpx.Client, data: dict[str, str]
) -> None:
    spec = mlp(
        data["x"], data["y"], callbacks=[{"type": "EarlyStopping"}]
    )  # val_loss, no validation
    response = http.post("/v1/jobs", json=spec)
    assert response.status_code == 422
    assert (
        "EarlyStopping monitors 'val_loss', which this job does not report"
        in response.json()["detail"]
    )


def test_initial_epoch_continues_the_count(
    http: httpx.Client, data: dict[str, str], worker: Service
) -> None:
    _, metrics = train(http, mlp(data["x"], data["y"], epochs=5, initial_epoch=3))
    assert [e["epoch"] for e in metrics["epochs"]] == [4, 5]


def test_terminate_on_nan_fails_the_job_with_its_reason(
    http: httpx.Client, data: dict[str, str], worker: Service
) -> None:
    spec = mlp(data["x"], data["y"], epochs=3, callbacks=[{"type": "TerminateOnNaN"}])
    spec["compile"] = {"optimizer": {"type": "SGD", "learning_rate": 1e30}, "loss": "mse"}
    spec["data"]["y"] = upload(http, np.eye(3, dtype=np.float32)[np.arange(200) % 3])
    job, _ = train(http, spec)
    assert job["status"] == "failed" and "TerminateOnNaN stopped at batch" in job["error"]
    assert not math.isnan(len(job["error"]))
