"""Data at scale through a real stack (Redis, `cornu api`, `cornu worker`, and a blob
store: SeaweedFS's S3 gateway or a directory), on loopback. Three measurements:

- `upload`: MB/s of `.npy` bytes stored, the SDK (`Client.upload`: SHA-256, zstd, parts —
  presigned straight to S3 on that backend) against `curl --data-binary` of the same
  `.npy` file to the API's one-request path (`POST /v1/datasets`), each run a new tenant
  so the bytes are really sent; an incompressible array and the book's multi-hot IMDB.
- `first-batch`: seconds from `fit()` to the job's first finished batch (its first
  `progress` event, timed by its stream id) for a 1 GiB float32 dataset: new data
  (upload + download), stored data with the worker's cache cold (download only), and
  with the cache warm (nothing downloaded).
- `big`: a 3 GiB float32 dataset from the SDK: the upload's process is SIGKILLed midway
  and run again (it must resume without re-sending finished parts), the API's resident
  memory is sampled throughout, and `fit()` trains one epoch on it.

    .venv/bin/python -m benchmarks.large_data upload [--backend s3|file] [--repeats 2]
    .venv/bin/python -m benchmarks.large_data first-batch [--backend s3|file]
    .venv/bin/python -m benchmarks.large_data big [--backend s3|file] [--gib 3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.upload import imdb_like
from cornu.client import Client
from cornu.core.embedded import free_port
from cornu.core.store import Store
from tests.conftest import (
    S3_BUCKET,
    Service,
    start_api,
    start_redis_server,
    start_seaweedfs,
    start_worker,
)
from tests.helpers import MemorySampler

MiB = 1024 * 1024
GiB = 1024 * MiB
FEATURES = 1024


@dataclass
class BenchStack:
    """Redis, an API, a worker with a dataset cache, and the blob store they share."""

    directory: Path
    backend: str
    env: dict[str, str] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    api: Service | None = None
    worker: Service | None = None
    url: str = ""

    def new_key(self, tenant: str) -> str:
        store = Store.from_url(self.env["CORNU_REDIS_URL"])
        try:
            return store.tenants.create_key(f"{tenant}-{time.time_ns()}")
        finally:
            store.close()

    def restart_worker(self, *, empty_cache: bool) -> None:
        """A fresh worker process; `empty_cache` deletes its dataset cache first."""
        assert self.worker is not None
        self.worker.stop()
        self.services.remove(self.worker)
        if empty_cache:
            subprocess.run(["rm", "-rf", self.env["CORNU_WORKER_CACHE_DIR"]], check=True)
        self.worker = start_worker(self.env, self.directory / "worker.log")
        self.services.append(self.worker)


@contextlib.contextmanager
def bench_stack(backend: str) -> Iterator[BenchStack]:
    with tempfile.TemporaryDirectory(prefix="cornu-bench-") as name:
        directory = Path(name)
        bench = BenchStack(directory, backend)
        port = free_port()
        bench.services.append(start_redis_server(directory / "redis", port))
        bench.env = {
            "CORNU_REDIS_URL": f"redis://127.0.0.1:{port}/0",
            "CORNU_HOME": str(directory / "home"),
            "CORNU_MAX_UPLOAD_BYTES": str(2 * GiB),  # curl's one-request path takes 1 GiB
            "CORNU_MAX_DATASET_BYTES": str(16 * GiB),
            "CORNU_WORKER_CACHE_BYTES": str(8 * GiB),
            "CORNU_WORKER_CACHE_DIR": str(directory / "worker-cache"),
        }
        s3 = None
        try:
            if backend == "s3":
                s3 = start_seaweedfs(directory / "s3")
                bench.env |= s3.env | {"CORNU_BLOB_URL": f"s3://{S3_BUCKET}/bench"}
            else:
                bench.env["CORNU_BLOB_URL"] = (directory / "blobs").as_uri()
            api_port = free_port()
            bench.api = start_api(bench.env, directory / "api.log", api_port)
            bench.services.append(bench.api)
            bench.url = f"http://127.0.0.1:{api_port}"
            bench.worker = start_worker(bench.env, directory / "worker.log")
            bench.services.append(bench.worker)
            yield bench
        finally:
            for service in reversed(bench.services):
                service.stop()
            if s3 is not None:
                s3.stop()


def dense(gib: float, seed: int = 0) -> np.ndarray:
    """`gib` GiB of float32 standard normals, FEATURES wide: incompressible."""
    rows = int(gib * GiB) // (FEATURES * 4)
    return np.random.default_rng(seed).standard_normal((rows, FEATURES), dtype=np.float32)


def npy_file(array: np.ndarray, directory: Path) -> Path:
    path = directory / "array.npy"
    np.save(path, array)
    return path


def curl_upload(bench: BenchStack, path: Path) -> float:
    """Seconds for curl to POST the file as the request body of `POST /v1/datasets`."""
    key = bench.new_key("curl")
    started = time.perf_counter()
    result = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", f"@{path}",
         "-H", "Content-Type: application/octet-stream", "-H", f"Authorization: Bearer {key}",
         f"{bench.url}/v1/datasets"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if result.stdout != "201":
        raise RuntimeError(f"curl's upload answered {result.stdout}: {result.stderr}")
    return seconds


def sdk_upload(bench: BenchStack, array: np.ndarray) -> float:
    key = bench.new_key("sdk")
    with Client(bench.url, key) as client:
        started = time.perf_counter()
        client.upload(array, keras_dtypes=True)
        return time.perf_counter() - started


def run_upload(args: argparse.Namespace) -> None:
    arrays = {
        # 1 GB: `curl --data-binary @file` holds the file in memory, up to 1 GiB.
        "uniform normal float32 (incompressible)": dense(1e9 / GiB),
        "IMDB multi-hot, uint8": imdb_like().astype(np.uint8),
    }
    with bench_stack(args.backend) as bench:
        for label, array in arrays.items():
            mb = (array.nbytes + 128) / 1e6
            with tempfile.TemporaryDirectory() as spool:
                path = npy_file(array, Path(spool))
                times: dict[str, list[float]] = {"sdk": [], "curl": []}
                for _ in range(args.repeats):  # alternated: the machine is noisy
                    times["sdk"].append(sdk_upload(bench, array))
                    times["curl"].append(curl_upload(bench, path))
            sdk, curl = (float(np.median(times[k])) for k in ("sdk", "curl"))
            print(f"{label}: {mb:.0f} MB of .npy; SDK "
                  f"{', '.join(f'{t:.2f}' for t in times['sdk'])} s ({mb / sdk:.0f} MB/s); "
                  f"curl {', '.join(f'{t:.2f}' for t in times['curl'])} s ({mb / curl:.0f} "
                  f"MB/s); SDK/curl throughput {curl / sdk:.2f}×")  # fmt: skip


def first_batch_seconds(client: Client, job_id: str, started: float) -> float:
    """From `started` (time.time()) to the job's first progress event, by its stream id
    (Redis's clock in ms: the same machine's)."""
    for event in client.stream(job_id):
        if event.event == "progress" and event.id:
            return int(event.id.split("-")[0]) / 1000 - started
    raise RuntimeError(f"job {job_id} sent no progress event")


def fit_once(bench: BenchStack, key: str, x: np.ndarray, y: np.ndarray) -> tuple[float, str]:
    """fit() one epoch of Dense(1) from the SDK: (seconds to the first batch, the job)."""
    os.environ |= {"CORNU_URL": bench.url, "CORNU_API_KEY": key}
    import cornu as keras

    model = keras.Sequential([keras.Input((FEATURES,)), keras.layers.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mse")
    started = time.time()
    history = model.fit(x, y, batch_size=4096, epochs=1, verbose=0)
    job_id = history.params["job"]
    with Client(bench.url, key) as client:
        return first_batch_seconds(client, job_id, started), job_id


def dataset_events(bench: BenchStack, key: str, job_id: str) -> str:
    with Client(bench.url, key) as client:
        events = [e for e in client.events(job_id) if e.type == "dataset"]
    return "; ".join(
        f"{extra.get('source')} ({int(extra.get('bytes_downloaded', 0)) / MiB:.1f} MiB "
        f"downloaded{', mapped' if extra.get('mapped') else ''})"
        for extra in (e.model_extra or {} for e in events)
    )


def run_first_batch(args: argparse.Namespace) -> None:
    x = dense(1.0)
    y = np.random.default_rng(1).standard_normal((len(x), 1), dtype=np.float32)
    with bench_stack(args.backend) as bench:
        key = bench.new_key("first-batch")
        cases = []
        seconds, job = fit_once(bench, key, x, y)
        cases.append(("new data: upload, download into the cold cache", seconds, job))
        seconds, job = fit_once(bench, key, x, y)
        cases.append(("stored data, warm cache", seconds, job))
        bench.restart_worker(empty_cache=True)
        seconds, job = fit_once(bench, key, x, y)
        cases.append(("stored data, cold cache (worker restarted, cache emptied)", seconds, job))
        seconds, job = fit_once(bench, key, x, y)
        cases.append(("stored data, warm cache again", seconds, job))
        for label, seconds, job in cases:
            where = dataset_events(bench, key, job)
            print(f"{label}: {seconds:.2f} s to the first batch [{where}]")


CHILD = """
import sys
import numpy as np
from benchmarks.large_data import dense
from cornu import resumable
from cornu.client import Client

send = resumable.ResumableUpload._send_part
def counted(self, upload, number, data):
    send(self, upload, number, data)
    print(f"part {number} {len(data)}", flush=True)
resumable.ResumableUpload._send_part = counted
x = dense(float(sys.argv[3]))
print("array ready", flush=True)
with Client(sys.argv[1], sys.argv[2]) as client:
    dataset = client.upload(x, keras_dtypes=True)
print("dataset", dataset.id, flush=True)
"""


def upload_in_child(
    bench: BenchStack, key: str, gib: float, kill_after_parts: int | None
) -> tuple[list[int], float, bool]:
    """Runs CHILD; SIGKILLs it once it has sent `kill_after_parts` parts. (Parts sent,
    seconds from the array being ready to the end, whether it finished.)"""
    env = {**os.environ, "CORNU_HOME": str(bench.directory / "client-home")}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, bench.url, key, str(gib)],
        stdout=subprocess.PIPE, text=True, env=env, cwd=Path(__file__).resolve().parent.parent,
    )  # fmt: skip
    assert child.stdout is not None
    parts: list[int] = []
    started = time.perf_counter()
    finished = False
    for line in child.stdout:
        if line.startswith("array ready"):
            started = time.perf_counter()
        elif line.startswith("part "):
            parts.append(int(line.split()[1]))
            if kill_after_parts is not None and len(parts) >= kill_after_parts:
                child.send_signal(signal.SIGKILL)
                break
        elif line.startswith("dataset "):
            finished = True
    child.wait()
    return parts, time.perf_counter() - started, finished


def run_big(args: argparse.Namespace) -> None:
    with bench_stack(args.backend) as bench:
        assert bench.api is not None and bench.worker is not None
        key = bench.new_key("big")
        sampler = MemorySampler(bench.api.process.pid)
        sampler.start()
        first, first_s, done = upload_in_child(bench, key, args.gib, kill_after_parts=args.kill_at)
        assert not done
        second, second_s, done = upload_in_child(bench, key, args.gib, kill_after_parts=None)
        assert done, "the second upload did not finish"
        api_before, api_peak = sampler.stop()
        resent = sorted(set(first) & set(second))
        print(f"{args.gib:g} GiB float32 via the SDK ({args.backend}): killed after "
              f"{len(first)} parts ({first_s:.1f} s); the second run sent {len(second)} parts "
              f"({second_s:.1f} s), re-sent {len(resent)} of the first's {resent[:5]}")  # fmt: skip
        print(f"API resident memory: {api_before / MiB:.0f} MiB before, peak "
              f"{api_peak / MiB:.0f} MiB (+{(api_peak - api_before) / MiB:.0f} MiB)")  # fmt: skip
        x = dense(args.gib)
        y = np.random.default_rng(1).standard_normal((len(x), 1), dtype=np.float32)
        worker = MemorySampler(bench.worker.process.pid, "RssAnon")
        worker.start()
        started = time.perf_counter()
        first_batch, job = fit_once(bench, key, x, y)
        seconds = time.perf_counter() - started
        worker_before, worker_peak = worker.stop()
        with Client(bench.url, key) as client:
            loss = client.job(job).metrics
        where = dataset_events(bench, key, job)
        print(f"fit on {x.nbytes / GiB:.2f} GiB: {seconds:.1f} s in all, first batch after "
              f"{first_batch:.1f} s, metrics {loss}; data: {where}; worker's anonymous memory "
              f"{worker_before / MiB:.0f} → peak {worker_peak / MiB:.0f} MiB")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("measure", choices=["upload", "first-batch", "big"])
    parser.add_argument("--backend", choices=["s3", "file"], default="s3")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--gib", type=float, default=3.0, help="big: the dataset's size")
    parser.add_argument("--kill-at", type=int, default=60, help="big: parts before the kill")
    args = parser.parse_args()
    {"upload": run_upload, "first-batch": run_first_batch, "big": run_big}[args.measure](args)


if __name__ == "__main__":
    main()
