"""`cornu.Client`: the HTTP contract in Python, raising Cornu's own error classes.

client = cornu.Client("http://localhost:8000", api_key)
x = client.upload(x_train)                     # → Dataset (uploaded once per content)
job = client.submit({...JobSpec...})           # → Job (queued)
for event in client.stream(job.id): ...        # live progress, epochs, status
job = client.wait(job.id)                      # → Job (succeeded / failed / …)
client.metrics(job.id).history["val_accuracy"]
"""

from __future__ import annotations

import io
import itertools
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from httpx_sse import connect_sse

from cornu.core.errors import NotFound, ServiceUnavailable
from cornu.core.spec import (
    Dataset,
    ImportedModel,
    Job,
    JobEvent,
    JobPage,
    JobSpec,
    Limits,
    Metrics,
    ModelSummary,
    Usage,
)
from cornu.core.spec.study import Study, StudyPage
from cornu.problems import raise_for_problem
from cornu.progress import upload_progress
from cornu.resumable import ResumableUpload, take
from cornu.settings import client_settings
from cornu.uploads import NpyStream

NPY_MEDIA_TYPE = "application/octet-stream"


def default_api_key() -> str | None:
    """`CORNU_API_KEY`, or the key `cornu up` wrote to `$CORNU_HOME/api_key`."""
    return client_settings().key()


@dataclass(frozen=True)
class Event:
    """One Server-Sent Event of a job's stream: `progress`, `epoch`, a status, or `end`."""

    id: str | None
    event: str
    data: dict[str, Any]


# What a reused connection that the server had closed raises; and the methods that may
# be sent again after it (RFC 9110, 9.2.2).
DROPPED = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class Client:
    """A connection to one Cornu service with one tenant's API key.

    `url` defaults to `CORNU_URL`, `api_key` to `CORNU_API_KEY` or `cornu up`'s key file.
    """

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        timeout_s: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = (url or client_settings().url).rstrip("/")
        key = api_key or default_api_key()
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._http = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout_s, transport=transport
        )
        # Presigned part URLs of the object store: no base URL, no Cornu key.
        self._direct = httpx.Client(timeout=timeout_s, transport=transport)
        self._uploaded: dict[str, Dataset] = {}  # sha256 → dataset, for this connection
        self._limits: Limits | None = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()
        self._direct.close()

    # -- datasets --------------------------------------------------------------------

    def upload(
        self,
        array: Any,
        *,
        name: str = "array",
        progress: bool = False,
        keras_dtypes: bool = False,
    ) -> Dataset:
        """Store one numeric array and return the service's dataset. An array whose
        content the service already holds for this tenant is not sent again (content
        addressing by the .npy file's SHA-256); others go zstd-compressed (as they are
        when zstd saves under 10%: `NpyStream.encoding`): in one request
        when that is at most `CORNU_MULTIPART_BYTES` and within the service's
        `max_upload_bytes`, else as a resumable upload in parts (cornu/resumable.py:
        retried parts, and a later call with the same content resumes an interrupted
        one). `keras_dtypes` sends floats as float32, as Keras trains them (what fit
        does); `progress` shows a bar for large arrays, labelled `name`. PayloadTooLarge
        past the service's limit (before any bytes are sent); ServiceUnavailable when a
        part fails past its retries."""
        stream = NpyStream(array, keras_dtypes=keras_dtypes)
        digest = stream.sha256()
        known = self._uploaded.get(digest) or self.find_dataset(digest)
        if known is None:
            with upload_progress(name, stream, shown=progress) as advance:
                known = self._send_array(stream, digest, advance)
        self._uploaded[digest] = known
        return known

    def _send_array(
        self, stream: NpyStream, digest: str, advance: Callable[[int], None] | None
    ) -> Dataset:
        settings = client_settings()
        resumable = ResumableUpload(self, stream, digest, settings, self._http, self._direct)
        consumed = [0]

        def count(n: int) -> None:
            consumed[0] += n

        encoding = stream.encoding()
        pieces = stream.encoded(encoding, count)
        if not resumable.pending:
            head, whole = take(pieces, settings.multipart_bytes)
            if whole and stream.nbytes <= self.limits().max_upload_bytes:
                response = self._request(
                    "POST",
                    "/v1/datasets",
                    content=head,
                    headers={"Content-Type": NPY_MEDIA_TYPE, "Content-Encoding": encoding},
                    timeout=httpx.Timeout(self._http.timeout.connect, read=None, write=None),
                )
                if advance is not None:
                    advance(stream.nbytes)
                return Dataset.model_validate(response)
            pieces = itertools.chain([head], pieces)
        return resumable.run(pieces, encoding, lambda: consumed[0], advance)

    def limits(self) -> Limits:
        """The service's limits (`GET /v1/limits`), asked once per client."""
        if self._limits is None:
            self._limits = Limits.model_validate(self._request("GET", "/v1/limits"))
        return self._limits

    def usage(self, start: date | None = None, end: date | None = None) -> Usage:
        """What this tenant holds and has used, next to its quota (`GET /v1/usage`): its
        device-seconds and cost from `start` to `end` (UTC days; default this month)."""
        params = {name: day.isoformat() for name, day in (("start", start), ("end", end)) if day}
        return Usage.model_validate(self._request("GET", "/v1/usage", params=params))

    def find_dataset(self, sha256: str) -> Dataset | None:
        try:
            return Dataset.model_validate(
                self._request("GET", "/v1/datasets", params={"sha256": sha256})
            )
        except NotFound:
            return None

    def dataset(self, dataset_id: str) -> Dataset:
        return Dataset.model_validate(self._request("GET", f"/v1/datasets/{dataset_id}"))

    def delete_dataset(self, dataset_id: str) -> None:
        """Delete a dataset and its bytes; InUse (naming the jobs) while a queued or
        running job uses it, NotFound if it is not this tenant's."""
        self._send("DELETE", f"/v1/datasets/{dataset_id}")
        self._uploaded = {k: d for k, d in self._uploaded.items() if d.id != dataset_id}

    # -- jobs ------------------------------------------------------------------------

    def submit(
        self, spec: JobSpec | Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> Job:
        """Queue a training job; the service checks the spec fully first (SpecError)."""
        body = spec.model_dump(mode="json") if isinstance(spec, JobSpec) else dict(spec)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return Job.model_validate(self._request("POST", "/v1/jobs", json=body, headers=headers))

    def job(self, job_id: str) -> Job:
        return Job.model_validate(self._request("GET", f"/v1/jobs/{job_id}"))

    def jobs(self, limit: int = 20, cursor: str | None = None, tag: str | None = None) -> JobPage:
        """The tenant's jobs (with `tag`, if given), newest first."""
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        if tag:
            params["tag"] = tag
        return JobPage.model_validate(self._request("GET", "/v1/jobs", params=params))

    def delete_job(self, job_id: str) -> None:
        """Delete a finished job: its record, metrics, events, checkpoints, weights and
        exports. Conflict while it is queued or running (cancel it first); InUse while a
        queued or running job starts from its weights."""
        self._send("DELETE", f"/v1/jobs/{job_id}")

    def cancel(self, job_id: str) -> Job:
        """Cancel a queued job, or ask a running one to stop between two batches."""
        return Job.model_validate(self._request("POST", f"/v1/jobs/{job_id}/cancel"))

    def stop_training(self, job_id: str) -> Job:
        """Keras's `stop_training`: the job ends after its current batch (or at once if
        it waits between epochs) as `succeeded`, with its weights."""
        return Job.model_validate(self._request("POST", f"/v1/jobs/{job_id}/stop"))

    def ack(self, job_id: str, epoch: int, *, learning_rate: float | None = None) -> None:
        """The client's callbacks are done with epoch `epoch` (1-based): the job goes on,
        with `learning_rate` from the next epoch on when one is given."""
        body = {} if learning_rate is None else {"learning_rate": learning_rate}
        self._send("POST", f"/v1/jobs/{job_id}/epochs/{epoch}/ack", json=body)

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

    def stream(
        self, job_id: str, last_event_id: str | None = None, *, reconnect_s: float = 30.0
    ) -> Iterator[Event]:
        """The job's live events, from the start (or after `last_event_id`) to `end`.
        A dropped connection is resumed after the last event received; ServiceUnavailable
        once the service has been unreachable for `reconnect_s` seconds."""
        return self._follow(f"/v1/jobs/{job_id}/stream", f"job {job_id}", last_event_id,
                            reconnect_s)  # fmt: skip

    def _follow(
        self, path: str, what: str, last_event_id: str | None, reconnect_s: float
    ) -> Iterator[Event]:
        lost_since: float | None = None
        # The service pings an idle stream every 15 s: a silent minute is a dead connection.
        timeout = httpx.Timeout(10.0, read=60.0)
        while True:
            headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
            try:
                with connect_sse(
                    self._http, "GET", path, headers=headers, timeout=timeout
                ) as source:
                    if source.response.is_error:
                        source.response.read()
                        raise_for_problem(source.response)
                    for sse in source.iter_sse():
                        lost_since = None
                        if sse.event != "end":
                            last_event_id = sse.id or last_event_id
                        yield Event(sse.id or None, sse.event, json.loads(sse.data or "{}"))
                        if sse.event == "end":
                            return
                reason = f"the stream closed before the {what.split()[0]} ended"
            except (httpx.TransportError, ServiceUnavailable) as exc:
                reason = str(exc)  # the service restarts, Redis blinks, a proxy cut the stream
            lost_since = lost_since or time.monotonic()
            if time.monotonic() - lost_since > reconnect_s:
                raise ServiceUnavailable(
                    f"lost the stream of {what} at {self.url} and could not resume it "
                    f"for {reconnect_s:.0f}s: {reason}"
                )
            time.sleep(0.5)

    # -- studies ---------------------------------------------------------------------

    def create_study(self, spec: Mapping[str, Any]) -> Study:
        """Start a hyperparameter study (`POST /v1/studies`); it runs without this client."""
        return Study.model_validate(self._request("POST", "/v1/studies", json=spec))

    def study(self, study_id: str) -> Study:
        return Study.model_validate(self._request("GET", f"/v1/studies/{study_id}"))

    def studies(self, limit: int = 20, cursor: str | None = None) -> StudyPage:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return StudyPage.model_validate(self._request("GET", "/v1/studies", params=params))

    def cancel_study(self, study_id: str) -> Study:
        return Study.model_validate(self._request("POST", f"/v1/studies/{study_id}/cancel"))

    def study_stream(
        self, study_id: str, last_event_id: str | None = None, *, reconnect_s: float = 30.0
    ) -> Iterator[Event]:
        """The study's live events (`trial_started`, `trial_updated`, `trial_ended`, its
        status) to `end`, resumed after a dropped connection as `stream` is."""
        return self._follow(f"/v1/studies/{study_id}/stream", f"study {study_id}",
                            last_event_id, reconnect_s)  # fmt: skip

    def job_spec(self, job_id: str) -> dict[str, Any]:
        """The JobSpec the job was submitted with, as JSON."""
        spec: dict[str, Any] = self._request("GET", f"/v1/jobs/{job_id}/spec")
        return spec

    def events(self, job_id: str) -> list[JobEvent]:
        body = self._request("GET", f"/v1/jobs/{job_id}/events")
        return [JobEvent.model_validate(e) for e in body["events"]]

    def metrics(self, job_id: str) -> Metrics:
        return Metrics.model_validate(self._request("GET", f"/v1/jobs/{job_id}/metrics"))

    def weights(self, job_id: str, *, checkpoint: bool = False) -> bytes:
        """The trained weights as safetensors bytes (`safetensors.numpy.load` reads them);
        with `checkpoint`, those of the running job's newest checkpoint."""
        params = {"checkpoint": "latest"} if checkpoint else {}
        return self._send("GET", f"/v1/jobs/{job_id}/weights", params=params).content

    def export(self, job_id: str, format: str) -> bytes:
        """The trained model as `keras`, `h5`, `onnx`, `torchscript` or `safetensors` bytes."""
        return self._send("GET", f"/v1/jobs/{job_id}/export", params={"format": format}).content

    def download_weights(self, job_id: str, path: str | Path) -> Path:
        """Write the trained weights (safetensors) to `path`, whole or not at all."""
        return self.download(job_id, path, format="safetensors")

    def download(self, job_id: str, path: str | Path, *, format: str = "safetensors") -> Path:
        """Write the trained model in `format` (`keras`, `h5`, `onnx`, `torchscript` or
        `safetensors`) to `path`: whole or not at all (a broken download leaves no truncated
        file behind)."""
        path = Path(path)
        partial = path.with_name(f".{path.name}.part")
        params = {"format": format}
        try:
            with self._http.stream("GET", f"/v1/jobs/{job_id}/export", params=params) as response:
                if response.is_error:
                    response.read()
                    raise_for_problem(response)
                with partial.open("wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        return path

    def import_model(self, path: str | Path) -> ImportedModel:
        """Take in a `.keras` or `.h5` file Keras saved: its spec, compile arguments and
        weights (stored as datasets), ready for a job's `model`, `compile` and
        `fit.initial_weights`."""
        path = Path(path)
        with path.open("rb") as file:
            answer = self._request("POST", "/v1/models/import", files={"file": (path.name, file)})
        return ImportedModel.model_validate(answer)

    def evaluate(self, job_id: str, **request: Any) -> dict[str, float]:
        result: dict[str, float] = self._request(
            "POST", f"/v1/jobs/{job_id}/evaluate", json=request
        )
        return result

    def predict(self, job_id: str, **request: Any) -> Any:
        """A predict's answer: nested lists (one per output by name for several), or with
        `answer="npy"` the arrays themselves, downloaded from the file the service wrote."""
        answer = self._request("POST", f"/v1/jobs/{job_id}/predict", json=request)
        if "predictions_url" not in answer:
            return answer["predictions"]
        data = self._send("GET", answer["predictions_url"]).content
        loaded = np.load(io.BytesIO(data), allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return loaded
        with loaded:
            return {name: loaded[name] for name in loaded.files}

    def summary(self, model: Any) -> ModelSummary:
        return ModelSummary.model_validate(
            self._request("POST", "/v1/models/summary", json={"model": model})
        )

    def healthy(self) -> bool:
        try:
            return self._http.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    # -- plumbing --------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            try:
                response = self._http.request(method, path, **kwargs)
            except DROPPED:
                # A kept-alive connection the server closed meanwhile (after a 500, a
                # restart, a proxy's idle timeout): a request that changes nothing when
                # repeated is sent once more, on a new connection.
                if method not in IDEMPOTENT:
                    raise
                response = self._http.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            raise self.unreachable(exc) from None
        if response.is_error:
            raise_for_problem(response)
        return response

    def unreachable(self, exc: Exception) -> ServiceUnavailable:
        """Nothing answers at the service's address: say where, and what to start."""
        reason = str(exc) or type(exc).__name__
        return ServiceUnavailable(
            f"cannot reach the Cornu service at {self.url} ({reason}); is `cornu up` "
            "running? Start it, or point the SDK at your service with cornu.connect(url, "
            "api_key) or CORNU_URL / CORNU_API_KEY"
        )

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._send(method, path, **kwargs).json()
