"""Job records as the API sees them: create, read, list, cancel; metrics, events,
checkpoints, trained weights and exports.

A job is a hash; its per-epoch metrics and its events are streams. Every change of
status is a Lua script (`core/store/lua/`) that checks the current status first. The
worker's side (claims, leases, fenced writes) is in `runs.py`. Weights, state,
checkpoints and exports are objects in the blob store; the hash (`weights_blob`,
`state_blob`, `export:<file>`) and the checkpoint list point at them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import redis

from cornu.core.errors import Conflict, NotFound, QuotaExceeded, SpecError, TooManyJobs
from cornu.core.spec import EpochLog, Job, JobPage, JobSpec, JobStatus, Metrics, tensorfile
from cornu.core.spec.resources import Checkpoint, JobEvent
from cornu.core.store import keys
from cornu.core.store.blobs import CHUNK_BYTES, Blobs, pointed, pointer
from cornu.core.store.blobstore import MissingBlob
from cornu.core.store.lua import Script
from cornu.core.store.values import text, text_fields

WEIGHTS = "weights"  # Keras's names and layouts, for download
STATE = "state"  # the engine's own state_dict, to rebuild the model (evaluate, predict)
# The job hash's fields that point at a succeeded job's objects.
POINTERS = {WEIGHTS: "weights_blob", STATE: "state_blob"}

ACKS_TTL_S = 24 * 3600  # the wake-up list of a job whose worker never read it


def _deleted(record: str) -> SpecError:
    """What a submission gets when a record it names went (deleted) after it was checked."""
    if record.startswith(keys.JOB):
        job_id = record.removeprefix(keys.JOB)
        return SpecError(
            f"job {job_id!r} has no trained weights any more (deleted, or not yours); "
            "initial_weights names a job of yours that succeeded",
            ("fit", "initial_weights"),
        )
    dataset_id = record.removeprefix(keys.dataset(""))
    return SpecError(f"no dataset {dataset_id!r}; upload it first (POST /v1/datasets)", ("data",))


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def job_from(job_id: str, f: dict[str, str]) -> Job:
    """A job as the API shows it, from its hash's fields."""
    return Job(
        id=job_id,
        name=f.get("name") or None,
        tags=json.loads(f.get("tags") or "[]"),
        trial=json.loads(f["trial"]) if f.get("trial") else None,
        status=JobStatus(f["status"]),
        epoch=int(f.get("epoch") or 0),
        epochs=int(f["epochs"]),
        metrics=json.loads(f.get("metrics") or "{}"),
        error=f.get("error") or None,
        attempts=int(f.get("attempts") or 0),
        device=f.get("device") or None,
        memory_bytes=int(f["memory_bytes"]) if f.get("memory_bytes") else None,
        device_seconds=_device_seconds(f),
        cost=float(f["cost"]) if f.get("cost") else None,
        created_at=f["created_at"],
        started_at=f.get("started_at") or None,
        finished_at=f.get("finished_at") or None,
    )


def _device_seconds(f: dict[str, str]) -> float:
    """A job's charged device-seconds; for a record charged before they were kept, its
    training time × the devices it asked for."""
    if f.get("device_seconds"):
        return round(float(f["device_seconds"]), 6)
    return float(f.get("run_seconds") or 0.0) * int(f.get("devices") or 1)


def page_range(cursor: str | None, limit: int) -> tuple[str, str, int, int]:
    """ZREVRANGEBYLEX's arguments for a page after `cursor`: one more than `limit`, to
    tell whether another page follows."""
    return (f"({cursor}" if cursor else "+"), "-", 0, limit + 1


def page_from(ids: list[str], replies: list[dict[bytes, bytes]], *, more: bool) -> JobPage:
    """A page of jobs from their ids and hashes (a job deleted meanwhile is left out)."""
    jobs = [job_from(i, text_fields(f)) for i, f in zip(ids, replies, strict=True) if f]
    return JobPage(jobs=jobs, next_cursor=ids[-1] if more and ids else None)


def metrics_from(entries: list[tuple[bytes, dict[bytes, bytes]]]) -> Metrics:
    """Keras's History.history and the epochs' logs, from the metrics stream's entries."""
    epochs = [EpochLog.model_validate_json(fields[b"log"]) for _, fields in entries]
    history: dict[str, list[float]] = {}
    for log in epochs:
        for name, value in (log.model_extra or {}).items():
            history.setdefault(name, []).append(value)
    return Metrics(history=history, epochs=epochs)


class Jobs:
    def __init__(self, client: redis.Redis, blobs: Blobs, max_epochs: int) -> None:
        self.redis = client
        self.blobs = blobs
        self.max_epochs = max_epochs
        self._create = Script(client, "create_job")
        self._cancel = Script(client, "cancel_job")
        self._stop_training = Script(client, "stop_training")
        self._keep_export = Script(client, "keep_export")

    # -- records --------------------------------------------------------------------

    def create(
        self,
        tenant: str,
        job_id: str,
        spec: JobSpec,
        *,
        max_active: int = 0,
        max_kept: int = 2**62,
        verify: bool = False,
        memory_bytes: int | None = None,
    ) -> Job:
        """Record a queued job; TooManyJobs when the tenant has `max_active` queued or
        running already, QuotaExceeded when it keeps `max_kept` jobs already. With
        `verify` (a submission), SpecError unless each dataset the spec names, and its
        `fit.initial_weights` job, is the tenant's and there (checked in the same step as
        the job is recorded: a delete cannot slip between)."""
        fields: dict[str, Any] = {
            "tenant": tenant,
            "status": JobStatus.queued.value,
            "spec": spec.model_dump_json(),
            "epoch": spec.fit.initial_epoch,  # Keras: epochs already done
            "epochs": spec.fit.epochs,
            "metrics": "{}",
            "error": "",
            "created_at": now_iso(),
            "attempts": 0,
            "tags": json.dumps(spec.tags),
        }
        if spec.name is not None:
            fields["name"] = spec.name
        if spec.trial is not None:
            fields["trial"] = spec.trial.model_dump_json()
        if spec.resources.accelerator != "any":
            fields["accelerator"] = spec.resources.accelerator
        if spec.resources.devices != 1:
            fields["devices"] = spec.resources.devices
        if memory_bytes is not None:
            fields["memory_bytes"] = memory_bytes
        pairs = [str(item) for pair in fields.items() for item in pair]
        read = [(keys.dataset(d), keys.dataset_users(d)) for d in sorted(spec.dataset_ids())]
        datasets = len(read)
        if isinstance(spec.fit.initial_weights, str):
            weights_job = spec.fit.initial_weights
            read.append((keys.job(weights_job), keys.job_users(weights_job)))
        created = self._create(
            keys={"job": keys.job(job_id), "jobs": keys.tenant_jobs(tenant),
                  "active": keys.tenant_active(tenant), "dispatch": keys.dispatch(),
                  "events": keys.job_events(job_id), "feed": keys.job_feed(job_id),
                  "records": [*(key for pair in read for key in pair),
                              *(keys.tenant_tag(tenant, tag) for tag in spec.tags)]},
            args={"job_id": job_id, "limit": max_active, "now": fields["created_at"],
                  "now_ms": now_ms(), "tenant": tenant, "verify": int(verify),
                  "datasets": datasets, "kept": max_kept, "tags": len(spec.tags),
                  "fields": pairs},
        )  # fmt: skip
        if isinstance(created, list):
            raise _deleted(str(text(created[1])))
        if created == -1:
            raise QuotaExceeded(
                f"tenant {tenant} keeps {max_kept} jobs, its quota's most; delete finished "
                "ones it no longer needs (DELETE /v1/jobs/{id}, `cornu rm`) or ask for a "
                "bigger quota"
            )
        if not created:
            raise TooManyJobs(
                f"this tenant already has {max_active} jobs queued or running, the most it may "
                "have; wait for some to finish or cancel some"
            )
        return job_from(job_id, {k: str(v) for k, v in fields.items()})

    def get(self, tenant: str, job_id: str) -> Job:
        """The job if it exists and belongs to `tenant`; NotFound otherwise (never 403)."""
        fields = text_fields(self.redis.hgetall(keys.job(job_id)))
        if fields.get("tenant") != tenant:
            raise NotFound(f"no job {job_id!r}")
        return job_from(job_id, fields)

    def page(
        self, tenant: str, limit: int, cursor: str | None = None, tag: str | None = None
    ) -> JobPage:
        """The tenant's jobs (with `tag`, if given), newest first; `cursor` is the last id
        of the previous page."""
        index = keys.tenant_tag(tenant, tag) if tag is not None else keys.tenant_jobs(tenant)
        found = self.redis.zrevrangebylex(index, *page_range(cursor, limit))
        ids = [str(text(i)) for i in found][:limit]
        pipe = self.redis.pipeline(transaction=False)
        for job_id in ids:
            pipe.hgetall(keys.job(job_id))
        return page_from(ids, pipe.execute(), more=len(found) > limit)

    def spec(self, job_id: str) -> JobSpec:
        raw = self.redis.hget(keys.job(job_id), "spec")
        if raw is None:
            raise NotFound(f"no job {job_id!r}")
        return JobSpec.model_validate_json(raw)

    def cancel(self, tenant: str, job_id: str) -> Job:
        """Cancel a queued job now, or ask a running one to stop; Conflict once finished."""
        job = self.get(tenant, job_id)
        outcome = text(
            self._cancel(
                keys={
                    "job": keys.job(job_id),
                    "active": keys.tenant_active(tenant),
                    "dispatch": keys.dispatch(),
                    "events": keys.job_events(job_id),
                    "feed": keys.job_feed(job_id),
                },
                args={"job_id": job_id, "now": now_iso()},
            )  # fmt: skip
        )
        if outcome not in ("now_cancelled", "stopping"):
            raise Conflict(
                f"job {job_id} has already {outcome}; only queued or running jobs can be cancelled"
            )
        return self.get(tenant, job.id)

    def stop_training(self, tenant: str, job_id: str) -> Job:
        """Keras's `stop_training` from the client: the job ends after its current batch
        (or at once, if it waits between epochs) as `succeeded`; Conflict once finished."""
        self.get(tenant, job_id)
        outcome = text(
            self._stop_training(
                keys={
                    "job": keys.job(job_id),
                    "events": keys.job_events(job_id),
                    "feed": keys.job_feed(job_id),
                },
                args={"now": now_iso()},
            )  # fmt: skip
        )
        if outcome != "stopping":
            raise Conflict(f"job {job_id} has already {outcome}; there is no training to stop")
        return self.get(tenant, job_id)

    def ack_epoch(
        self, tenant: str, job_id: str, epoch: int, learning_rate: float | None = None
    ) -> None:
        """The client's own callbacks are done with epoch `epoch` (1-based): the job, which
        waits for this when its fit has `client_callbacks`, goes on (with the learning
        rate they set, if any). Conflict once the job has finished."""
        job = self.get(tenant, job_id)
        if job.status.finished:
            raise Conflict(f"job {job_id} has already {job.status.value}; no epoch waits for word")
        pipe = self.redis.pipeline(transaction=True)
        if learning_rate is not None:
            pipe.hset(keys.job(job_id), "learning_rate_request", repr(float(learning_rate)))
        pipe.hset(keys.job(job_id), "acked_epoch", epoch)
        pipe.delete(keys.job_acks(job_id))  # one wake-up is enough: keep the list short
        pipe.rpush(keys.job_acks(job_id), epoch)
        pipe.expire(keys.job_acks(job_id), ACKS_TTL_S)
        pipe.execute()

    # -- dispatch: was the training task sent? ---------------------------------------

    def queue_priority(self, job_id: str) -> int:
        """How many jobs the job's tenant has queued or running besides this one: its
        Celery priority (0 first; `core.queue` clamps it), so that a tenant with many
        queued jobs cannot starve one with few."""
        tenant = text(self.redis.hget(keys.job(job_id), "tenant"))
        if tenant is None:
            return 0
        active = self.redis.smembers(keys.tenant_active(str(tenant)))
        return len(active - {job_id.encode()})

    def needs(self, job_id: str) -> tuple[int, int]:
        """(estimated device bytes, devices) of a job's record: what a slot holds for it
        (0 bytes for a record made before estimates)."""
        memory, devices = self.redis.hmget(keys.job(job_id), ["memory_bytes", "devices"])
        return int(memory or 0), int(devices or 1)

    def accelerator(self, job_id: str) -> str | None:
        """The accelerator class the job asked for (None: any worker takes it)."""
        return text(self.redis.hget(keys.job(job_id), "accelerator"))

    def dispatched(self, job_id: str) -> None:
        """The job's task reached the broker: the reaper need not send it again."""
        self.redis.zrem(keys.dispatch(), job_id)

    # -- results ---------------------------------------------------------------------

    def metrics(self, tenant: str, job_id: str) -> Metrics:
        """Keras's History.history plus one entry per epoch with its wall time."""
        self.get(tenant, job_id)
        return metrics_from(self.redis.xrange(keys.job_metrics(job_id)))  # type: ignore[arg-type]

    def events(self, tenant: str, job_id: str) -> list[JobEvent]:
        self.get(tenant, job_id)
        entries: Any = self.redis.xrange(keys.job_events(job_id))
        return [JobEvent.model_validate(text_fields(fields)) for _, fields in entries]

    def checkpoints(self, tenant: str, job_id: str) -> list[Checkpoint]:
        self.get(tenant, job_id)
        found: Any = self.redis.lrange(keys.job_checkpoints(job_id), 0, -1)
        return [Checkpoint.model_validate_json(meta) for meta in found]

    def artifact(self, job_id: str, kind: str) -> str:
        """Where a succeeded job's weights or state are: the object its record points at,
        or (stored by an older Cornu) a Redis blob."""
        return pointed(self.redis.hget(keys.job(job_id), POINTERS[kind])) or keys.blob(kind, job_id)

    def trained(self, tenant: str, job_id: str) -> tuple[JobSpec, bytes]:
        """A succeeded job's spec and native state; NotFound otherwise."""
        job = self.get(tenant, job_id)
        try:
            state = self.blobs.read(self.artifact(job_id, STATE))
        except MissingBlob:
            state = b""
        if job.status is not JobStatus.succeeded or not state:
            raise NotFound(f"job {job_id!r} has no trained model (status: {job.status.value})")
        return self.spec(job_id), state

    def trained_shapes(self, tenant: str, job_id: str) -> dict[str, tuple[int, ...]]:
        """The shapes in a succeeded job's native state, from its safetensors header
        alone (a ranged read: the tensors stay in the store); NotFound otherwise."""
        job = self.get(tenant, job_id)
        key = self.artifact(job_id, STATE)
        missing = NotFound(f"job {job_id!r} has no trained model (status: {job.status.value})")
        if job.status is not JobStatus.succeeded:
            raise missing
        try:
            head = self.blobs.head(key, CHUNK_BYTES)
            end = tensorfile.header_end(head)  # ValueError: a corrupt blob (our worker wrote it)
            if end > len(head):
                head = self.blobs.head(key, end)
        except MissingBlob:
            raise missing from None
        found = tensorfile.header(head)
        return {k: tuple(v["shape"]) for k, v in found.items() if k != "__metadata__"}

    def latest_checkpoint(self, tenant: str, job_id: str) -> tuple[JobSpec, bytes, int]:
        """A job's spec, its newest checkpoint and the epochs that checkpoint has done;
        NotFound when it has none (it has not ended an epoch, or it has succeeded)."""
        self.get(tenant, job_id)
        newest: Any = self.redis.lindex(keys.job_checkpoints(job_id), -1)
        try:
            data = self.blobs.read(json.loads(newest)["key"]) if newest else b""
        except MissingBlob:  # dropped by a newer one since: this is a race with training
            data = b""
        if not data:
            raise NotFound(f"job {job_id!r} has no checkpoint")
        return self.spec(job_id), data, int(json.loads(newest)["epoch"])

    def weights(self, tenant: str, job_id: str) -> Iterator[bytes]:
        """The trained weights (safetensors) in chunks; NotFound before the job succeeds."""
        job = self.get(tenant, job_id)
        missing = NotFound(f"job {job_id!r} has no weights yet (status: {job.status.value})")
        if job.status is not JobStatus.succeeded:
            raise missing
        try:
            return self.blobs.chunks(self.artifact(job_id, WEIGHTS))
        except MissingBlob:
            raise missing from None

    def export(self, tenant: str, job_id: str, name: str) -> Iterator[bytes] | None:
        """A model file `name` (`model.onnx`, …) built for this job before; None if none."""
        self.get(tenant, job_id)
        try:
            found = pointed(self.redis.hget(keys.job(job_id), f"export:{name}"))
            return self.blobs.chunks(found) if found else None
        except MissingBlob:
            return None

    def keep_export(self, tenant: str, job_id: str, name: str, data: bytes) -> None:
        """Keep a model file built for a succeeded job, for the next download."""
        info = self.blobs.write(f"{keys.job_objects(tenant, job_id)}exports/{name}", [data])
        kept = self._keep_export(
            keys={"job": keys.job(job_id)},
            args={"field": f"export:{name}", "pointer": pointer(info)},
        )
        if not kept:
            self.blobs.delete(info.key)
