"""`cornu.Client`: the HTTP contract in Python, raising Cornu's own error classes.

client = cornu.Client("http://localhost:8000", api_key)
x = client.upload(x_train)                     # → Dataset
job = client.submit({...JobSpec...})           # → Job (queued)
job = client.wait(job.id)                      # → Job (succeeded / failed / …)
client.metrics(job.id).history["val_accuracy"]
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from core.errors import ERRORS_BY_SLUG, PROBLEM_TYPE_PREFIX, CornuError, ErrorItem, SpecError
from core.spec import Dataset, Job, JobPage, JobSpec, Metrics

DEFAULT_URL = "http://127.0.0.1:8000"


class Client:
    """A connection to one Cornu service with one tenant's API key.

    `url` and `api_key` default to `CORNU_URL` and `CORNU_API_KEY`.
    """

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        timeout_s: float = 60.0,
    ) -> None:
        self.url = (url or os.environ.get("CORNU_URL") or DEFAULT_URL).rstrip("/")
        key = api_key or os.environ.get("CORNU_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout_s)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- datasets --------------------------------------------------------------------

    def upload(self, array: np.ndarray) -> Dataset:
        """Upload one numeric array (as .npy); returns the stored dataset's id and shape."""
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(array), allow_pickle=False)
        files = {"file": ("array.npy", buffer.getvalue(), "application/octet-stream")}
        return Dataset.model_validate(self._request("POST", "/v1/datasets", files=files))

    def dataset(self, dataset_id: str) -> Dataset:
        return Dataset.model_validate(self._request("GET", f"/v1/datasets/{dataset_id}"))

    # -- jobs ------------------------------------------------------------------------

    def submit(self, spec: JobSpec | Mapping[str, Any]) -> Job:
        """Queue a training job; the service checks the spec fully first (SpecError)."""
        body = spec.model_dump(mode="json") if isinstance(spec, JobSpec) else dict(spec)
        return Job.model_validate(self._request("POST", "/v1/jobs", json=body))

    def job(self, job_id: str) -> Job:
        return Job.model_validate(self._request("GET", f"/v1/jobs/{job_id}"))

    def jobs(self, limit: int = 20, cursor: str | None = None) -> JobPage:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return JobPage.model_validate(self._request("GET", "/v1/jobs", params=params))

    def wait(self, job_id: str, *, timeout_s: float | None = None, poll_s: float = 0.5) -> Job:
        """Poll until the job is succeeded, failed or cancelled; TimeoutError past `timeout_s`."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            job = self.job(job_id)
            if job.status.finished:
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} is still {job.status.value} after {timeout_s}s")
            time.sleep(poll_s)

    def metrics(self, job_id: str) -> Metrics:
        return Metrics.model_validate(self._request("GET", f"/v1/jobs/{job_id}/metrics"))

    def weights(self, job_id: str) -> bytes:
        """The trained weights as safetensors bytes (`safetensors.numpy.load` reads them)."""
        response = self._send("GET", f"/v1/jobs/{job_id}/weights")
        return response.content

    def download_weights(self, job_id: str, path: str | Path) -> Path:
        path = Path(path)
        with self._http.stream("GET", f"/v1/jobs/{job_id}/weights") as response:
            if response.is_error:
                response.read()
                raise_for_problem(response)
            with path.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
        return path

    def healthy(self) -> bool:
        try:
            return self._http.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    # -- plumbing --------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, path, **kwargs)
        if response.is_error:
            raise_for_problem(response)
        return response

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._send(method, path, **kwargs).json()


def raise_for_problem(response: httpx.Response) -> None:
    """Raise the CornuError subclass that the problem+json body names."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    detail = str(body.get("detail") or response.text or response.reason_phrase)
    slug = str(body.get("type", "")).removeprefix(PROBLEM_TYPE_PREFIX)
    cls = ERRORS_BY_SLUG.get(slug, CornuError)
    if cls is SpecError:
        items = [
            ErrorItem(tuple(e.get("loc", ())), e.get("msg", "")) for e in body.get("errors", [])
        ]
        raise SpecError(items or detail)
    if cls is CornuError:
        detail = f"HTTP {response.status_code}: {detail}"
    raise cls(detail)
