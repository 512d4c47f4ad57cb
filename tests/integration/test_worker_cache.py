"""A worker's dataset cache, through a real stack: the second job on the same data
downloads nothing, and memory-mapped data trains under a memory limit it could not be
read into."""

from __future__ import annotations

import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import zstandard

from cornu.core.engine.fit import train_job
from cornu.core.spec import JobSpec
from tests.conftest import Stack
from tests.helpers import mlp_spec, npy_bytes, upload, wait_for_job

MiB = 1024 * 1024


def dataset_events(http: Any, job_id: str) -> dict[str, dict[str, str]]:
    events = http.get(f"/v1/jobs/{job_id}/events").json()["events"]
    return {e["dataset"]: e for e in events if e["type"] == "dataset"}


def test_a_second_job_on_the_same_data_reads_the_cache_and_trains_as_in_memory(
    make_stack: Callable[..., Stack],
) -> None:
    # Every array mapped (resident bound 0): the small data takes the mapped path too.
    stack = make_stack(CORNU_WORKER_CACHE_BYTES=str(64 * MiB), CORNU_WORKER_RESIDENT_BYTES="0")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(640, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + 2 * (x[:, 1] > 0)
    with stack.client() as http:
        ids = {"x": upload(http, x), "y": upload(http, y)}
        spec = mlp_spec(ids["x"], ids["y"], features=8, classes=4, epochs=2)
        jobs = []
        for _ in range(2):
            job = wait_for_job(http, http.post("/v1/jobs", json=spec).json()["id"])
            assert job["status"] == "succeeded", job["error"]
            jobs.append(job)
        first, second = (dataset_events(http, str(j["id"])) for j in jobs)
        histories = [http.get(f"/v1/jobs/{j['id']}/metrics").json()["history"] for j in jobs]
    for d in ids.values():
        assert first[d]["source"] == "download" and int(first[d]["bytes_downloaded"]) > 0
        assert first[d]["mapped"] == "True" and first[d]["cached"] == "True"
        assert second[d]["source"] == "cache" and second[d]["bytes_downloaded"] == "0"
    reference = train_job(JobSpec.model_validate(spec), {ids["x"]: x, ids["y"]: y})
    for history in histories:
        loss = history["loss"]
        np.testing.assert_allclose(loss, reference.history.history["loss"], rtol=1e-6)


def data_bytes(pid: int) -> int:
    """The process's private writable memory (VmData): what RLIMIT_DATA bounds."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmData:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmData")


HEADROOM = 200 * MiB  # memory the worker may add to what it holds when idle


def test_a_mapped_dataset_bigger_than_the_workers_memory_limit_trains(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(
        CORNU_WORKER_CACHE_BYTES=str(2048 * MiB), CORNU_WORKER_RESIDENT_BYTES=str(16 * MiB)
    )
    (celery,) = stack.services[-1].training_children()
    limit = data_bytes(celery) + HEADROOM
    resource.prlimit(celery, resource.RLIMIT_DATA, (limit, limit))
    rows, features = 512 * 1024, 1024  # 512 MiB of uint8 on disk, 2 GiB as float32
    x = ((np.arange(rows, dtype=np.uint32)[:, None] + np.arange(features)) % 251).astype(np.uint8)
    y = (np.arange(rows) % 2).astype(np.float32)
    body = zstandard.ZstdCompressor(level=1).compress(npy_bytes(x))
    assert len(body) < 16 * MiB and x.nbytes > 2.5 * HEADROOM
    with stack.client() as http:
        response = http.post(
            "/v1/datasets", content=body,
            headers={"Content-Type": "application/octet-stream", "Content-Encoding": "zstd"},
        )  # fmt: skip
        assert response.status_code == 201, response.text
        x_id, y_id = response.json()["id"], upload(http, y)
        spec: dict[str, Any] = {
            "model": {"layers": [{"type": "Dense", "units": 1, "input_shape": [features]}]},
            "compile": {"optimizer": {"type": "SGD", "learning_rate": 1e-7}, "loss": "mse"},
            "fit": {"batch_size": 256, "epochs": 1, "steps_per_epoch": 20, "seed": 0},
            "data": {"x": x_id, "y": y_id},
        }
        job = wait_for_job(http, http.post("/v1/jobs", json=spec).json()["id"], timeout_s=120)
        assert job["status"] == "succeeded", job["error"]
        events = dataset_events(http, str(job["id"]))
    assert events[x_id]["mapped"] == "True"
    # The control: the same file read into memory does not fit under the same headroom.
    cache = Path(stack.env["CORNU_HOME"]) / "worker-cache"
    (cached,) = [p for p in cache.glob("*.npy") if p.stat().st_size > x.nbytes]
    probe = (
        "import resource,sys,numpy as np\n"
        "v=[l for l in open('/proc/self/status') if l.startswith('VmData:')][0].split()[1]\n"
        f"lim=int(v)*1024+{HEADROOM}\n"
        "resource.setrlimit(resource.RLIMIT_DATA,(lim,lim))\n"
        "try:\n np.load(sys.argv[1])\nexcept MemoryError:\n sys.exit(3)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, str(cached)], timeout=60)
    assert out.returncode == 3
