"""The API's throughput and tail latency on its hot read path, measured with wrk.

Starts a Redis and `cornu api` (one process, then `--workers 2`) on free loopback ports,
a tenant whose request rate is raised past what the machine can send, and one queued
job; then `wrk --latency` on `GET /v1/jobs/{id}` at 10 and 100 connections. Prints one
row per (processes, connections): requests per second and the 50th/99th percentile
latency, as wrk reports them.

    .venv/bin/python benchmarks/api.py [--seconds 10] [--threads 2]

wrk (the Debian package) must be on PATH. Loopback only.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cornu.core.embedded import free_port  # noqa: E402
from cornu.core.spec import QuotaChange  # noqa: E402
from cornu.core.store import Store  # noqa: E402
from tests.conftest import Service, start_cornu, start_redis_server, wait_until  # noqa: E402
from tests.helpers import mlp_spec, upload  # noqa: E402

# Issue 11's figures for `GET /v1/jobs/{id}` on one API process, before this benchmark
# existed (its machine; measured with wrk the same way): connections → (req/s, p99 ms).
ISSUE_BASELINE = {10: (1429.0, None), 100: (1087.0, 251.0)}


@dataclass
class Row:
    processes: int
    connections: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def run_wrk(
    url: str, key: str, connections: int, seconds: int, threads: int
) -> tuple[float, float, float]:
    out = subprocess.run(
        ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency",
         "-H", f"Authorization: Bearer {key}", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} answers were not 200:\n{out}")
    return rate, _ms(*p50.groups()), _ms(*p99.groups())  # type: ignore[union-attr]


def start_api(env: dict[str, str], directory: Path, processes: int) -> tuple[Service, str]:
    port = free_port()
    args = ["api", "--port", str(port), "--log-level", "warning", "--workers", str(processes)]
    if processes == 1:
        args = args[:-2]  # uvicorn's own single process (no supervisor)
    service = start_cornu(args, env, directory / f"api-{processes}.log")
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(healthy, 120, "the API to answer")
    return service, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--connections", type=int, nargs="+", default=[10, 100])
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")

    directory = Path(tempfile.mkdtemp(prefix="cornu-api-bench-"))
    redis_port = free_port()
    redis = start_redis_server(directory / "redis", redis_port)
    env = {
        "CORNU_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CORNU_HOME": str(directory / "home"),
        "CORNU_DEVICE": "cpu",
    }
    store = Store.from_url(env["CORNU_REDIS_URL"])
    key, info = store.tenants.issue("bench")
    store.quotas.set(info.tenant, QuotaChange(requests_per_second=1e6, request_burst=1_000_000))
    store.close()
    rows = []
    try:
        for processes in args.processes:
            service, url = start_api(env, directory, processes)
            try:
                with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as http:
                    x = upload(http, np.zeros((8, 2), np.float32))
                    y = upload(http, np.zeros(8, np.int64))
                    job = http.post("/v1/jobs", json=mlp_spec(x, y, features=2, classes=2))
                    job_url = f"{url}/v1/jobs/{job.json()['id']}"
                run_wrk(job_url, key, 10, 2, args.threads)  # warm-up
                for connections in args.connections:
                    time.sleep(1)
                    rate, p50, p99 = run_wrk(job_url, key, connections, args.seconds, args.threads)
                    rows.append(Row(processes, connections, rate, p50, p99))
                    line = f"{rate:8.0f} req/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms"
                    print(f"processes {processes}  connections {connections:>3}  {line}")
            finally:
                service.stop()
    finally:
        redis.stop()
        shutil.rmtree(directory, ignore_errors=True)
    print("\n| API processes | connections | requests/s | p50 | p99 |\n|---|---|---|---|---|")
    for connections, (rate, p99) in ISSUE_BASELINE.items():
        shown = f"{p99:.1f} ms" if p99 is not None else "?"
        print(f"| 1 (issue 11's baseline) | {connections} | {rate:,.0f} | ? | {shown} |")
    for r in rows:
        print(f"| {r.processes} | {r.connections} | {r.requests_per_s:,.0f} | "
              f"{r.p50_ms:.1f} ms | {r.p99_ms:.1f} ms |")  # fmt: skip


if __name__ == "__main__":
    main()
