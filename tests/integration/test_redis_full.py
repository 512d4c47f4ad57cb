"""Redis at its `maxmemory` (compose and `cornu up` run it with noeviction): writes are
refused with OOM until memory is freed. Every request that needs a write is a 503 that
says so (never a 500), /healthz says so, and a running job is not failed for it: its
worker gives it back and it finishes once Redis takes writes again."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import redis

from tests.conftest import Stack
from tests.helpers import npy_bytes, upload, wait_for_job


def test_a_full_redis_is_503_and_fails_no_running_job(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=1)
    control = redis.Redis.from_url(stack.redis_url)
    rng = np.random.default_rng(0)
    with stack.client() as owner, stack.client() as other:
        x = upload(owner, rng.normal(size=(2048, 16)).astype(np.float32))
        y = upload(owner, rng.integers(0, 2, 2048).astype(np.int64))
        spec = {
            "model": {"layers": [{"type": "Dense", "units": 32, "activation": "relu",
                                  "input_shape": [16]}, {"type": "Dense", "units": 2}]},
            "compile": {"loss": "sparse_categorical_crossentropy", "optimizer": "adam"},
            "fit": {"epochs": 40, "batch_size": 8},
            "data": {"x": x, "y": y},
        }  # fmt: skip
        job_id = owner.post("/v1/jobs", json=spec).json()["id"]
        theirs = {**spec, "data": {"x": upload(other, np.ones((8, 16), np.float32)),
                                   "y": upload(other, np.zeros(8, np.int64))}}  # fmt: skip
        deadline = time.monotonic() + 60
        while owner.get(f"/v1/jobs/{job_id}").json()["status"] != "running":
            assert time.monotonic() < deadline, "the job did not start"
            time.sleep(0.1)

        control.config_set("maxmemory", 1)  # full: every write is refused with OOM
        try:
            refused = [
                other.post("/v1/jobs", json=theirs),
                other.post("/v1/datasets", files={"file": ("a.npy", npy_bytes(np.ones(4)))}),
                other.get("/healthz"),
            ]
            for response in refused:
                assert response.status_code == 503, response.text
                assert response.headers["content-type"] == "application/problem+json"
                assert "maxmemory" in response.json()["detail"]
                assert response.headers["retry-after"]
            assert other.get(f"/v1/jobs/{job_id}").status_code == 404  # reads still answer
            time.sleep(4)  # past the 2 s lease: the worker meets OOM on every write
        finally:
            control.config_set("maxmemory", 0)

        done = wait_for_job(owner, job_id, timeout_s=180)
        assert done["status"] == "succeeded", done
        assert done["error"] is None
        assert other.get("/healthz").status_code == 200
    for service in stack.services:
        assert service.process.poll() is None, f"a process died:\n{service.output()[-3000:]}"
    control.close()
