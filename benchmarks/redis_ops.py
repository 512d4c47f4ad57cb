"""Redis operations per running job per second, at the service's default settings.

Starts a Redis, `cornu api` and `--workers` training workers (default settings: a
heartbeat every 5 s, a cancel check every 0.5 s, progress every 0.25 s, a checkpoint
each epoch), then counts Redis's commands (`INFO commandstats`) over `--seconds`:
first with every worker idle, then with one long job running on each worker, then with
a client following each job's live stream as the SDK's progress bar does. Prints the
commands per second of each phase, what one running job adds, and the commands that
make it up.

    .venv/bin/python benchmarks/redis_ops.py [--seconds 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cornu.core.embedded import free_port  # noqa: E402
from cornu.core.store import Store  # noqa: E402
from tests.conftest import start_api, start_redis_server, start_worker  # noqa: E402
from tests.helpers import upload, wait_for_job  # noqa: E402


def commands(client: redis.Redis) -> Counter[str]:
    """Calls of each command since Redis started."""
    stats = client.info("commandstats")
    return Counter({name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()})


def rate(client: redis.Redis, seconds: float) -> tuple[float, Counter[str]]:
    """Commands per second over `seconds`, in all and by command."""
    before = commands(client)
    time.sleep(seconds)
    spent = commands(client)
    spent.subtract(before)
    spent.pop("info", None)
    return spent.total() / seconds, Counter({k: v / seconds for k, v in spent.items() if v})


def long_job(http: httpx.Client) -> str:
    """A job of the book's MLP size that trains for many minutes."""
    rng = np.random.default_rng(0)
    x = upload(http, rng.normal(size=(60_000, 784)).astype(np.float32))
    y = upload(http, rng.integers(0, 10, 60_000))
    spec = {
        "model": {"layers": [
            {"type": "Dense", "units": 512, "activation": "relu", "input_shape": [784]},
            {"type": "Dense", "units": 10, "activation": "softmax"}]},
        "compile": {"optimizer": "rmsprop", "loss": "sparse_categorical_crossentropy",
                    "metrics": ["accuracy"]},
        "fit": {"epochs": 1000, "batch_size": 128},
        "data": {"x": x, "y": y},
    }  # fmt: skip
    return str(http.post("/v1/jobs", json=spec).json()["id"])


def follow(url: str, key: str, job_id: str, stop: threading.Event) -> None:
    """Read the job's live stream (SSE) until `stop`, as the SDK's progress bar does."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.stream("GET", f"{url}/v1/jobs/{job_id}/stream", headers=headers,
                      timeout=None) as response:  # fmt: skip
        for _ in response.iter_lines():
            if stop.is_set():
                return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="cornu-redis-ops-"))
    port = free_port()
    server = start_redis_server(directory / "redis", port)
    env = {"CORNU_REDIS_URL": f"redis://127.0.0.1:{port}/0", "CORNU_HOME": str(directory),
           "CORNU_DEVICE": "cpu", "OMP_NUM_THREADS": "1"}  # fmt: skip
    services = [server]
    stop = threading.Event()
    try:
        api_port = free_port()
        services.append(start_api(env, directory / "api.log", api_port))
        for n in range(args.workers):
            services.append(start_worker(env, directory / f"worker-{n}.log"))
        url = f"http://127.0.0.1:{api_port}"
        store = Store.from_url(env["CORNU_REDIS_URL"])
        key = store.tenants.create_key("bench")
        store.close()
        client = redis.Redis.from_url(env["CORNU_REDIS_URL"])
        time.sleep(5)  # the workers settle (first heartbeats, reaper rounds)
        idle, _ = rate(client, args.seconds)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as http:
            jobs = [long_job(http) for _ in range(args.workers)]
            deadline = time.monotonic() + 120
            while any(http.get(f"/v1/jobs/{j}").json()["status"] != "running" for j in jobs):
                assert time.monotonic() < deadline, "the jobs never started"
                time.sleep(0.5)
            time.sleep(3)
            running, by_command = rate(client, args.seconds)
            for job_id in jobs:
                threading.Thread(target=follow, args=(url, key, job_id, stop), daemon=True).start()
            time.sleep(2)
            streamed, by_stream = rate(client, args.seconds)
            for job_id in jobs:
                http.post(f"/v1/jobs/{job_id}/cancel")
            for job_id in jobs:
                wait_for_job(http, job_id, 60)
    finally:
        stop.set()
        for service in reversed(services):
            service.stop()
        shutil.rmtree(directory, ignore_errors=True)
    n = args.workers
    per_job = (running - idle) / n
    per_stream = (streamed - running) / n
    print(f"idle ({n} workers, API): {idle:.1f} commands/s")
    print(f"{n} jobs running: {running:.1f} commands/s → {per_job:.1f} per running job")
    print(f"each followed by a stream: {streamed:.1f} commands/s → {per_stream:.1f} per stream")
    print("\nwhile the jobs run, by command (÷ jobs; idle commands included):")
    for name, value in by_command.most_common(8):
        print(f"  {name:<16} {value / n:6.1f}/s")
    print("\nwith streams, by command:")
    for name, value in by_stream.most_common(8):
        print(f"  {name:<16} {value / n:6.1f}/s")


if __name__ == "__main__":
    main()
