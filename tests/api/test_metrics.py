"""`/metrics` (Prometheus): the training queue's depth rises with queued jobs and falls
as a worker takes them; the worker then shows as up, with its heartbeat."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import httpx
import numpy as np

from tests.conftest import Stack
from tests.helpers import upload, wait_for_job


def scrape(url: str) -> dict[str, float]:
    """Each sample line's value, by its name and labels as written."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    found = {}
    for line in text.splitlines():
        match = re.match(r"^([a-z_]+(?:\{[^}]*\})?) (\S+)$", line)
        if match:
            found[match[1]] = float(match[2])
    return found


def test_queue_depth_rises_with_queued_jobs_and_falls_as_they_run(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(workers=0)
    depth = 'cornu_queue_depth{accelerator="any",queue="cornu"}'
    with stack.client() as http:
        before = scrape(stack.api_url)
        assert before["cornu_up"] == 1 and before[depth] == 0
        rng = np.random.default_rng(0)
        x = upload(http, rng.normal(size=(64, 4)).astype("float32"))
        y = upload(http, rng.normal(size=(64, 2)).astype("float32"))
        spec = {
            "model": {"layers": [{"type": "Dense", "units": 2, "input_shape": [4]}]},
            "compile": {"loss": "mse"},
            "fit": {"epochs": 1},
            "data": {"x": x, "y": y},
        }
        jobs = [http.post("/v1/jobs", json=spec).json()["id"] for _ in range(3)]
        assert scrape(stack.api_url)[depth] == 3
        stack.start_worker()
        for job_id in jobs:
            assert wait_for_job(http, job_id)["status"] == "succeeded"
        after = scrape(stack.api_url)
        assert after[depth] == 0 and after["cornu_jobs_running"] == 0
        assert after['cornu_workers{accelerator="cpu"}'] == 1
        beats = [v for k, v in after.items() if k.startswith("cornu_worker_last_heartbeat")]
        assert len(beats) == 1 and time.time() - beats[0] < 30
