"""`make demo`: the embedded stack trains a Keras-style network on real digits over HTTP.

1. starts `cornu up` (Redis, one worker, the API) with its data in a temporary folder;
2. loads scikit-learn's bundled digits (offline), standardises them, splits 80/20 (seed 0);
3. uploads the arrays and submits Dense(64, relu) → Dense(10, softmax), RMSprop, 50 epochs;
4. prints each epoch as the worker reports it, then the final validation accuracy;
5. stops the stack.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import cornu
from cornu.core.embedded import free_port, wait_until

EPOCHS = 50


def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
    scaler = StandardScaler().fit(x_train)
    return (
        scaler.transform(x_train).astype(np.float32),
        y_train,
        scaler.transform(x_test).astype(np.float32),
        y_test,
    )


def train(client: cornu.Client) -> float:
    x_train, y_train, x_test, y_test = digits()
    print(f"digits: {len(x_train)} training and {len(x_test)} validation images of 8x8 pixels")
    x, y = client.upload(x_train), client.upload(y_train)
    val_x, val_y = client.upload(x_test), client.upload(y_test)
    job = client.submit(
        {
            "model": {
                "type": "sequential",
                "layers": [
                    {"type": "Dense", "units": 64, "activation": "relu", "input_shape": [64]},
                    {"type": "Dense", "units": 10, "activation": "softmax"},
                ],
            },
            "compile": {
                "optimizer": {"type": "RMSprop", "learning_rate": 0.001},
                "loss": "sparse_categorical_crossentropy",
                "metrics": ["accuracy"],
            },
            "fit": {
                "batch_size": 32,
                "epochs": EPOCHS,
                "seed": 0,
                "validation_data": {"x": val_x.id, "y": val_y.id},
            },
            "data": {"x": x.id, "y": y.id},
        }
    )
    print(f"job {job.id} queued\n")
    columns = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy")
    print("  ".join(f"{c:>{w}}" for c, w in zip(columns, (5, 8, 8, 8, 12), strict=True)), "seconds")
    shown = 0
    while True:
        job = client.job(job.id)
        for entry in client.metrics(job.id).epochs[shown:]:
            logs = entry.model_extra or {}
            print(
                f"{entry.epoch:>5}  {logs['loss']:>8.4f}  {logs['accuracy']:>8.4f}  "
                f"{logs['val_loss']:>8.4f}  {logs['val_accuracy']:>12.4f}  {entry.seconds:.3f}"
            )
            shown += 1
        if job.status.finished:
            break
        time.sleep(0.3)
    if job.status.value != "succeeded":
        raise SystemExit(f"job {job.id} {job.status.value}: {job.error}")
    accuracy = client.metrics(job.id).history["val_accuracy"][-1]
    print(f"\nfinal validation accuracy: {accuracy:.4f}")
    return accuracy


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="cornu-demo-") as tmp:
        home, port = Path(tmp), free_port()
        url = f"http://127.0.0.1:{port}"
        log = home / "stack.log"
        print(f"starting the embedded stack (cornu up) at {url}; its log: {log}")
        with log.open("wb") as out:
            stack = subprocess.Popen(
                [sys.executable, "-m", "cornu", "up", "--port", str(port), "--home", str(home)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until(
                lambda: stack.poll() is not None or "API key" in log.read_text(), 120, "cornu up"
            )
            if stack.poll() is not None:
                raise SystemExit(f"cornu up exited:\n{log.read_text()}")
            api_key = (home / "api_key").read_text().strip()
            with cornu.Client(url, api_key) as client:
                train(client)
        finally:
            stack.send_signal(signal.SIGINT)
            stack.wait(60)
            print("stack stopped")


if __name__ == "__main__":
    main()
