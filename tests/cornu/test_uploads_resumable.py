"""The SDK's resumable uploads against a real stack (Redis, an API that logs every request,
a worker): arrays above `CORNU_MULTIPART_BYTES` go in parts, a failed part is sent again,
an interrupted upload resumes from a fresh client sending only the missing parts, and the
progress bar moves by parts. What reaches the service is counted twice: by a transport
wrapped around httpx's real one (before the wire) and by the API's access log."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

import cornu.client
from cornu.client import Client
from cornu.core.embedded import free_port
from cornu.core.errors import ServiceUnavailable
from cornu.core.store import Store, keys
from cornu.progress import upload_progress
from cornu.uploads import NpyStream
from tests.conftest import (
    S3_BUCKET,
    Service,
    start_api,
    start_redis_server,
    start_worker,
)
from tests.helpers import mlp_spec

MiB = 1024 * 1024
SERVICE = {
    "CORNU_UPLOAD_MAX_PART_BYTES": str(8 * MiB),
    "CORNU_MAX_DATASET_BYTES": str(64 * MiB),
}
_API_PART = re.compile(r'"PUT /v1/uploads/(up_\w+)/parts/(\d+) HTTP/1.1" 200')
_PART_PATH = re.compile(r"/v1/uploads/up_\w+/parts/(\d+)$")


class Stack:
    def __init__(self, backend: str, url: str, redis_url: str, api: Service, s3: Any) -> None:
        self.backend, self.url, self.redis_url, self.api, self.s3 = backend, url, redis_url, api, s3

    def key(self) -> str:
        store = Store.from_url(self.redis_url)
        try:
            return store.tenants.create_key(f"t{time.time_ns()}")
        finally:
            store.close()

    def api_parts(self) -> Counter[int]:
        """Part number → parts the API stored (its access log), all uploads together."""
        return Counter(int(m[2]) for m in _API_PART.finditer(self.api.output()))


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    backend = getattr(request, "param", "file")
    directory = tmp_path_factory.mktemp(f"resumable-{backend}")
    port = free_port()
    redis_server = start_redis_server(directory / "redis", port)
    redis_url = f"redis://127.0.0.1:{port}/0"
    env = {
        "CORNU_REDIS_URL": redis_url,
        "CORNU_HOME": str(directory / "home"),
        "CORNU_DEVICE": "cpu",
        "OMP_NUM_THREADS": "1",
        "CORNU_BLOB_URL": (directory / "blobs").as_uri(),
        **SERVICE,
    }
    s3 = None
    if backend == "s3":
        server = request.getfixturevalue("s3_server")
        env.update(server.env, CORNU_BLOB_URL=f"s3://{S3_BUCKET}/resumable-{time.time_ns()}")
        s3 = server.client()
    services: list[Service] = []
    try:
        api_port = free_port()
        api = start_api(env, directory / "api.log", api_port, log_level="info")
        services.append(api)
        url = f"http://127.0.0.1:{api_port}"
        services.append(start_worker(env, directory / "worker.log"))
        yield Stack(backend, url, redis_url, api, s3)
    finally:
        for service in reversed(services):
            service.stop()
        redis_server.stop()


@pytest.fixture(autouse=True)
def client_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The SDK's settings: parts from 1 MiB of compressed bytes on, 5 MiB each, quick retries."""
    home = tmp_path / "client-home"
    monkeypatch.setenv("CORNU_HOME", str(home))
    monkeypatch.setenv("CORNU_MULTIPART_BYTES", str(1 * MiB))
    monkeypatch.setenv("CORNU_PART_BYTES", str(5 * MiB))
    monkeypatch.setenv("CORNU_RETRY_BACKOFF_SECONDS", "0.05")
    return home


class Wire(httpx.BaseTransport):
    """httpx's real transport, counting the part requests that reach the wire (API route
    or presigned URL) and the most on their way at once, and dropping those
    `drop(number, attempt)` names before sending."""

    def __init__(self, drop: Callable[[int, int], bool] = lambda number, attempt: False) -> None:
        self.inner = httpx.HTTPTransport()
        self.drop = drop
        self.attempts: Counter[int] = Counter()
        self.sent: Counter[int] = Counter()
        self.lock = threading.Lock()
        self.active = self.most_active = 0

    @staticmethod
    def part_number(request: httpx.Request) -> int | None:
        if request.method != "PUT":
            return None
        if match := _PART_PATH.search(request.url.path):
            return int(match[1])
        number = request.url.params.get("partNumber")
        return int(number) if number else None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        number = self.part_number(request)
        if number is None:
            return self.inner.handle_request(request)
        with self.lock:  # parts are sent from several threads
            self.attempts[number] += 1
            if self.drop(number, self.attempts[number]):
                raise httpx.WriteError(f"the connection dropped (part {number})", request=request)
            self.sent[number] += 1
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            response = self.inner.handle_request(request)
            response.read()  # the part is stored once its answer is in
            return response
        finally:
            with self.lock:
                self.active -= 1

    def close(self) -> None:
        self.inner.close()


def three_parts(seed: int) -> np.ndarray:
    """13.1 MB of .npy that zstd would shrink only to 12.1 MB, so it goes uncompressed:
    parts of 5, 5 and 2.5 MiB."""
    return np.random.default_rng(seed).normal(size=(4096, 800)).astype(np.float32)


def test_a_large_array_goes_in_parts_retried_and_trains(stack: Stack) -> None:
    x = three_parts(0)
    wire = Wire(drop=lambda number, attempt: number == 2 and attempt == 1)
    before, key = stack.api_parts(), stack.key()
    with Client(stack.url, key, transport=wire) as client:
        dataset = client.upload(x)
        assert dataset.shape == [4096, 800] and dataset.sha256 == NpyStream(x).sha256()
        store = Store.from_url(stack.redis_url)
        assert store.redis.hget(keys.dataset(dataset.id), "encoding") == b"identity"
        store.close()
        assert wire.attempts == Counter({1: 1, 2: 2, 3: 1})  # part 2 dropped once, sent again
        assert wire.sent == Counter({1: 1, 2: 1, 3: 1})
        if stack.backend == "file":
            assert stack.api_parts() - before == Counter({1: 1, 2: 1, 3: 1})
        else:  # straight to the object store: the API's part route never saw a byte
            assert stack.api_parts() == before
            assert "/parts/2/url" in stack.api.output()
        # The same content again: the service has it, nothing is sent.
        with Client(stack.url, key) as other:
            assert other.upload(x) == dataset
        y = client.upload((x[:, 0] > 0).astype(np.int64))  # small: one request
        job = client.submit(mlp_spec(dataset.id, y.id, features=800, classes=2, epochs=1))
        assert client.wait(job.id, timeout_s=120).status.value == "succeeded"
    assert wire.sent == Counter({1: 1, 2: 1, 3: 1})
    assert not list((client_settings_home() / "uploads").glob("*.json"))  # done: forgotten


def client_settings_home() -> Path:
    return cornu.client.client_settings().home


def test_an_interrupted_upload_resumes_sending_only_the_missing_parts(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    x = three_parts(1)
    key = stack.key()
    before = stack.api_parts()
    monkeypatch.setenv("CORNU_PART_RETRIES", "1")
    cut = Wire(drop=lambda number, attempt: number == 3)  # the connection dies at part 3
    with Client(stack.url, key, transport=cut) as client, pytest.raises(ServiceUnavailable) as err:
        client.upload(x)
    assert "part 3" in str(err.value) and "again to resume" in str(err.value)
    assert cut.sent == Counter({1: 1, 2: 1}) and cut.attempts[3] == 2
    assert len(list((client_settings_home() / "uploads").glob("*.json"))) == 1

    fresh = Wire()  # a new client (a new process): same content, same CORNU_HOME
    with Client(stack.url, key, transport=fresh) as client:
        dataset = client.upload(x)
    assert fresh.sent == Counter({3: 1})
    assert dataset.sha256 == NpyStream(x).sha256() and dataset.shape == [4096, 800]
    if stack.backend == "file":
        assert stack.api_parts() - before == Counter({1: 1, 2: 1, 3: 1})
    assert not list((client_settings_home() / "uploads").glob("*.json"))


@pytest.mark.parametrize("parallel", [1, 4])
def test_the_progress_bar_moves_by_parts(
    stack: Stack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    parallel: int,
) -> None:
    monkeypatch.setenv("CORNU_PARALLEL_PARTS", str(parallel))
    x = three_parts(2 + parallel)
    wire = Wire()
    steps: list[tuple[int, int]] = []  # (.npy bytes the bar moved by, parts sent by then)

    @contextlib.contextmanager
    def recorded(name: str, stream: NpyStream, *, shown: bool) -> Iterator[Any]:
        with upload_progress(name, stream, shown=shown) as advance:
            assert advance is not None

            def step(n: int) -> None:
                steps.append((n, sum(wire.sent.values())))
                advance(n)

            yield step

    monkeypatch.setattr("cornu.progress.SHOWN_UPLOAD_BYTES", 1 * MiB)
    monkeypatch.setattr(cornu.client, "upload_progress", recorded)
    with Client(stack.url, stack.key(), transport=wire) as client:
        client.upload(x, name="x_train", progress=True)
    # One step once each part is stored, in order (with parts sent at once, the later
    # ones may be stored by then too).
    sent_by_then = [parts for _, parts in steps]
    assert sent_by_then == [1, 2, 3] if parallel == 1 else len(steps) == 3
    assert all(parts >= i for i, parts in enumerate(sent_by_then, start=1))
    assert wire.most_active == 1 if parallel == 1 else wire.most_active > 1  # at once
    assert sum(n for n, _ in steps) == NpyStream(x).nbytes
    assert all(n > 0 for n, _ in steps)
    out = capsys.readouterr().out
    assert "Uploading x_train (4096, 800) float32" in out and "13.1/13.1" in out


# Last: the module's S3 stack starts after the file one has stopped.
@pytest.mark.parametrize("stack", ["s3"], indirect=True)
def test_parts_go_straight_to_the_object_store(stack: Stack) -> None:
    test_a_large_array_goes_in_parts_retried_and_trains(stack)
