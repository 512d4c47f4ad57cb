"""A job on two devices of one host (issue 13, item 2): a CPU worker runs it as two gloo
processes that reach the final loss one process reaches at the same global batch and
seed; it resumes from its checkpoint after its worker is SIGKILLed (the replica dies
with it), and a cancel stops both within two seconds."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from tests.conftest import Stack, start_worker, wait_until
from tests.helpers import upload, wait_for_job


def spec(http: httpx.Client, devices: int, epochs: int = 3) -> dict[str, Any]:
    """The book's MNIST-style MLP on 2,000 random samples: about a second an epoch."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2_000, 64)).astype(np.float32)
    y = (x[:, :8].sum(axis=1) > 0).astype(np.int64) + 2 * (x[:, 8:16].sum(axis=1) > 0)
    return {
        "resources": {"devices": devices},
        "model": {"layers": [
            {"type": "Dense", "units": 256, "activation": "relu", "input_shape": [64]},
            {"type": "Dense", "units": 4, "activation": "softmax"}]},
        "compile": {"optimizer": "rmsprop", "loss": "sparse_categorical_crossentropy",
                    "metrics": ["accuracy"]},
        "fit": {"epochs": epochs, "batch_size": 16, "seed": 7, "validation_split": 0.1},
        "data": {"x": upload(http, x), "y": upload(http, y)},
    }  # fmt: skip


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, theirs, …)."""
    found, todo = [], [pid]
    while todo:
        here = todo.pop()
        try:
            kids = [int(p) for p in Path(f"/proc/{here}/task/{here}/children").read_text().split()]
        except FileNotFoundError:
            continue
        found += kids
        todo += kids
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_two_devices_train_as_one_resume_after_a_kill_and_cancel(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(workers=1)
    with stack.client() as http:
        one = http.post("/v1/jobs", json=spec(http, devices=1)).json()
        two = http.post("/v1/jobs", json=spec(http, devices=2)).json()
        one, two = wait_for_job(http, one["id"], 180), wait_for_job(http, two["id"], 180)
        assert one["status"] == two["status"] == "succeeded", (one, two)
        loss = {j["id"]: http.get(f"/v1/jobs/{j['id']}/metrics").json()["history"]
                for j in (one, two)}  # fmt: skip
        for name in ("loss", "val_loss", "accuracy"):
            final_one, final_two = loss[one["id"]][name][-1], loss[two["id"]][name][-1]
            assert abs(final_two - final_one) <= 0.02 * abs(final_one), (name, loss)
        assert two["device_seconds"] > 0

        # Killed mid-run: the replica dies with the worker; another worker resumes it.
        long = http.post("/v1/jobs", json=spec(http, devices=2, epochs=3)).json()
        wait_until(lambda: http.get(f"/v1/jobs/{long['id']}/checkpoints").json()["checkpoints"],
                   120, "a checkpoint")  # fmt: skip
        (worker,) = stack.services[-1:]
        below = descendants(worker.process.pid)
        assert len(below) >= 3, below  # training (rank 0), its replica, inference
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.wait()
        wait_until(lambda: not any(alive(pid) for pid in below), 5, "every process to die")
        stack.services.remove(worker)
        stack.services.append(start_worker(stack.env, stack.directory / "worker2.log"))
        resumed = wait_for_job(http, long["id"], 240)
        assert resumed["status"] == "succeeded", resumed
        events = http.get(f"/v1/jobs/{long['id']}/events").json()["events"]
        assert any(e["type"] == "resumed" for e in events), events
        history = http.get(f"/v1/jobs/{long['id']}/metrics").json()["history"]
        assert len(history["loss"]) == 3
        final_one = loss[one["id"]]["loss"][-1]  # the uninterrupted run's third epoch
        assert abs(history["loss"][-1] - final_one) <= 0.02 * final_one, (history, final_one)

        # Cancelled: both processes stop within two seconds.
        cancelled = http.post("/v1/jobs", json=spec(http, devices=2, epochs=50)).json()
        wait_until(lambda: http.get(f"/v1/jobs/{cancelled['id']}/checkpoints").json()[
            "checkpoints"], 120, "the replicas to train")  # fmt: skip
        asked = time.monotonic()
        http.post(f"/v1/jobs/{cancelled['id']}/cancel")
        wait_until(lambda: http.get(f"/v1/jobs/{cancelled['id']}").json()["status"]
                   == "cancelled", 10, "the cancel")  # fmt: skip
        assert time.monotonic() - asked < 2
