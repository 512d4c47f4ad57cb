"""Helpers shared by the API and integration tests."""

from __future__ import annotations

import hashlib
import io
import re
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from cornu.core.ids import new_id
from cornu.core.spec import Dataset
from cornu.core.store import Store


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def upload(http: httpx.Client, array: np.ndarray) -> str:
    response = http.post("/v1/datasets", files={"file": ("a.npy", npy_bytes(array))})
    assert response.status_code == 201, response.text
    dataset_id: str = response.json()["id"]
    return dataset_id


def wait_for_job(http: httpx.Client, job_id: str, timeout_s: float = 120) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job: dict[str, object] = http.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled", "pruned"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout_s}s: {job}")


def mlp_spec(x: str, y: str, *, features: int, classes: int, epochs: int = 3) -> dict[str, object]:
    """The issue's example JobSpec, sized for small data."""
    return {
        "model": {
            "type": "sequential",
            "layers": [
                {"type": "Dense", "units": 16, "activation": "relu", "input_shape": [features]},
                {"type": "Dropout", "rate": 0.1},
                {"type": "Dense", "units": classes, "activation": "softmax"},
            ],
        },
        "compile": {
            "optimizer": {"type": "RMSprop", "learning_rate": 0.001},
            "loss": "sparse_categorical_crossentropy",
            "metrics": ["accuracy"],
        },
        "fit": {"batch_size": 32, "epochs": epochs, "seed": 0},
        "data": {"x": x, "y": y},
    }


def resident_bytes(pid: int, field: str = "VmRSS") -> int:
    """A /proc status field of a process and its children, in bytes (0 once it is gone).
    VmRSS: every resident byte; RssAnon: those not backed by a file (a memory-mapped
    dataset's pages are not)."""
    total = 0
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        found = re.search(rf"{field}:\s+(\d+) kB", status)
        total = int(found.group(1)) * 1024 if found else 0
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (FileNotFoundError, ProcessLookupError):
        return total
    return total + sum(resident_bytes(int(child), field) for child in children)


class MemorySampler(threading.Thread):
    """Samples `resident_bytes(pid, field)` every 50 ms from start() to stop()."""

    def __init__(self, pid: int, field: str = "VmRSS") -> None:
        super().__init__(daemon=True)
        self.pid, self.field, self.done = pid, field, threading.Event()
        self.samples = [resident_bytes(pid, field)]

    def run(self) -> None:
        while not self.done.wait(0.05):
            self.samples.append(resident_bytes(self.pid, self.field))

    def stop(self) -> tuple[int, int]:
        """(bytes when sampling began, the most seen)."""
        self.done.set()
        self.join()
        return self.samples[0], max(self.samples)


def put_dataset(store: Store, tenant: str, array: np.ndarray) -> str:
    """`array` stored as the tenant's dataset straight through the store (no HTTP); its id."""
    dataset_id, data = new_id("ds"), npy_bytes(array)
    blob = store.datasets.write_blob(dataset_id, [data], tenant=tenant)
    meta = Dataset(
        id=dataset_id,
        shape=list(array.shape),
        dtype=array.dtype.name,
        bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    store.datasets.record(tenant, meta, "identity", blob)
    return dataset_id
