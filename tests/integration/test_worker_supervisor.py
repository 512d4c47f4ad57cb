"""`cornu worker`'s children never outlive it, and SIGTERM stops it within seconds even
when its Redis does not answer (issue 13, item 9): a supervisor killed by the OOM killer
or an operator leaves no worker training unsupervised, its job's lease lapses, and the
job resumes on another worker."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Stack, wait_until
from tests.integration.test_faults import slow_job


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for its reaper does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    state = next(line for line in status.splitlines() if line.startswith("State:"))
    return "Z" not in state.split()[1]


def test_a_killed_supervisors_children_die_with_it(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=1, api=False)
    (worker,) = stack.services
    children = worker.children()
    assert len(children) == 2  # training and inference
    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait()
    wait_until(lambda: not any(alive(pid) for pid in children), 5, "the children to die")


def test_sigterm_stops_a_worker_whose_redis_is_gone(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=1, CORNU_WORKER_STOP_SECONDS="5")
    worker = stack.services[-1]
    with stack.client() as client:
        job = slow_job(client, epochs=50)
        wait_until(lambda: client.get(f"/v1/jobs/{job['id']}").json()["status"] == "running",
                   60, "the job to start")  # fmt: skip
    children = worker.children()
    stack.redis.process.kill()  # Redis gone mid-job: no checkpoint, no release can finish
    stack.redis.process.wait()
    started = time.monotonic()
    worker.process.send_signal(signal.SIGTERM)
    worker.process.wait(timeout=20)
    assert time.monotonic() - started < 10
    wait_until(lambda: not any(alive(pid) for pid in children), 5, "the children to stop")
