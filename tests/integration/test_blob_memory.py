"""Data never sits in Redis: hundreds of MiB of datasets uploaded and trained on leave
Redis's memory almost where it was; the bytes are in the blob store."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import redis

from cornu.core.store import Store
from tests.conftest import Stack
from tests.helpers import npy_bytes, wait_for_job

MiB = 1024 * 1024
DATASETS = 12
SAMPLES, FEATURES = 65_536, 128  # float32: 32 MiB a dataset, 384 MiB in all


def used_memory(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return int(client.info("memory")["used_memory"])  # type: ignore[index]
    finally:
        client.close()


def test_uploads_and_training_leave_redis_memory_flat(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=1, CORNU_MAX_UPLOAD_BYTES=str(64 * MiB))
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, SAMPLES).astype(np.int64)
    before = used_memory(stack.redis_url)
    started = time.monotonic()
    ids = []
    with stack.client() as http:
        for _ in range(DATASETS):
            x = rng.standard_normal((SAMPLES, FEATURES), dtype=np.float32)  # incompressible
            response = http.post(
                "/v1/datasets",
                content=npy_bytes(x),
                headers={"Content-Type": "application/octet-stream"},
                timeout=120,
            )
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        y = http.post("/v1/datasets", files={"file": ("y.npy", npy_bytes(labels))})
        assert y.status_code == 201, y.text
        uploaded = time.monotonic() - started
        spec = {
            "model": {"layers": [{"type": "Dense", "units": 4, "input_shape": [FEATURES]}]},
            "compile": {"loss": "sparse_categorical_crossentropy", "optimizer": "adam"},
            "fit": {"batch_size": 4096, "epochs": 1},
            "data": {"x": ids[0], "y": y.json()["id"]},
        }
        job = http.post("/v1/jobs", json=spec)
        assert job.status_code == 201, job.text
        assert wait_for_job(http, job.json()["id"])["status"] == "succeeded"
    grown = used_memory(stack.redis_url) - before
    store = Store.from_url(stack.redis_url)
    try:
        in_store = {
            key.rsplit("/", 1)[-1]: size for key, size in store.blobs.store.objects("tenants/")
        }
    finally:
        store.close()
    assert sum(in_store[i] for i in ids) >= DATASETS * SAMPLES * FEATURES * 4
    assert grown < 20 * MiB, f"Redis grew by {grown / MiB:.1f} MiB"
    print(f"{DATASETS * 32} MiB uploaded in {uploaded:.1f} s; Redis grew {grown / MiB:.2f} MiB")
