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
checkpoint) goes on the `blob_garbage` list in the same script and is deleted after it;
what a crashed writer left under its attempt is swept when the job succeeds.
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
from cornu.core.store.jobs import (
    EVENT_FN,
    EVENTS_MAXLEN,
    FEED_MAXLEN,
    POINTERS,
    now_iso,
    now_ms,
)
from cornu.core.store.quotas import CHARGE_FN
from cornu.core.store.values import text

CHECKPOINT = "checkpoint"

log = logging.getLogger(__name__)

_FENCE = "if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end\n"

# An object no record points at any more: onto the garbage list (deleted after the
# script); a Redis blob an older Cornu wrote is deleted at once.
_DROP = f"""
local function drop(key, garbage)
  if string.sub(key, 1, {len(keys.LEGACY_BLOB)}) == '{keys.LEGACY_BLOB}' then
    redis.call('DEL', key)
  else
    redis.call('RPUSH', garbage, key)
  end
end
"""

# Keeps the newest `keep` checkpoints: the list holds their metadata (with the blob key).
_KEEP_CHECKPOINT = (
    _DROP
    + """
local function keep_checkpoint(job, list, events, key, meta, keep, now, epoch, batch, garbage)
  redis.call('HSET', job, 'checkpoint', key)
  redis.call('RPUSH', list, meta)
  while redis.call('LLEN', list) > keep do
    drop(cjson.decode(redis.call('LPOP', list))['key'], garbage)
  end
  event(events, now, 'checkpoint', 'epoch', epoch, 'batch', batch)
end
"""
)

# KEYS: job, lease, running, events   ARGV: token, worker, lease (ms), now, job id, device,
# the worker's accelerator class, its price per device-hour ('' when it has none)
_CLAIM = (
    EVENT_FN
    + """
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return false end
local attempt = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'status', 'running', 'lease_token', ARGV[1], 'worker', ARGV[2],
           'device', ARGV[6], 'rate_accelerator', ARGV[7])
if ARGV[8] == '' then
  redis.call('HDEL', KEYS[1], 'rate_price')
else
  redis.call('HSET', KEYS[1], 'rate_price', ARGV[8])
end
if not redis.call('HGET', KEYS[1], 'started_at') then
  redis.call('HSET', KEYS[1], 'started_at', ARGV[4])
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
redis.call('SADD', KEYS[3], ARGV[5])
event(KEYS[4], ARGV[4], 'started', 'worker', ARGV[2], 'attempt', attempt, 'device', ARGV[6])
local f = redis.call('HMGET', KEYS[1], 'spec', 'checkpoint', 'run_seconds', 'tenant', 'epoch',
                     'device_seconds', 'cost')
return {f[1], f[2] or '', f[3] or '0', f[4], attempt, f[5] or '0', f[6] or '', f[7] or ''}
"""
)

# KEYS: job, lease   ARGV: token, lease (ms)  → {owned, cancel requested, stop_training}
_RENEW = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return {0, 0, 0} end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
local f = redis.call('HMGET', KEYS[1], 'cancel', 'stop_training')
return {1, f[1] == '1' and 1 or 0, f[2] == '1' and 1 or 0}
"""

# One finished epoch: its metrics and its checkpoint, together or not at all.
# KEYS: job, lease, metrics, events, checkpoints, feed, garbage, tenant's usage, its days
# ARGV: token, epoch, entry, logs, checkpoint key, meta, keep, run seconds, now, maxlen,
#       feed maxlen
_COMMIT_EPOCH = (
    EVENT_FN
    + CHARGE_FN
    + _KEEP_CHECKPOINT
    + _FENCE
    + """
local done = tonumber(redis.call('HGET', KEYS[1], 'epoch') or '0')
if tonumber(ARGV[2]) ~= done + 1 then return -1 end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[10], '*', 'log', ARGV[3])
redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[11], '*', 'event', 'epoch', 'data', ARGV[3])
charge(KEYS[1], KEYS[8], KEYS[9], ARGV[8], ARGV[9])
redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'metrics', ARGV[4], 'run_seconds', ARGV[8])
keep_checkpoint(KEYS[1], KEYS[5], KEYS[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[9], ARGV[2], 0,
                KEYS[7])
return 1
"""
)

# A checkpoint within an epoch.
# KEYS: job, lease, events, checkpoints, garbage, tenant's usage, its days
# ARGV: token, checkpoint key, meta, keep, run seconds, now, epoch, batch
_SAVE_CHECKPOINT = (
    EVENT_FN
    + CHARGE_FN
    + _KEEP_CHECKPOINT
    + _FENCE
    + """
charge(KEYS[1], KEYS[6], KEYS[7], ARGV[5], ARGV[6])
redis.call('HSET', KEYS[1], 'run_seconds', ARGV[5])
keep_checkpoint(KEYS[1], KEYS[4], KEYS[3], ARGV[2], ARGV[3], tonumber(ARGV[4]),
                ARGV[6], ARGV[7], ARGV[8], KEYS[5])
return 1
"""
)

# Publishes the attempt's weights and state (pointers to its objects); the checkpoints go.
# KEYS: job, lease, running, events, tenant's active set, checkpoints, garbage
# ARGV: token, now, job id, weights pointer, state pointer
_SUCCEED = (
    EVENT_FN
    + _DROP
    + _FENCE
    + """
local new = {[cjson.decode(ARGV[4])['key']] = true, [cjson.decode(ARGV[5])['key']] = true}
for _, field in ipairs({'weights_blob', 'state_blob'}) do
  local old = redis.call('HGET', KEYS[1], field)
  if old and not new[cjson.decode(old)['key']] then drop(cjson.decode(old)['key'], KEYS[7]) end
end
redis.call('HSET', KEYS[1], 'weights_blob', ARGV[4], 'state_blob', ARGV[5])
for _, meta in ipairs(redis.call('LRANGE', KEYS[6], 0, -1)) do
  drop(cjson.decode(meta)['key'], KEYS[7])
end
redis.call('DEL', KEYS[6], KEYS[2])
redis.call('HSET', KEYS[1], 'status', 'succeeded', 'finished_at', ARGV[2])
redis.call('HDEL', KEYS[1], 'lease_token', 'checkpoint')
redis.call('SREM', KEYS[3], ARGV[3])
redis.call('SREM', KEYS[5], ARGV[3])
event(KEYS[4], ARGV[2], 'succeeded')
return 1
"""
)

# failed | cancelled, keeping the checkpoints.
# KEYS: job, lease, running, events, tenant's active set   ARGV: token, status, error, now, id
_FINISH = (
    EVENT_FN
    + _FENCE
    + """
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'finished_at', ARGV[4], 'error', ARGV[3])
redis.call('HDEL', KEYS[1], 'lease_token')
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[5])
redis.call('SREM', KEYS[5], ARGV[5])
if ARGV[2] == 'failed' then
  event(KEYS[4], ARGV[4], 'failed', 'reason', ARGV[3])
else
  event(KEYS[4], ARGV[4], ARGV[2])
end
return 1
"""
)

# Back to the queue (a worker shutting down).   KEYS: job, lease, running, events, dispatch
# ARGV: token, now, now (ms), id, reason
_RELEASE = (
    EVENT_FN
    + _FENCE
    + """
redis.call('HSET', KEYS[1], 'status', 'queued')
redis.call('HDEL', KEYS[1], 'lease_token', 'worker')
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[4])
redis.call('ZADD', KEYS[5], ARGV[3], ARGV[4])
event(KEYS[4], ARGV[2], 'released', 'reason', ARGV[5])
return 1
"""
)

# The reaper's step for one running job whose lease may have expired.
# KEYS: job, lease, running, events, dispatch, tenant's active set
# ARGV: max attempts, now, now (ms), id
_REQUEUE = (
    EVENT_FN
    + """
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then
  redis.call('SREM', KEYS[3], ARGV[4])
  return 'gone'
end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'alive' end
local worker = redis.call('HGET', KEYS[1], 'worker') or '?'
event(KEYS[4], ARGV[2], 'lease_lost', 'worker', worker)
redis.call('SREM', KEYS[3], ARGV[4])
redis.call('HDEL', KEYS[1], 'lease_token', 'worker')
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
local finished = nil
if redis.call('HGET', KEYS[1], 'cancel') == '1' then
  finished = {'cancelled', ''}
elseif attempts >= tonumber(ARGV[1]) then
  finished = {'failed', 'the worker running this job was lost ' .. attempts ..
    ' times (killed, out of memory, or cut off from Redis); the last checkpoint is kept'}
end
if finished then
  redis.call('HSET', KEYS[1], 'status', finished[1], 'finished_at', ARGV[2], 'error', finished[2])
  redis.call('SREM', KEYS[6], ARGV[4])
  if finished[1] == 'failed' then
    event(KEYS[4], ARGV[2], 'failed', 'reason', finished[2])
  else
    event(KEYS[4], ARGV[2], 'cancelled')
  end
  return finished[1]
end
redis.call('HSET', KEYS[1], 'status', 'queued')
redis.call('ZADD', KEYS[5], ARGV[3], ARGV[4])
event(KEYS[4], ARGV[2], 'requeued', 'attempt', attempts)
return 'requeued'
"""
)

# One progress report of a running job, for the live view.   KEYS: job, lease, feed
# ARGV: token, data (JSON), maxlen
_PROGRESS = (
    _FENCE
    + """
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'event', 'progress', 'data', ARGV[2])
return 1
"""
)

# KEYS: reaper   ARGV: node, ttl (ms)  → 1 while this node holds the office
_ELECT = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


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
        self._scripts = {
            name: client.register_script(source)
            for name, source in {
                "claim": _CLAIM,
                "renew": _RENEW,
                "commit": _COMMIT_EPOCH,
                "checkpoint": _SAVE_CHECKPOINT,
                "succeed": _SUCCEED,
                "finish": _FINISH,
                "release": _RELEASE,
                "requeue": _REQUEUE,
                "progress": _PROGRESS,
                "elect": _ELECT,
            }.items()
        }

    def _run(self, name: str, keys_: list[str], args: list[Any]) -> Any:
        return self._scripts[name](keys=keys_, args=args)

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
        found = self._run(
            "claim",
            [keys.job(job_id), keys.job_lease(job_id), keys.running(), keys.job_events(job_id)],
            [token, worker, self.lease_ms, now_iso(), job_id, device, accelerator,
             "" if price is None else repr(price)],
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
        owned, cancel, stop = self._run(
            "renew",
            [keys.job(claim.job_id), keys.job_lease(claim.job_id)],
            [claim.token, self.lease_ms],
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
        done = self._run(
            "commit",
            [keys.job(claim.job_id), keys.job_lease(claim.job_id), keys.job_metrics(claim.job_id),
             keys.job_events(claim.job_id), keys.job_checkpoints(claim.job_id),
             keys.job_feed(claim.job_id), keys.blob_garbage(), keys.tenant_usage(claim.tenant),
             keys.tenant_usage_days(claim.tenant)],
            [claim.token, epoch, entry, json.dumps(logs), key, meta, keep, run_seconds, now_iso(),
             self.max_epochs + 1, FEED_MAXLEN],
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
        done = self._run(
            "checkpoint",
            [keys.job(claim.job_id), keys.job_lease(claim.job_id), keys.job_events(claim.job_id),
             keys.job_checkpoints(claim.job_id), keys.blob_garbage(),
             keys.tenant_usage(claim.tenant), keys.tenant_usage_days(claim.tenant)],
            [claim.token, key, meta, keep, run_seconds, now_iso(), epoch, batch],
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
        done = self._run(
            "progress",
            [keys.job(claim.job_id), keys.job_lease(claim.job_id), keys.job_feed(claim.job_id)],
            [claim.token, json.dumps(data), FEED_MAXLEN],
        )
        return bool(done)

    def trained_to_end(self, claim: Claim) -> None:
        """Counts attempts that finished training, fenced or not: duplicated work shows."""
        self.redis.hincrby(keys.job(claim.job_id), "trained_to_end", 1)

    def succeed(self, claim: Claim, keras_weights: bytes, state: bytes) -> bool:
        """The trained weights and state, published if the lease still holds."""
        weights = self.blobs.write(self._object(claim, "weights.safetensors"), [keras_weights])
        native = self.blobs.write(self._object(claim, "state.safetensors"), [state])
        done = self._run(
            "succeed",
            [keys.job(claim.job_id), keys.job_lease(claim.job_id), keys.running(),
             keys.job_events(claim.job_id), keys.tenant_active(claim.tenant),
             keys.job_checkpoints(claim.job_id), keys.blob_garbage()],
            [claim.token, now_iso(), claim.job_id, pointer(weights), pointer(native)],
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
        done = self._run(
            "finish",
            [keys.job(claim.job_id), keys.job_lease(claim.job_id), keys.running(),
             keys.job_events(claim.job_id), keys.tenant_active(claim.tenant)],
            [claim.token, status.value, error or "", now_iso(), claim.job_id],
        )  # fmt: skip
        return bool(done)

    def release(self, claim: Claim, reason: str) -> bool:
        """Give the job back to the queue (the worker is stopping); it resumes elsewhere."""
        done = self._run(
            "release",
            [keys.job(claim.job_id), keys.job_lease(claim.job_id), keys.running(),
             keys.job_events(claim.job_id), keys.dispatch()],
            [claim.token, now_iso(), now_ms(), claim.job_id, reason],
        )  # fmt: skip
        return bool(done)

    # -- the reaper ------------------------------------------------------------------

    def elect(self, node: str, ttl_ms: int) -> bool:
        """Hold (or take) the reaper's office for `ttl_ms`; True while this node has it."""
        return bool(self._run("elect", [keys.reaper()], [node, ttl_ms]))

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
        outcome = self._run(
            "requeue",
            [keys.job(job_id), keys.job_lease(job_id), keys.running(), keys.job_events(job_id),
             keys.dispatch(), keys.tenant_active(tenant)],
            [max_attempts, now_iso(), now_ms(), job_id],
        )  # fmt: skip
        return ReaperOutcome(str(text(outcome)))

    def undispatched(self, older_than_ms: int) -> list[str]:
        """Queued jobs whose task may never have reached the broker."""
        found = self.redis.zrangebyscore(keys.dispatch(), "-inf", now_ms() - older_than_ms)
        return [str(text(i)) for i in found]
