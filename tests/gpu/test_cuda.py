"""What only a CUDA machine can check (`make gpu-check` runs these; without CUDA they
skip): the engine on a GPU trains what it trains on the CPU, bf16 and fp16 autocast,
torch.compile, batches of a memory-mapped dataset staged through pinned memory on a side
stream, and a data-parallel job over NCCL when the machine has two GPUs or more."""

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
from cornu.core.engine import train_job
from cornu.core.engine.mapped import stage_cuda
from cornu.core.engine.replicas import Replicas
from cornu.core.spec import JobSpec

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

rng = np.random.default_rng(0)
X = rng.normal(size=(2_000, 32)).astype("float32")
Y = (X[:, :4].sum(axis=1) > 0).astype("int64") + 2 * (X[:, 4:8].sum(axis=1) > 0)
ARRAYS = {"ds_x": X, "ds_y": Y}


def spec_of(**fit: Any) -> JobSpec:
    return JobSpec.model_validate({
        "model": {"layers": [
            {"type": "Dense", "units": 128, "activation": "relu", "input_shape": [32]},
            {"type": "Dense", "units": 4, "activation": "softmax"}]},
        "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy",
                    "metrics": ["accuracy"]},
        "fit": {"epochs": 3, "batch_size": 64, "seed": 1, **fit},
        "data": {"x": "ds_x", "y": "ds_y"},
    })  # fmt: skip


def test_a_job_trains_on_the_gpu_as_on_the_cpu() -> None:
    cpu = train_job(spec_of(), ARRAYS, device="cpu")
    gpu = train_job(spec_of(), ARRAYS, device="cuda")
    assert all(p.device.type == "cuda" for p in gpu.model.parameters())
    np.testing.assert_allclose(gpu.history.history["loss"], cpu.history.history["loss"],
                               rtol=1e-3)  # fmt: skip


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_trains_near_float32(precision: str) -> None:
    full = train_job(spec_of(), ARRAYS, device="cuda").history.history["loss"][-1]
    half = train_job(spec_of(mixed_precision=precision), ARRAYS, device="cuda")
    assert abs(half.history.history["loss"][-1] - full) < 0.05 * full
    assert half.trainer is not None
    assert (half.trainer.scaler is not None) == (precision == "fp16")  # loss scaling


def test_jit_compile_on_the_gpu() -> None:
    spec = spec_of()
    compiled = spec.model_copy(
        update={"compile": spec.compile.model_copy(update={"jit_compile": True})}  # type: ignore[union-attr]
    )
    result = train_job(compiled, ARRAYS, device="cuda")
    assert result.trainer is not None and not result.trainer.messages


def test_a_batch_is_staged_through_pinned_memory_on_a_side_stream() -> None:
    batch = torch.arange(1 << 20, dtype=torch.float32)
    stream = torch.cuda.Stream()
    staged = stage_cuda(batch, torch.device("cuda"), stream)
    assert staged.device.type == "cuda"
    assert torch.equal(staged.cpu(), batch)


def _replica(rank: int, size: int, port: int, out: Any) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    device = torch.device("cuda", rank)
    torch.cuda.set_device(device)
    dist.init_process_group("nccl", rank=rank, world_size=size)
    replicas = Replicas(rank, size, device, dist.new_group(backend="gloo"))
    result = train_job(spec_of(), ARRAYS, device=device, replicas=replicas)
    out.put((rank, result.history.history["loss"]))
    dist.destroy_process_group()


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two GPUs")
def test_two_gpus_over_nccl_train_what_one_trains() -> None:
    one = train_job(spec_of(), ARRAYS, device="cuda").history.history["loss"]
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=_replica, args=(r, 2, port, out)) for r in range(2)]
    for p in procs:
        p.start()
    try:
        losses = dict(out.get(timeout=300) for _ in procs)
    except queue.Empty:
        pytest.fail("a replica never finished")
    for p in procs:
        p.join(30)
    np.testing.assert_allclose(losses[0], one, rtol=1e-3)
