"""Jobs survive faults: killed workers, broker redelivery, Redis restarts, cancels,
shutdowns — each job finishes once with every epoch counted once. Real processes, each
test with a Redis (append-only), an API and workers of its own and short leases."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from redis import Redis

from cornu.core.embedded import (
    DURABLE_REDIS_ARGS,
    free_port,
    redis_answers,
    redis_server_binary,
    wait_until,
)
from cornu.core.spec import JobStatus
from cornu.core.store import Store, keys
from cornu.core.store.runs import Claim, Controls
from tests.conftest import Stack
from tests.helpers import upload, wait_for_job


def slow_job(client: httpx.Client, epochs: int = 8, samples: int = 12_000) -> dict[str, Any]:
    """A job whose epochs take about a second on one thread."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, 256)).astype(np.float32)
    y = rng.integers(0, 10, samples)
    layers = [
        {"type": "Dense", "units": 512, "activation": "relu", "input_shape": [256]},
        {"type": "Dense", "units": 10, "activation": "softmax"},
    ]
    spec = {
        "model": {"layers": layers},
        "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy"},
        "fit": {"epochs": epochs, "batch_size": 64, "seed": 0},
        "data": {"x": upload(client, x), "y": upload(client, y)},
    }
    response = client.post("/v1/jobs", json=spec)
    assert response.status_code == 201, response.text
    job: dict[str, Any] = response.json()
    return job


def tiny_spec(client: httpx.Client) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    x, y = upload(client, rng.normal(size=(32, 4))), upload(client, rng.integers(0, 2, 32))
    return {
        "model": {
            "layers": [{"type": "Dense", "units": 2, "activation": "softmax", "input_shape": [4]}]
        },
        "compile": {"loss": "sparse_categorical_crossentropy"},
        "fit": {"epochs": 1},
        "data": {"x": x, "y": y},
    }


def events(client: httpx.Client, job_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.get(f"/v1/jobs/{job_id}/events").json()["events"]
    return found


def wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    wait_until(check, timeout_s, what)


def worker_pid(client: httpx.Client, job_id: str) -> int:
    started = [e for e in events(client, job_id) if e["type"] == "started"]
    return int(started[-1]["worker"].rsplit(":", 1)[1])


def epochs_once(client: httpx.Client, job: dict[str, Any]) -> None:
    numbers = [e["epoch"] for e in client.get(f"/v1/jobs/{job['id']}/metrics").json()["epochs"]]
    assert numbers == list(range(1, job["epochs"] + 1))


def trained_to_end(stack: Stack, job_ids: list[str]) -> list[int]:
    store = Store.from_url(stack.redis_url)
    counts = [int(store.redis.hget(keys.job(j), "trained_to_end") or 0) for j in job_ids]  # type: ignore[arg-type]
    store.close()
    return counts


def test_a_killed_workers_job_finishes_on_another_from_its_checkpoint(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(workers=2)
    with stack.client() as client:
        job = slow_job(client)
        wait_for(lambda: client.get(f"/v1/jobs/{job['id']}").json()["epoch"] >= 2, 60, "two epochs")
        store = Store.from_url(stack.redis_url)
        old_token = str(store.redis.hget(keys.job(job["id"]), "lease_token"), "utf-8")  # type: ignore[arg-type]
        os.kill(worker_pid(client, job["id"]), signal.SIGKILL)  # mid-epoch, like a lost machine
        killed_at = time.monotonic()
        done = wait_for_job(client, job["id"], timeout_s=90)
        assert done["status"] == "succeeded", done["error"]
        assert time.monotonic() - killed_at < 60
        epochs_once(client, done)
        kinds = [e["type"] for e in events(client, job["id"])]
        assert {"lease_lost", "requeued", "resumed"} <= set(kinds)
        resumed = next(e for e in events(client, job["id"]) if e["type"] == "resumed")
        assert int(resumed["epoch"]) >= 2  # from its last checkpoint, not from scratch
        assert done["attempts"] == 2 and trained_to_end(stack, [job["id"]]) == [1]
        # The killed worker's late writes (were it merely stalled) are all refused.
        spec = store.jobs.spec(job["id"])
        late = Claim(job["id"], "", old_token, 1, spec, None, 0.0, 0)
        assert not store.runs.commit_epoch(late, 9, 0.1, {"loss": 0.0}, b"late", 0.1, keep=2)
        assert not store.runs.finish(late, JobStatus.failed, "late")
        assert not store.runs.succeed(late, b"w", b"s")
        assert store.runs.renew(late) == (False, Controls())
        assert client.get(f"/v1/jobs/{job['id']}").json()["status"] == "succeeded"
        store.close()


def test_a_run_longer_than_the_visibility_timeout_starts_once(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(
        workers=2,
        CORNU_BROKER_VISIBILITY_TIMEOUT_SECONDS="2",
        CORNU_BROKER_RESTORE_INTERVAL_SECONDS="0.5",  # look for overdue messages often
        CORNU_BROKER_RESTORE_THROTTLE="1",
    )
    with stack.client() as client:
        job = slow_job(client, epochs=30)  # about 5 s
        done = wait_for_job(client, job["id"], timeout_s=120)
        assert done["status"] == "succeeded" and done["attempts"] == 1
        assert [e["type"] for e in events(client, job["id"])].count("started") == 1
        assert trained_to_end(stack, [job["id"]]) == [1]
        logs = "".join(service.output() for service in stack.services)
        assert f"job {job['id']} is not queued" in logs  # redelivered, and refused


_TAKE_ONE_MESSAGE = """
import sys, time
from cornu.core.config import get_settings
from cornu.core.queue import make_celery
settings = get_settings()
with make_celery(settings).connection_for_read() as connection:
    queue = connection.SimpleQueue(settings.queue, no_ack=False)
    message = queue.get(timeout=30)  # taken: in the broker's unacknowledged set, not acked
    print(message.payload, flush=True)
    time.sleep(600)
"""


def test_a_job_whose_message_died_with_its_worker_before_the_claim_still_runs(
    make_stack: Callable[..., Stack],
) -> None:
    # A worker killed between taking a job's message and claiming the job leaves no lease
    # for the reaper: the broker must give the message to another worker (visibility
    # timeout). Before, that timeout was 12 h and the job stayed queued that long.
    stack = make_stack(workers=0)
    with stack.client() as client:
        job = client.post("/v1/jobs", json=tiny_spec(client)).json()
        taker = subprocess.Popen(
            [sys.executable, "-c", _TAKE_ONE_MESSAGE],
            env={**os.environ, **stack.env},
            stdout=subprocess.PIPE,
            text=True,
        )
        assert taker.stdout is not None and job["id"] in taker.stdout.readline()
        taker.kill()  # SIGKILL: nothing acknowledges, nothing restores at shutdown
        taker.wait()
        stack.start_worker()
        done = wait_for_job(client, job["id"], timeout_s=60)
        assert done["status"] == "succeeded" and done["attempts"] == 1


def test_redis_killed_and_restarted_loses_no_job(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=1)
    with stack.client() as client:
        finished = client.post("/v1/jobs", json=tiny_spec(client)).json()
        assert wait_for_job(client, finished["id"])["status"] == "succeeded"
        running = slow_job(client, epochs=5)
        wait_for(
            lambda: client.get(f"/v1/jobs/{running['id']}").json()["epoch"] >= 1, 60, "an epoch"
        )
        queued = client.post("/v1/jobs", json=tiny_spec(client)).json()  # waits behind it
        assert client.get(f"/v1/jobs/{queued['id']}").json()["status"] == "queued"

        stack.redis.stop(signal.SIGKILL)
        for path in ("/healthz", "/v1/jobs"):
            started = time.monotonic()
            response = client.get(path, timeout=10)
            assert response.status_code == 503 and time.monotonic() - started < 5
            assert response.headers["content-type"] == "application/problem+json"
        time.sleep(1)
        stack.restart_redis()

        for job in (finished, running, queued):
            done = wait_for_job(client, job["id"], timeout_s=120)
            assert done["status"] == "succeeded", (job["id"], done["error"])
            epochs_once(client, done)
        assert client.get(f"/v1/jobs/{finished['id']}/weights").status_code == 200


def _strace_delays_fsync() -> bool:
    """strace can inject delays (4.22+) and may trace here (ptrace is not blocked)."""
    if shutil.which("strace") is None:
        return False
    probe = ["strace", "-f", "-qq", "-o", os.devnull, "-e", "inject=fsync:delay_enter=1", "true"]
    return subprocess.run(probe, capture_output=True).returncode == 0


@pytest.mark.skipif(not _strace_delays_fsync(), reason="needs strace able to delay fsync")
@pytest.mark.parametrize(
    ("appendfsync", "kept"), [(DURABLE_REDIS_ARGS[-1], True), ("everysec", False)]
)
def test_redis_keeps_what_it_acknowledged_when_killed_during_a_slow_fsync(
    tmp_path: Path, appendfsync: str, kept: bool
) -> None:
    """A busy disk, simulated by strace delaying every fsync 1 s: under the persistence
    Cornu runs Redis with, a write Redis answered survives a SIGKILL right after it. The
    `everysec` case shows the simulation bites: Redis answers before the write reaches
    the file, and the kill loses it (how the CI once lost a queued job)."""
    port = free_port()
    args = [shutil.which("redis-server") or redis_server_binary(), "--port", str(port)]
    args += ["--bind", "127.0.0.1", "--dir", str(tmp_path), "--save", ""]
    args += ["--logfile", str(tmp_path / "redis.log"), *DURABLE_REDIS_ARGS[:-1], appendfsync]
    slow_disk = ["strace", "-f", "-qq", "-o", os.devnull, "-e", "trace=fsync,fdatasync"]
    slow_disk += ["-e", "inject=fsync,fdatasync:delay_enter=1000000"]
    url = f"redis://127.0.0.1:{port}/0"

    def kill(process: subprocess.Popen[bytes]) -> None:
        os.killpg(process.pid, signal.SIGKILL)  # strace and Redis with it
        process.wait()

    def run(command: list[str]) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(command, start_new_session=True)
        try:
            wait_until(lambda: redis_answers(url), 30, "redis-server to answer")
        except TimeoutError:
            kill(process)
            raise
        return process

    redis = run([*slow_disk, *args])
    try:
        # everysec fsyncs in the background once the clock's second has moved on since the
        # last one (Redis 6.2 counts from its start): a second later, the writes start one.
        time.sleep(1.1)
        with Redis.from_url(url) as client:
            for i in range(2):  # a checkpoint's worth of writes
                client.set(f"blob{i}", os.urandom(1 << 20))
            client.set("accepted", "job")
        kill(redis)
        redis = run(args)
        with Redis.from_url(url) as client:
            assert (client.get("accepted") == b"job") is kept
    finally:
        if redis.poll() is None:
            kill(redis)


def test_two_hundred_jobs_through_a_killed_and_restarted_worker(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(workers=2, CORNU_MAX_ACTIVE_JOBS="500")
    with stack.client() as client:
        spec = tiny_spec(client)
        ids = [client.post("/v1/jobs", json=spec).json()["id"] for _ in range(200)]

        def succeeded() -> int:
            page = client.get("/v1/jobs", params={"limit": 100}).json()["jobs"]
            page += client.get("/v1/jobs", params={"limit": 100, "cursor": page[-1]["id"]}).json()[
                "jobs"
            ]
            return sum(j["status"] == "succeeded" for j in page)

        wait_for(lambda: succeeded() >= 50, 120, "a quarter of the jobs")
        victim = stack.services[1]  # `cornu worker`: it restarts its Celery process
        (killed,) = victim.training_children()
        os.kill(killed, signal.SIGKILL)
        wait_for(lambda: victim.training_children() not in ([], [killed]), 30,
                 "a fresh worker process")  # fmt: skip
        wait_for(lambda: succeeded() == 200, 240, "all 200 jobs")
        assert trained_to_end(stack, ids) == [1] * 200  # none trained twice to the end


def test_cancel_stops_a_running_job_within_two_seconds_and_a_queued_one_never_starts(
    make_stack: Callable[..., Stack],
) -> None:
    # The default heartbeat (5 s): a cancel must not wait for the lease's next renewal.
    stack = make_stack(workers=1, CORNU_HEARTBEAT_SECONDS="5", CORNU_LEASE_SECONDS="15")
    with stack.client() as client:
        running = slow_job(client, epochs=20)
        queued = client.post("/v1/jobs", json=tiny_spec(client)).json()
        wait_for(
            lambda: client.get(f"/v1/jobs/{running['id']}").json()["epoch"] >= 1, 60, "an epoch"
        )
        cancelled = client.post(f"/v1/jobs/{queued['id']}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        asked = time.monotonic()
        stopping = client.post(f"/v1/jobs/{running['id']}/cancel")
        assert stopping.status_code == 202
        wait_for(
            lambda: client.get(f"/v1/jobs/{running['id']}").json()["status"] == "cancelled",
            2,
            "the cancel",
        )
        assert time.monotonic() - asked < 2
        partial = client.get(f"/v1/jobs/{running['id']}/metrics").json()["history"]["loss"]
        assert 1 <= len(partial) < 20  # the epochs done are kept
        assert client.get(f"/v1/jobs/{running['id']}/checkpoints").json()["checkpoints"]
        time.sleep(1.5)  # the worker is free: the cancelled queued job must still not start
        assert "started" not in [e["type"] for e in events(client, queued["id"])]
        again = client.post(f"/v1/jobs/{queued['id']}/cancel")
        assert again.status_code == 409 and "has already cancelled" in again.json()["detail"]


def test_sigterm_checkpoints_gives_the_job_back_and_exits(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=2)
    with stack.client() as client:
        job = slow_job(client, epochs=6)
        wait_for(lambda: client.get(f"/v1/jobs/{job['id']}").json()["epoch"] >= 1, 60, "an epoch")
        pid = worker_pid(client, job["id"])
        owner = next(s for s in stack.services if pid in s.children())
        owner.process.send_signal(signal.SIGTERM)
        owner.process.wait(15)  # it stops after its current batch, not after the job
        done = wait_for_job(client, job["id"], timeout_s=90)
        assert done["status"] == "succeeded"
        epochs_once(client, done)
        kinds = [e["type"] for e in events(client, job["id"])]
        assert "released" in kinds and "lease_lost" not in kinds
        resumed = next(e for e in events(client, job["id"]) if e["type"] == "resumed")
        assert int(resumed["batch"]) > 0 or int(resumed["epoch"]) >= 1


def test_a_job_past_its_time_limit_fails_with_its_checkpoint_kept(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(workers=1, CORNU_MAX_JOB_SECONDS="2.5")
    with stack.client() as client:
        job = slow_job(client, epochs=20)
        done = wait_for_job(client, job["id"], timeout_s=60)
        assert done["status"] == "failed" and done["error"].startswith(
            "timeout: the job trained for longer than 2.5 s"
        )
        assert client.get(f"/v1/jobs/{job['id']}/checkpoints").json()["checkpoints"]


def test_worker_memory_does_not_grow_over_fifty_jobs_and_workers_are_recycled(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(workers=1, CORNU_WORKER_MAX_JOBS="60")
    with stack.client() as client:
        spec = tiny_spec(client)

        def run(n: int) -> list[str]:
            ids = [client.post("/v1/jobs", json=spec).json()["id"] for _ in range(n)]
            for job_id in ids:
                assert wait_for_job(client, job_id)["status"] == "succeeded"
            return ids

        first = run(10)
        pid = worker_pid(client, first[-1])
        rss_after_10 = rss_kib(pid)
        more = run(40)
        assert worker_pid(client, more[-1]) == pid  # the same process ran all 50
        growth = rss_kib(pid) - rss_after_10
        assert growth < 30 * 1024, f"worker RSS grew {growth} KiB from job 10 to job 50"
        last = run(15)  # past 60 jobs the worker process is replaced by a fresh one
        assert worker_pid(client, last[-1]) != pid


def rss_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


@pytest.mark.parametrize("scope", ["jobs", "datasets"])
def test_idempotency_keys_return_the_original_and_refuse_another_body(
    http: httpx.Client, worker: object, scope: str
) -> None:
    headers = {"Idempotency-Key": f"k-{scope}-{time.time_ns()}"}
    if scope == "jobs":
        spec = tiny_spec(http)
        first = http.post("/v1/jobs", json=spec, headers=headers)
        again = http.post("/v1/jobs", json=spec, headers=headers)
        other = http.post("/v1/jobs", json={**spec, "fit": {"epochs": 2}}, headers=headers)
    else:
        first = http.post(
            "/v1/datasets", files={"file": ("a.npy", npy(np.ones(3)))}, headers=headers
        )
        again = http.post(
            "/v1/datasets", files={"file": ("a.npy", npy(np.ones(3)))}, headers=headers
        )
        other = http.post(
            "/v1/datasets", files={"file": ("a.npy", npy(np.zeros(3)))}, headers=headers
        )
    assert first.status_code == again.status_code == 201
    assert (
        again.json()["id"] == first.json()["id"] and again.headers["idempotent-replayed"] == "true"
    )
    assert other.status_code == 409
    assert "was already used for a different request" in other.json()["detail"]


def npy(array: np.ndarray) -> bytes:
    from tests.helpers import npy_bytes

    return npy_bytes(array)
