"""The worker's side of a job, and the reaper's: claims, leases, fenced writes.

A worker owns a running job through a lease: a key holding its token, with a TTL the
worker renews by heartbeat. Every write a worker makes (an epoch's metrics with its
checkpoint, the final weights, the final status) is a Lua script that first checks the
lease still holds its token: a worker that lost its lease (it stalled, Redis restarted
without it, the reaper gave the job to another worker) can no longer write anything.
Bytes (checkpoints, weights, state) go to the blob store under keys of their attempt
(`tenants/<t>/jobs/<id>/attempts/<n>/…`) and only a fenced script publishes them, by
pointing the job's record at them: a late writer's objects are never published, and it
deletes them when the script refuses. An object a script stops pointing at (a dropped
checkpoint, or a Redis blob an older Cornu wrote) goes on the `blob_garbage` list in the
same script and is deleted after it; what a crashed writer left under its attempt is
swept when the job succeeds. The scripts are `core/store/lua/*.lua`.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import redis

from cornu.core.spec import JobEventType, JobSpec, JobStatus
from cornu.core.spec.resources import ReaperOutcome
from cornu.core.store import keys
from cornu.core.store.blobs import Blobs, pointed, pointer
from cornu.core.store.blobstore import BlobUnavailable, MissingBlob
from cornu.core.store.jobs import POINTERS, now_iso, now_ms
from cornu.core.store.lua import EVENTS_MAXLEN, FEED_MAXLEN, Script
from cornu.core.store.values import text

CHECKPOINT = "checkpoint"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Controls:
    """What a running job's client has asked of it."""

    cancel: bool = False
    stop_training: bool = False


@dataclass(frozen=True)
class Claim:
    """One attempt at running a job: the lease token fences every write it makes."""

    job_id: str
    tenant: str
    token: str
    attempt: int
    spec: JobSpec
    checkpoint_key: str | None
    run_seconds: float
    epoch: int
    device_seconds: float = 0.0
    cost: float | None = None
    price: float | None = None  # per device-hour, what this attempt is charged


class Runs:
    def __init__(
        self, client: redis.Redis, blobs: Blobs, *, max_epochs: int, lease_ms: int
    ) -> None:
        self.redis = client
        self.blobs = blobs
        self.max_epochs = max_epochs
        self.lease_ms = lease_ms
        self._claim = Script(client, "claim_job")
        self._renew = Script(client, "renew_lease")
        self._commit = Script(client, "commit_epoch")
        self._save_checkpoint = Script(client, "save_checkpoint")
        self._succeed = Script(client, "succeed_job")
        self._finish = Script(client, "finish_job")
        self._release = Script(client, "release_job")
        self._requeue = Script(client, "requeue_job")
        self._progress = Script(client, "report_progress")
        self._elect = Script(client, "elect_reaper")

    @staticmethod
    def _job_keys(claim: Claim) -> dict[str, str]:
        """The keys every fenced write of an attempt names: its job, lease and event streams."""
        return {
            "job": keys.job(claim.job_id),
            "lease": keys.job_lease(claim.job_id),
            "events": keys.job_events(claim.job_id),
            "feed": keys.job_feed(claim.job_id),
        }

    # -- a worker's attempt ----------------------------------------------------------

    def claim(
        self,
        job_id: str,
        worker: str,
        device: str = "",
        accelerator: str = "unknown",
        price: float | None = None,
    ) -> Claim | None:
        """queued → running under a new lease, on `device` (what the job and its `started`
        event show: `cpu`, `cuda:0 (NVIDIA …)`) of class `accelerator`, its training time
        charged at `price` per device-hour (None: not priced); None if the job is not
        queued."""
        token = f"{worker}/{secrets.token_hex(6)}"
        found = self._claim(
            keys={"job": keys.job(job_id), "lease": keys.job_lease(job_id),
                  "running": keys.running(), "events": keys.job_events(job_id),
                  "feed": keys.job_feed(job_id)},
            args={"token": token, "worker": worker, "lease_ms": self.lease_ms, "now": now_iso(),
                  "job_id": job_id, "device": device, "accelerator": accelerator,
                  "price": "" if price is None else repr(price)},
        )  # fmt: skip
        if not found:
            return None
        spec, checkpoint, run_seconds, tenant, attempt, epoch, device_s, cost = (
            text(v) for v in found
        )
        return Claim(
            job_id=job_id,
            tenant=str(tenant),
            token=token,
            attempt=int(str(attempt)),
            spec=JobSpec.model_validate_json(str(spec)),
            checkpoint_key=checkpoint or None,
            run_seconds=float(str(run_seconds)),
            epoch=int(str(epoch)),
            device_seconds=float(str(device_s or 0.0)),
            cost=float(str(cost)) if cost else None,
            price=price,
        )

    def renew(self, claim: Claim) -> tuple[bool, Controls]:
        """Extend the lease: (still owned, what the client asked for)."""
        owned, cancel, stop = self._renew(
            keys={"job": keys.job(claim.job_id), "lease": keys.job_lease(claim.job_id)},
            args={"token": claim.token, "lease_ms": self.lease_ms},
        )
        return bool(owned), Controls(bool(cancel), bool(stop))

    def controls(self, job_id: str) -> Controls:
        """Whether a cancel, or Keras's stop_training, was asked for."""
        cancel, stop = self.redis.hmget(keys.job(job_id), ["cancel", "stop_training"])
        return Controls(cancel == b"1", stop == b"1")

    def client_done(self, job_id: str, epoch: int, block_s: float) -> bool:
        """Whether the client's callbacks are done with epoch `epoch` (1-based), waiting up
        to `block_s` for word of it."""
        if int(self.redis.hget(keys.job(job_id), "acked_epoch") or 0) >= epoch:
            return True
        self.redis.blpop([keys.job_acks(job_id)], timeout=block_s)  # woken by an ack
        return int(self.redis.hget(keys.job(job_id), "acked_epoch") or 0) >= epoch

    def take_learning_rate(self, job_id: str) -> float | None:
        """The learning rate the client's callbacks asked for with their last ack, once."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hget(keys.job(job_id), "learning_rate_request")
        pipe.hdel(keys.job(job_id), "learning_rate_request")
        value, _ = pipe.execute()
        return None if value is None else float(value)

    def checkpoint_blob(self, claim: Claim) -> bytes | None:
        """The checkpoint the claimed job resumes from; None when it has none."""
        if not claim.checkpoint_key:
            return None
        try:
            return self.blobs.read(claim.checkpoint_key)
        except MissingBlob:
            log.warning("job %s: its checkpoint %s is gone", claim.job_id, claim.checkpoint_key)
            return None

    def _object(self, claim: Claim, name: str) -> str:
        return keys.attempt_object(claim.tenant, claim.job_id, claim.attempt, name)

    def _checkpoint(self, claim: Claim, data: bytes, epoch: int, batch: int) -> tuple[str, str]:
        info = self.blobs.write(self._object(claim, f"checkpoints/{epoch}-{batch}"), [data])
        meta = {"epoch": epoch, "batch": batch, "time": now_iso(), "bytes": info.bytes,
                "key": info.key, "sha256": info.sha256}  # fmt: skip
        return info.key, json.dumps(meta)

    def commit_epoch(
        self,
        claim: Claim,
        epoch: int,
        seconds: float,
        logs: dict[str, float],
        checkpoint: bytes,
        run_seconds: float,
        keep: int,
    ) -> bool:
        """Epoch `epoch` (1-based) with its checkpoint; False if the lease is lost."""
        key, meta = self._checkpoint(claim, checkpoint, epoch, 0)
        entry = json.dumps({"epoch": epoch, "seconds": round(seconds, 6), **logs})
        done = self._commit(
            keys={**self._job_keys(claim), "metrics": keys.job_metrics(claim.job_id),
                  "checkpoints": keys.job_checkpoints(claim.job_id),
                  "garbage": keys.blob_garbage(), "usage": keys.tenant_usage(claim.tenant),
                  "days": keys.tenant_usage_days(claim.tenant)},
            args={"token": claim.token, "epoch": epoch, "entry": entry, "logs": json.dumps(logs),
                  "checkpoint": key, "meta": meta, "keep": keep, "run_seconds": run_seconds,
                  "now": now_iso(), "maxlen": self.max_epochs + 1, "feed_maxlen": FEED_MAXLEN},
        )  # fmt: skip
        if done != 1:
            self._discard(claim, key)
        else:
            self.blobs.collect()
        if done == -1:
            raise RuntimeError(f"job {claim.job_id}: epoch {epoch} does not follow the last one")
        return done == 1

    def save_checkpoint(
        self, claim: Claim, checkpoint: bytes, epoch: int, batch: int, run_seconds: float, keep: int
    ) -> bool:
        """A checkpoint inside an epoch (`epoch` done, `batch` of the next one done)."""
        key, meta = self._checkpoint(claim, checkpoint, epoch, batch)
        done = self._save_checkpoint(
            keys={**self._job_keys(claim), "checkpoints": keys.job_checkpoints(claim.job_id),
                  "garbage": keys.blob_garbage(), "usage": keys.tenant_usage(claim.tenant),
                  "days": keys.tenant_usage_days(claim.tenant)},
            args={"token": claim.token, "checkpoint": key, "meta": meta, "keep": keep,
                  "run_seconds": run_seconds, "now": now_iso(), "epoch": epoch, "batch": batch},
        )  # fmt: skip
        if done != 1:
            self._discard(claim, key)
        else:
            self.blobs.collect()
        return done == 1

    def note(self, job_id: str, kind: JobEventType, **details: Any) -> None:
        """An informational event (`resumed`, …): not fenced, it changes no state."""
        fields = {"type": kind.value, "time": now_iso(), **{k: str(v) for k, v in details.items()}}
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(keys.job_events(job_id), fields, maxlen=EVENTS_MAXLEN, approximate=True)  # type: ignore[arg-type]
        feed = {"event": kind, "data": json.dumps(fields)}
        pipe.xadd(keys.job_feed(job_id), feed, maxlen=FEED_MAXLEN, approximate=True)  # type: ignore[arg-type]
        pipe.execute()

    def progress(self, claim: Claim, data: dict[str, Any]) -> bool:
        """A running job's progress inside an epoch, for the live view (fenced)."""
        done = self._progress(
            keys={"lease": keys.job_lease(claim.job_id), "feed": keys.job_feed(claim.job_id)},
            args={"token": claim.token, "data": json.dumps(data), "maxlen": FEED_MAXLEN},
        )
        return bool(done)

    def trained_to_end(self, claim: Claim) -> None:
        """Counts attempts that finished training, fenced or not: duplicated work shows."""
        self.redis.hincrby(keys.job(claim.job_id), "trained_to_end", 1)

    def succeed(self, claim: Claim, keras_weights: bytes, state: bytes) -> bool:
        """The trained weights and state, published if the lease still holds."""
        weights = self.blobs.write(self._object(claim, "weights.safetensors"), [keras_weights])
        native = self.blobs.write(self._object(claim, "state.safetensors"), [state])
        done = self._succeed(
            keys={**self._job_keys(claim), "running": keys.running(),
                  "active": keys.tenant_active(claim.tenant),
                  "checkpoints": keys.job_checkpoints(claim.job_id),
                  "garbage": keys.blob_garbage()},
            args={"token": claim.token, "now": now_iso(), "job_id": claim.job_id,
                  "weights": pointer(weights), "state": pointer(native)},
        )  # fmt: skip
        if not done:
            if self._published(claim.job_id, weights.key):
                return True  # a retry: the first try's script ran, its reply was lost
            self._discard(claim, weights.key, native.key)
            return False
        self.blobs.collect()
        self._sweep(claim, keep={weights.key, native.key})
        return True

    def _published(self, job_id: str, key: str) -> bool:
        """Whether the job's record points at `key` (a weights, state or checkpoint object)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hmget(keys.job(job_id), ["checkpoint", *POINTERS.values()])
        pipe.lrange(keys.job_checkpoints(job_id), 0, -1)
        fields, metas = pipe.execute()
        named = [text(fields[0])] + [pointed(f) for f in fields[1:]]
        named += [json.loads(meta)["key"] for meta in metas]
        return key in named

    def _discard(self, claim: Claim, *found: str) -> None:
        """Delete a refused write's objects: they were never published (unless a retried
        write's first try was; those stay)."""
        self.blobs.delete(*(k for k in found if not self._published(claim.job_id, k)))

    def _sweep(self, claim: Claim, keep: set[str]) -> None:
        """Delete what attempts at a succeeded job left and no record points at (objects of
        a writer that died before its script ran): no attempt can publish any more."""
        try:
            for key, _ in self.blobs.store.objects(keys.job_objects(claim.tenant, claim.job_id)):
                if key not in keep:
                    self.blobs.store.delete(key)
        except BlobUnavailable as exc:
            log.warning("job %s: its stale objects stay (%s)", claim.job_id, exc)

    def finish(self, claim: Claim, status: JobStatus, error: str | None = None) -> bool:
        """failed or cancelled, fenced; the checkpoints are kept."""
        done = self._finish(
            keys={**self._job_keys(claim), "running": keys.running(),
                  "active": keys.tenant_active(claim.tenant)},
            args={"token": claim.token, "status": status.value, "message": error or "",
                  "now": now_iso(), "job_id": claim.job_id},
        )  # fmt: skip
        return bool(done)

    def release(self, claim: Claim, reason: str) -> bool:
        """Give the job back to the queue (the worker is stopping); it resumes elsewhere."""
        done = self._release(
            keys={**self._job_keys(claim), "running": keys.running(), "dispatch": keys.dispatch()},
            args={"token": claim.token, "now": now_iso(), "now_ms": now_ms(),
                  "job_id": claim.job_id, "reason": reason},
        )  # fmt: skip
        return bool(done)

    # -- the reaper ------------------------------------------------------------------

    def elect(self, node: str, ttl_ms: int) -> bool:
        """Hold (or take) the reaper's office for `ttl_ms`; True while this node has it."""
        held = self._elect(keys={"reaper": keys.reaper()}, args={"node": node, "ttl_ms": ttl_ms})
        return bool(held)

    def expired(self) -> list[str]:
        """Running jobs whose lease key is gone."""
        running = sorted(str(text(i)) for i in self.redis.smembers(keys.running()))
        pipe = self.redis.pipeline(transaction=False)
        for job_id in running:
            pipe.exists(keys.job_lease(job_id))
        return [j for j, alive in zip(running, pipe.execute(), strict=True) if not alive]

    def requeue(self, job_id: str, max_attempts: int) -> ReaperOutcome:
        """What became of a running job whose lease may have expired: requeued, failed
        (too many attempts), cancelled (asked), or left alone (alive, gone)."""
        tenant = text(self.redis.hget(keys.job(job_id), "tenant")) or ""
        outcome = self._requeue(
            keys={"job": keys.job(job_id), "lease": keys.job_lease(job_id),
                  "running": keys.running(), "events": keys.job_events(job_id),
                  "feed": keys.job_feed(job_id), "dispatch": keys.dispatch(),
                  "active": keys.tenant_active(tenant)},
            args={"max_attempts": max_attempts, "now": now_iso(), "now_ms": now_ms(),
                  "job_id": job_id},
        )  # fmt: skip
        return ReaperOutcome(str(text(outcome)))

    def undispatched(self, older_than_ms: int) -> list[str]:
        """Queued jobs whose task may never have reached the broker."""
        found = self.redis.zrangebyscore(keys.dispatch(), "-inf", now_ms() - older_than_ms)
        return [str(text(i)) for i in found]
