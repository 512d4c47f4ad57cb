"""The client commands of `cornu` (submit, jobs, status, logs, cancel, download, summary),
run from a shell as a user runs them, against the session's API and worker."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from safetensors.numpy import load_file

from cornu.core.embedded import free_port
from cornu.core.store import Store
from tests.conftest import Service
from tests.core.spec.keras_zoo import keras_or_skip
from tests.helpers import mlp_spec, upload, wait_for_job

ROOT = Path(__file__).resolve().parents[2]
JOB_ID = re.compile(r"^job_[0-9A-Z]{26}$")


@dataclass
class Tenant:
    """A fresh tenant: its key for the CLI, and an HTTP client to set up and check."""

    url: str
    key: str
    http: httpx.Client

    def cli(self, *args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
        """`cornu ARGS` with CORNU_URL and CORNU_API_KEY set to this tenant's."""
        return subprocess.run(
            [sys.executable, "-m", "cornu", *map(str, args)],
            capture_output=True,
            text=True,
            env={**os.environ, "CORNU_URL": self.url, "CORNU_API_KEY": self.key, **env},
            cwd=ROOT,
            timeout=90,
        )

    def submit(self, spec: dict[str, Any]) -> str:
        response = self.http.post("/v1/jobs", json=spec)
        assert response.status_code == 201, response.text
        job_id: str = response.json()["id"]
        return job_id

    def status(self, job_id: str) -> str:
        status: str = self.http.get(f"/v1/jobs/{job_id}").json()["status"]
        return status


@pytest.fixture(scope="module")
def tenant(api_url: str, redis_url: str, worker: Service) -> Iterator[Tenant]:
    store = Store.from_url(redis_url)
    try:
        key = store.tenants.create_key(f"cli{time.time_ns()}")
    finally:
        store.close()
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=api_url, headers=headers, timeout=30) as http:
        yield Tenant(api_url, key, http)


@dataclass
class Files:
    spec: Path  # a JobSpec without "data": 8 features, 4 classes, 2 epochs
    x: Path
    y: Path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    directory = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    x, y = directory / "x.npy", directory / "y.npy"
    np.save(x, rng.normal(size=(64, 8)).astype(np.float32), allow_pickle=False)
    np.save(y, rng.integers(0, 4, 64), allow_pickle=False)
    spec = mlp_spec("-", "-", features=8, classes=4, epochs=2)
    del spec["data"]
    spec_file = directory / "spec.json"
    spec_file.write_text(json.dumps(spec))
    return Files(spec_file, x, y)


def small_spec(tenant: Tenant, files: Files, epochs: int = 2) -> dict[str, Any]:
    x = upload(tenant.http, np.load(files.x))
    y = upload(tenant.http, np.load(files.y))
    return mlp_spec(x, y, features=8, classes=4, epochs=epochs)


@pytest.fixture(scope="module")
def trained(tenant: Tenant, files: Files) -> str:
    """A succeeded two-epoch job of the tenant."""
    job_id = tenant.submit(small_spec(tenant, files))
    assert wait_for_job(tenant.http, job_id, timeout_s=60)["status"] == "succeeded"
    return job_id


def epoch_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("Epoch ")]


def test_submit_wait_uploads_trains_and_prints_the_job_id_last(
    tenant: Tenant, files: Files
) -> None:
    result = tenant.cli(
        "submit", files.spec, "--x", files.x, "--y", files.y,
        "--val-x", files.x, "--val-y", files.y, "--wait",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    job_id = result.stdout.splitlines()[-1]
    assert JOB_ID.match(job_id), result.stdout
    lines = epoch_lines(result.stdout)
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/2", "Epoch 2/2"]
    assert all(re.search(r" - \d+\.\ds - .*loss: \d\.\d{4}", line) for line in lines), lines
    assert all("val_loss: " in line for line in lines), lines
    assert f"Job {job_id} succeeded" in result.stdout
    assert tenant.status(job_id) == "succeeded"
    history = tenant.http.get(f"/v1/jobs/{job_id}/metrics").json()["history"]
    assert len(history["val_loss"]) == 2


@pytest.mark.parametrize(
    ("with_x", "message"),
    [
        (False, 'has no "data": give the arrays to train on with --x and --y'),
        (True, "--x with --y"),
    ],
)
def test_submit_without_data_is_a_usage_error(
    tenant: Tenant, files: Files, with_x: bool, message: str
) -> None:
    result = tenant.cli("submit", files.spec, *(["--x", str(files.x)] if with_x else []))
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert "Traceback" not in result.stderr


def test_status_is_3_while_running_cancel_stops_the_job_then_status_is_2(
    tenant: Tenant, files: Files, tmp_path: Path
) -> None:
    # Long enough to be cancelled mid-way: 1,024 batches an epoch, 50 epochs.
    rng = np.random.default_rng(1)
    spec = mlp_spec(
        upload(tenant.http, rng.normal(size=(4096, 8)).astype(np.float32)),
        upload(tenant.http, rng.integers(0, 4, 4096)),
        features=8,
        classes=4,
        epochs=50,
    )
    spec["fit"]["batch_size"] = 4  # type: ignore[index]
    spec_file = tmp_path / "long.json"
    spec_file.write_text(json.dumps(spec))  # its data are dataset ids: no --x, --y needed
    submitted = tenant.cli("submit", spec_file)
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.splitlines()[-1]
    try:
        running = tenant.cli("status", job_id)
        assert running.returncode == 3, running.stdout + running.stderr
        assert re.search(r"^status +(queued|running)$", running.stdout, re.M), running.stdout
        deadline = time.monotonic() + 60
        while tenant.status(job_id) != "running" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert tenant.status(job_id) == "running"

        cancelled = tenant.cli("cancel", job_id)
        assert cancelled.returncode == 0, cancelled.stderr
        assert "stops after its current batch" in cancelled.stdout
        assert wait_for_job(tenant.http, job_id, timeout_s=30)["status"] == "cancelled"
        after = tenant.cli("status", job_id)
        assert after.returncode == 2
        assert re.search(r"^status +cancelled$", after.stdout, re.M), after.stdout
    finally:
        if tenant.status(job_id) in ("queued", "running"):
            tenant.http.post(f"/v1/jobs/{job_id}/cancel")


def test_status_and_logs_follow_of_a_failed_job_exit_1_with_its_error(
    tenant: Tenant, files: Files
) -> None:
    bad_x = np.load(files.x)
    bad_x[9, 3] = np.nan
    spec = mlp_spec(
        upload(tenant.http, bad_x), upload(tenant.http, np.load(files.y)), features=8, classes=4
    )
    job_id = tenant.submit(spec)
    assert wait_for_job(tenant.http, job_id, timeout_s=60)["status"] == "failed"
    reason = "x contains NaN or infinite values (the first in sample 9)"

    status = tenant.cli("status", job_id)
    assert status.returncode == 1
    assert re.search(r"^status +failed$", status.stdout, re.M), status.stdout
    assert reason in status.stdout and status.stderr == ""

    followed = tenant.cli("logs", job_id, "--follow")
    assert followed.returncode == 1
    assert followed.stdout.splitlines()[-1].startswith(f"Job {job_id} failed: {reason}")


def test_status_of_a_succeeded_job_exits_0_with_its_metrics(tenant: Tenant, trained: str) -> None:
    result = tenant.cli("status", trained)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^status +succeeded$", result.stdout, re.M), result.stdout
    assert re.search(r"^epoch +2/2$", result.stdout, re.M), result.stdout
    assert re.search(r"^metrics .*loss: \d\.\d{4}", result.stdout, re.M), result.stdout


def test_logs_follow_prints_each_epoch_once_as_it_ends(tenant: Tenant, files: Files) -> None:
    job_id = tenant.submit(small_spec(tenant, files, epochs=3))
    result = tenant.cli("logs", job_id, "--follow")  # started while the job is young
    assert result.returncode == 0, result.stderr
    lines = epoch_lines(result.stdout)
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert result.stdout.splitlines()[-1] == f"Job {job_id} succeeded"


def test_logs_prints_the_events_and_epochs_so_far(tenant: Tenant, trained: str) -> None:
    result = tenant.cli("logs", trained)
    assert result.returncode == 0, result.stderr
    kinds = re.findall(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  (\w+)", result.stdout, re.M)
    assert kinds[0] == "queued" and kinds[1] == "started" and kinds[-1] == "succeeded"
    lines = epoch_lines(result.stdout)
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/2", "Epoch 2/2"]


def test_jobs_lists_the_tenants_jobs(tenant: Tenant, trained: str) -> None:
    result = tenant.cli("jobs", "--limit", "50")
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if trained in line)
    assert re.search(r"succeeded +2/2 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\d\.\d{4}$", row), row


def test_download_writes_a_safetensors_file(tenant: Tenant, trained: str, tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    result = tenant.cli("download", trained, "-o", path)
    assert result.returncode == 0, result.stderr
    assert f"{path} ({path.stat().st_size:,} bytes)" in result.stdout
    shapes = sorted(array.shape for array in load_file(path).values())
    assert shapes == sorted([(8, 16), (16,), (16, 4), (4,)])  # Keras's kernel layout


def test_download_writes_a_keras_file_keras_loads(
    tenant: Tenant, trained: str, tmp_path: Path
) -> None:
    keras = keras_or_skip()
    path = tmp_path / "model.keras"
    result = tenant.cli("download", trained, "--format", "keras", "-o", path)
    assert result.returncode == 0, result.stderr
    model = keras.models.load_model(path)
    assert model.count_params() == 8 * 16 + 16 + 16 * 4 + 4


MNIST_MLP: dict[str, Any] = {
    "type": "sequential",
    "layers": [
        {"type": "Dense", "units": 32, "activation": "relu", "input_shape": [784]},
        {"type": "Dense", "units": 10, "activation": "softmax"},
    ],
}


@pytest.mark.parametrize("form", ["model", "jobspec"])
def test_summary_prints_keras_parameter_counts(tenant: Tenant, tmp_path: Path, form: str) -> None:
    job_spec = {**mlp_spec("a", "b", features=1, classes=2), "model": MNIST_MLP}
    spec = MNIST_MLP if form == "model" else job_spec  # a JobSpec: its "model" is summarised
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    result = tenant.cli("summary", path)
    assert result.returncode == 0, result.stderr
    # Keras 3's model.summary() of this model: 784·32 + 32 and 32·10 + 10 parameters.
    assert re.search(r"\(Dense\) .*\(None, 32\) .* 25,120 ", result.stdout), result.stdout
    assert re.search(r"\(Dense\) .*\(None, 10\) .* 330 ", result.stdout), result.stdout
    assert " Total params: 25,450 (99.41 KB)" in result.stdout
    assert " Trainable params: 25,450 (99.41 KB)" in result.stdout
    assert " Non-trainable params: 0 (0.00 B)" in result.stdout


@pytest.mark.parametrize("command", ["status", "logs --follow", "download -o {tmp}/w"])
def test_an_unknown_job_is_a_readable_error(tenant: Tenant, tmp_path: Path, command: str) -> None:
    missing = "job_00000000000000000000000000"
    name, *options = command.format(tmp=tmp_path).split()
    result = tenant.cli(name, missing, *options)
    assert result.returncode == 1
    assert result.stderr == f"error: no job '{missing}'\n"
    assert result.stdout == ""


def test_a_bad_api_key_is_refused(tenant: Tenant, trained: str) -> None:
    result = tenant.cli("status", trained, "--api-key", "cornu_not-a-key")  # over the env's
    assert result.returncode == 1
    assert result.stderr.startswith("error: the API key is not valid")
    assert "Traceback" not in result.stderr


def test_no_service_at_the_url_is_a_readable_error(tenant: Tenant) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = tenant.cli("jobs", "--url", url)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot reach the Cornu service at {url}")
    assert "Traceback" not in result.stderr
