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
from cornu.core.engine import Callback, Interrupted, dump_state, load_state, train_job
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


class Snapshot(Callback):
    """Captures the whole state at batch 3 of the second epoch (asking the replicas to
    merge there first, as the runner's checkpoints do) and stops the run."""

    def __init__(self, at_epoch: int = 1) -> None:
        self.at_epoch = at_epoch

    def sync_due(self) -> bool:
        return self.trainer._epoch == self.at_epoch and self.trainer._batch == 3

    def on_train_batch_end(self, batch: int, loss: float | None = None) -> None:
        if self.trainer._epoch == self.at_epoch and batch == 3:
            assert self.trainer.in_sync
            self.state = dump_state(self.trainer.capture())
            raise Interrupted("snapshot")


def replica(
    rank: int,
    size: int,
    port: int,
    fit: dict[str, Any],
    stop: bool,
    out: Any,
    resume: bytes | None = None,
) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=size)
    replicas = Replicas(rank, size, torch.device("cpu"), dist.new_group(backend="gloo"))
    counts = Counts()
    snapshot = Snapshot(at_epoch=-1 if resume is not None else 1)
    try:
        hooks: list[Callback] = [counts]
        if stop:
            hooks.append(StopAt())
        if fit.pop("snapshot", False) or resume is not None:  # the same hooks as the snapshot's
            hooks.append(snapshot)
        state = None if resume is None else load_state(resume)
        result = train_job(spec_of(**fit), ARRAYS, callbacks=hooks, replicas=replicas,
                           resume=state)  # fmt: skip
        weights = {k: v.numpy() for k, v in result.model.state_dict().items()}
        assert result.trainer is not None and result.trainer._batches is not None
        order = result.trainer._batches.order
        weights["shuffled order"] = np.array([]) if order is None else order.numpy()
        out.put((rank, "done", result.history.history, weights, counts.epochs))
    except Interrupted as stopped:
        saved = getattr(snapshot, "state", None)
        out.put((rank, "stopped", stopped.reason, saved, counts.epochs))
    finally:
        dist.destroy_process_group()


def run_replicas(
    size: int, fit: dict[str, Any], stop: bool = False, resume: bytes | None = None
) -> dict[int, tuple]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=replica, args=(r, size, port, fit, stop, out, resume))
             for r in range(size)]  # fmt: skip
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


def test_replicas_share_one_shuffled_order_without_a_seed() -> None:
    both = run_replicas(2, {"seed": None})
    orders = [both[rank][2]["shuffled order"] for rank in (0, 1)]
    assert orders[0].size > 100 and np.array_equal(orders[0], orders[1])


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


def test_replicas_resume_inside_an_epoch_as_if_never_stopped() -> None:
    """A checkpoint in the middle of an epoch holds the replicas' merged running sums;
    resumed, every replica carries on from it and the epoch's logs count each batch once:
    the history equals one device's, uninterrupted."""
    torch.set_num_threads(1)
    one = train_job(spec_of(), ARRAYS).history.history
    stopped = run_replicas(2, {"snapshot": True})
    status, reason, state, _ = stopped[0]
    assert (status, reason) == ("stopped", "snapshot") and state is not None
    resumed = run_replicas(2, {}, resume=state)[0]
    assert resumed[0] == "done"
    history = resumed[1]
    for name, values in one.items():  # the resumed run reports epochs 2 and 3
        np.testing.assert_allclose(history[name], values[1:], rtol=2e-4, atol=2e-5, err_msg=name)
