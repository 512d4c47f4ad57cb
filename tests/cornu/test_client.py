"""`cornu.Client` against the live stack, and the SDK's promise of no torch."""

from __future__ import annotations

import socketserver
import subprocess
import sys
import threading
from collections.abc import Callable

import httpx
import numpy as np
import pytest
from safetensors.numpy import load

import cornu
from tests.conftest import Service
from tests.helpers import mlp_spec


@pytest.fixture
def client(api_url: str, new_api_key: Callable[[], str]) -> cornu.Client:
    return cornu.Client(api_url, new_api_key())


def test_upload_submit_wait_and_collect(client: cornu.Client, worker: Service) -> None:
    rng = np.random.default_rng(0)
    x, y = client.upload(rng.normal(size=(80, 6))), client.upload(rng.integers(0, 3, 80))
    assert x.shape == [80, 6] and x.dtype == "float64"
    job = client.submit(mlp_spec(x.id, y.id, features=6, classes=3, epochs=4))
    assert job.status.value == "queued"
    done = client.wait(job.id, timeout_s=120)
    assert done.status.value == "succeeded" and done.epoch == 4
    assert len(client.metrics(job.id).history["accuracy"]) == 4
    assert set(load(client.weights(job.id))) == {
        "dense/kernel",
        "dense/bias",
        "dense_1/kernel",
        "dense_1/bias",
    }
    assert client.jobs(limit=5).jobs[0].id == job.id


def test_errors_arrive_as_cornu_errors(client: cornu.Client, api_url: str) -> None:
    x = client.upload(np.zeros((4, 2)))
    spec = mlp_spec(x.id, "ds_nope", features=2, classes=2)
    with pytest.raises(cornu.SpecError) as info:
        client.submit(spec)
    assert info.value.errors[0].loc == ("data", "y")
    with pytest.raises(cornu.NotFound, match="no job 'job_x'"):
        client.job("job_x")
    with pytest.raises(cornu.Unauthorized, match="else CORNU_API_KEY"):
        cornu.Client(api_url, "cornu_wrong").job("job_x")


def test_importing_the_sdk_imports_no_torch_celery_or_redis() -> None:
    code = (
        "import sys, cornu; cornu.Client('http://127.0.0.1:1', 'k');"
        "heavy = [m for m in ('torch', 'celery', 'redis', 'fastapi') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_public_names() -> None:
    assert "Client" in cornu.__all__ and "SpecError" in cornu.__all__
    assert all(hasattr(cornu, name) for name in cornu.__all__)


class DroppingServer(socketserver.ThreadingTCPServer):
    """Answers the first request on each connection (keeping it alive, as uvicorn does),
    then reads the next one and closes without a word: what a client meets on a pooled
    connection the server dropped (after a 500, a restart, a proxy's idle timeout)."""

    daemon_threads = True
    allow_reuse_address = True
    DATASET = b'{"id": "ds_x", "shape": [2], "dtype": "float32", "bytes": 136, "sha256": "0"}'

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), DroppingServer.Handler)
        self.connections = 0
        self.requests: list[str] = []

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            server = self.server
            assert isinstance(server, DroppingServer)
            server.connections += 1
            for answered in (True, False):
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = self.request.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                server.requests.append(data.split(b" ", 1)[0].decode())
                if not answered:
                    return  # closed, unanswered
                body = DroppingServer.DATASET
                self.request.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: "
                    b"keep-alive\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                    + body
                )  # fmt: skip


def test_an_idempotent_call_on_a_dropped_connection_is_sent_again() -> None:
    """After a 500 the server closed the connection, and the SDK's next, unrelated call
    failed with 'connection reset' (19 of 30 times): a GET is sent again on a new
    connection; a POST, which may not be repeated, is not."""
    server = DroppingServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with cornu.Client(url, "cornu_k") as client:
            assert client.dataset("ds_x").id == "ds_x"
            assert client.dataset("ds_x").id == "ds_x"  # dropped, then sent again
            assert server.requests == ["GET", "GET", "GET"] and server.connections == 2
            with pytest.raises(httpx.RemoteProtocolError):
                client.submit({})  # a POST on the connection about to drop
    finally:
        server.shutdown()
        server.server_close()
