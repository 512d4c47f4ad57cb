"""Job records (a hash per job), their per-epoch metrics (a stream) and weights (a blob).

Status changes are Lua scripts that check the current status first, so a job moves
`queued → running → succeeded | failed` once, whatever the broker redelivers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import redis

from core.errors import NotFound
from core.spec import EpochLog, Job, JobPage, JobSpec, JobStatus, Metrics
from core.store import keys
from core.store.blobs import Blobs, rechunk
from core.store.values import text, text_fields

WEIGHTS = "weights"  # Keras's names and layouts, for download
STATE = "state"  # the engine's own state_dict, to rebuild the model (evaluate, predict)

# queued → running; returns the spec, or nil when the job is not queued.
_CLAIM = """
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return false end
redis.call('HSET', KEYS[1], 'status', 'running', 'started_at', ARGV[1])
return redis.call('HGET', KEYS[1], 'spec')
"""

# <expected> → succeeded | failed, with the time and the error (empty for none).
_FINISH = """
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[4] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'finished_at', ARGV[2], 'error', ARGV[3])
return 1
"""

# One finished epoch of a running job: append to the stream, update the record.
_EPOCH = """
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'log', ARGV[2])
redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'metrics', ARGV[3])
return 1
"""


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Jobs:
    def __init__(self, client: redis.Redis, blobs: Blobs, max_epochs: int) -> None:
        self.redis = client
        self.blobs = blobs
        self.max_epochs = max_epochs
        self._claim = client.register_script(_CLAIM)
        self._finish = client.register_script(_FINISH)
        self._epoch = client.register_script(_EPOCH)

    # -- records --------------------------------------------------------------------

    def create(self, tenant: str, job_id: str, spec: JobSpec) -> Job:
        fields: dict[Any, Any] = {
            "tenant": tenant,
            "status": JobStatus.queued.value,
            "spec": spec.model_dump_json(),
            "epoch": 0,
            "epochs": spec.fit.epochs,
            "metrics": "{}",
            "error": "",
            "created_at": _now(),
        }
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(keys.job(job_id), mapping=fields)
        pipe.zadd(keys.tenant_jobs(tenant), {job_id: 0})
        pipe.execute()
        return self._job(job_id, text_fields(fields))

    def get(self, tenant: str, job_id: str) -> Job:
        """The job if it exists and belongs to `tenant`; NotFound otherwise (never 403)."""
        fields = text_fields(self.redis.hgetall(keys.job(job_id)))
        if fields.get("tenant") != tenant:
            raise NotFound(f"no job {job_id!r}")
        return self._job(job_id, fields)

    def list(self, tenant: str, limit: int, cursor: str | None = None) -> JobPage:
        """The tenant's jobs, newest first; `cursor` is the last id of the previous page."""
        start = f"({cursor}" if cursor else "+"
        found = self.redis.zrevrangebylex(keys.tenant_jobs(tenant), start, "-", 0, limit + 1)
        ids = [str(text(i)) for i in found]
        page, more = ids[:limit], len(ids) > limit
        pipe = self.redis.pipeline(transaction=False)
        for job_id in page:
            pipe.hgetall(keys.job(job_id))
        replies = [text_fields(fields) for fields in pipe.execute()]
        jobs = [self._job(i, f) for i, f in zip(page, replies, strict=True) if f]
        return JobPage(jobs=jobs, next_cursor=page[-1] if more else None)

    def _job(self, job_id: str, f: dict[str, str]) -> Job:
        return Job(
            id=job_id,
            status=JobStatus(f["status"]),
            epoch=int(f.get("epoch") or 0),
            epochs=int(f["epochs"]),
            metrics=json.loads(f.get("metrics") or "{}"),
            error=f.get("error") or None,
            created_at=f["created_at"],
            started_at=f.get("started_at") or None,
            finished_at=f.get("finished_at") or None,
        )

    # -- the worker's side -----------------------------------------------------------

    def claim(self, job_id: str) -> JobSpec | None:
        """Move a queued job to running and return its spec; None if it was not queued."""
        spec = self._claim(keys=[keys.job(job_id)], args=[_now()])
        return JobSpec.model_validate_json(spec) if spec else None

    def record_epoch(self, job_id: str, epoch: int, seconds: float, logs: dict[str, float]) -> bool:
        """Append one finished epoch (1-based) to the job's metrics."""
        entry = json.dumps({"epoch": epoch, "seconds": round(seconds, 6), **logs})
        done = self._epoch(
            keys=[keys.job(job_id), keys.job_metrics(job_id)],
            args=[epoch, entry, json.dumps(logs), self.max_epochs + 1],
        )
        return bool(done)

    def finish(
        self,
        job_id: str,
        status: JobStatus,
        error: str | None = None,
        *,
        expected: JobStatus = JobStatus.running,
    ) -> bool:
        """Move the job from `expected` to a final `status`; False if it was not `expected`."""
        done = self._finish(
            keys=[keys.job(job_id)], args=[status.value, _now(), error or "", expected.value]
        )
        return bool(done)

    def save_weights(self, job_id: str, keras_weights: bytes, state: bytes) -> None:
        """The trained model: Keras-layout weights to download, native state to reload."""
        self.blobs.write(keys.blob(STATE, job_id), rechunk([state]))
        self.blobs.write(keys.blob(WEIGHTS, job_id), rechunk([keras_weights]))

    # -- results ---------------------------------------------------------------------

    def metrics(self, tenant: str, job_id: str) -> Metrics:
        """Keras's History.history plus one entry per epoch with its wall time."""
        self.get(tenant, job_id)
        entries: Any = self.redis.xrange(keys.job_metrics(job_id))
        epochs = [EpochLog.model_validate_json(fields[b"log"]) for _, fields in entries]
        history: dict[str, list[float]] = {}
        for log in epochs:
            for name, value in (log.model_extra or {}).items():
                history.setdefault(name, []).append(value)
        return Metrics(history=history, epochs=epochs)

    def trained(self, tenant: str, job_id: str) -> tuple[JobSpec, bytes]:
        """A succeeded job's spec and native state; NotFound otherwise."""
        job = self.get(tenant, job_id)
        state = self.blobs.read(keys.blob(STATE, job_id))
        if job.status is not JobStatus.succeeded or not state:
            raise NotFound(f"job {job_id!r} has no trained model (status: {job.status.value})")
        spec = self.redis.hget(keys.job(job_id), "spec")
        return JobSpec.model_validate_json(spec), state  # type: ignore[arg-type]

    def weights(self, tenant: str, job_id: str) -> Iterator[bytes]:
        """The trained weights (safetensors) in chunks; NotFound before the job succeeds."""
        job = self.get(tenant, job_id)
        key = keys.blob(WEIGHTS, job_id)
        if job.status is not JobStatus.succeeded or not self.blobs.exists(key):
            raise NotFound(f"job {job_id!r} has no weights yet (status: {job.status.value})")
        return self.blobs.chunks(key)
