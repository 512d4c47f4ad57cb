"""Data-parallel training (`core.engine.replicas`) with MirroredStrategy's meaning: two
gloo processes training one job at a global batch reach what one process reaches at that
batch (the gradient of the whole batch each step; metrics reduced over the replicas;
BatchNormalization's statistics their mean), callbacks run once, and a stop decided on
rank 0 stops every replica."""

from __future__ import annotations

import os
import queue
from typing import Any

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from cornu.core.embedded import free_port
from cornu.core.engine import Callback, Interrupted, train_job
from cornu.core.engine.replicas import Replicas
from cornu.core.spec import JobSpec

rng = np.random.default_rng(0)
X = rng.normal(size=(203, 12)).astype("float32")  # 203: an uneven last batch of 11
Y = (X[:, :3].sum(axis=1, keepdims=True) > 0).astype("float32")
ARRAYS = {"ds_x": X, "ds_y": Y}


def spec_of(normalize: bool = False, **fit: Any) -> JobSpec:
    """A small classifier; with `normalize`, BatchNormalization in the middle (whose batch
    statistics are each replica's own: MirroredStrategy's results then differ from one
    device's, as Keras's do)."""
    norm = [{"type": "BatchNormalization"}] if normalize else []
    return JobSpec.model_validate({
        "model": {"layers": [
            {"type": "Dense", "units": 16, "activation": "relu", "input_shape": [12]},
            *norm,
            {"type": "Dense", "units": 1, "activation": "sigmoid"}]},
        "compile": {"optimizer": "adam", "loss": "binary_crossentropy",
                    "metrics": ["accuracy", "AUC"]},
        "fit": {"epochs": 3, "batch_size": 32, "seed": 3, "validation_split": 0.2, **fit},
        "data": {"x": "ds_x", "y": "ds_y"},
    })  # fmt: skip


class StopAt(Callback):
    """Raises Interrupted at a batch of the second epoch, as a cancel does."""

    def on_train_batch_end(self, batch: int, loss: float | None = None) -> None:
        if self.trainer._epoch == 1 and batch == 2:
            raise Interrupted("cancel")


class Counts(Callback):
    def __init__(self) -> None:
        self.epochs = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.epochs += 1


def replica(rank: int, size: int, port: int, fit: dict[str, Any], stop: bool, out: Any) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=size)
    replicas = Replicas(rank, size, torch.device("cpu"), dist.new_group(backend="gloo"))
    counts = Counts()
    try:
        hooks = [counts, StopAt()] if stop else [counts]
        result = train_job(spec_of(**fit), ARRAYS, callbacks=hooks, replicas=replicas)
        weights = {k: v.numpy() for k, v in result.model.state_dict().items()}
        out.put((rank, "done", result.history.history, weights, counts.epochs))
    except Interrupted as stopped:
        out.put((rank, "stopped", stopped.reason, None, counts.epochs))
    finally:
        dist.destroy_process_group()


def run_replicas(size: int, fit: dict[str, Any], stop: bool = False) -> dict[int, tuple]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=replica, args=(r, size, port, fit, stop, out)) for r in range(size)]
    for p in procs:
        p.start()
    results = {}
    try:
        for _ in procs:
            rank, *rest = out.get(timeout=120)
            results[rank] = tuple(rest)
    except queue.Empty:
        pytest.fail("a replica never finished")
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    return results


@pytest.mark.parametrize("fit", [{}, {"shuffle": False}], ids=["shuffled", "in-order"])
def test_two_replicas_train_what_one_device_trains(fit: dict[str, Any]) -> None:
    torch.set_num_threads(1)
    one = train_job(spec_of(**fit), ARRAYS)
    both = run_replicas(2, fit)
    status, history, weights, epochs = both[0]
    assert status == "done" and epochs == 3
    assert both[1][0] == "done" and both[1][3] == 0, "callbacks run on rank 0 only"
    assert history.keys() == one.history.history.keys()
    for name, values in one.history.history.items():
        np.testing.assert_allclose(history[name], values, rtol=2e-4, atol=2e-5, err_msg=name)
    for name, value in one.model.state_dict().items():  # moving statistics included
        np.testing.assert_allclose(weights[name], value.numpy(), rtol=1e-3, atol=2e-5,
                                   err_msg=name)  # fmt: skip
    for name, value in both[1][2].items():  # the replicas move in lockstep
        assert name in weights
        np.testing.assert_allclose(value, weights[name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_a_stop_on_rank_0_stops_every_replica() -> None:
    both = run_replicas(2, {}, stop=True)
    assert both[0][:2] == ("stopped", "cancel")
    assert both[1][:2] == ("stopped", "replica")


def test_batch_normalization_keeps_the_mean_of_the_replicas_statistics() -> None:
    torch.set_num_threads(1)
    one = train_job(spec_of(normalize=True), ARRAYS)
    both = run_replicas(2, {"normalize": True})
    (status, history, weights, _), (_, _, other, _) = both[0], both[1]
    assert status == "done"
    moving = [name for name in weights if "running" in name or "moving" in name]
    assert moving, list(weights)
    for name in moving:  # read as their mean: the same on both
        np.testing.assert_allclose(other[name], weights[name], rtol=1e-6, err_msg=name)
    final = one.history.history["loss"][-1]
    assert abs(history["loss"][-1] - final) / final < 0.05
