"""Every Redis key Cornu uses, and every object key in the blob store, in one place."""

from __future__ import annotations

from urllib.parse import quote

PREFIX = "cornu"


def api_key(digest: str) -> str:
    """Hash: the tenant an API key (by its SHA-256) belongs to."""
    return f"{PREFIX}:apikey:{digest}"


def tenant(name: str) -> str:
    return f"{PREFIX}:tenant:{name}"


def api_keys() -> str:
    """Hash: key id → the SHA-256 of that API key (what `cornu keys list/revoke` name)."""
    return f"{PREFIX}:apikeys"


def tenant_jobs(name: str) -> str:
    """Sorted set of the tenant's job ids (all score 0: ids sort by creation time)."""
    return f"{PREFIX}:tenant:{name}:jobs"


def dataset(dataset_id: str) -> str:
    return f"{PREFIX}:dataset:{dataset_id}"


def job(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}"


JOB = f"{PREFIX}:job:"  # what `job(id)` begins with: a record's key less its id


def dataset_users(dataset_id: str) -> str:
    """Set of the ids of the jobs submitted on a dataset (a delete checks which still run)."""
    return f"{PREFIX}:dataset:{dataset_id}:jobs"


def job_users(job_id: str) -> str:
    """Set of the ids of the jobs that start from a job's weights (`fit.initial_weights`)."""
    return f"{PREFIX}:job:{job_id}:users"


def job_metrics(job_id: str) -> str:
    """Stream: one entry per finished epoch."""
    return f"{PREFIX}:job:{job_id}:metrics"


def blob(kind: str, owner_id: str) -> str:
    """List of byte chunks, as Cornu before the blob store kept a dataset's .npy file or a
    job's weights, state and checkpoints: read until `cornu migrate-blobs` moves them."""
    return f"{PREFIX}:blob:{kind}:{owner_id}"


LEGACY_BLOB = f"{PREFIX}:blob:"  # what a key read from Redis (not the blob store) starts with


def blob_garbage() -> str:
    """List of blob store keys no record points at any more (dropped checkpoints; legacy
    Redis blobs too, `LEGACY_BLOB`): the objects are deleted after the script that dropped
    them, and by the reaper after a crash."""
    return f"{PREFIX}:blobs:garbage"


def blob_pending() -> str:
    """Sorted set: dataset objects being written whose record is not written yet, scored
    by the time (Unix seconds) the write began. The record's script removes the entry; an
    entry past `blob_pending_seconds` is a writer that died (an API killed mid-upload),
    and the reaper deletes its object."""
    return f"{PREFIX}:blobs:pending"


def job_events(job_id: str) -> str:
    """Stream: what happened to a job (queued, started, checkpoint, requeued, …)."""
    return f"{PREFIX}:job:{job_id}:events"


def job_lease(job_id: str) -> str:
    """String with a TTL: the token of the worker that owns the running job."""
    return f"{PREFIX}:job:{job_id}:lease"


def job_acks(job_id: str) -> str:
    """List: wakes a worker that waits for the client's callbacks (see `acked_epoch`)."""
    return f"{PREFIX}:job:{job_id}:acks"


def job_checkpoints(job_id: str) -> str:
    """List of the kept checkpoints' metadata, oldest first."""
    return f"{PREFIX}:job:{job_id}:checkpoints"


def running() -> str:
    """Set of running job ids: where the reaper looks for expired leases."""
    return f"{PREFIX}:running"


def dispatch() -> str:
    """Sorted set (by time) of queued jobs whose task may not have reached the broker."""
    return f"{PREFIX}:dispatch"


def tenant_streams(name: str) -> str:
    """Sorted set: the tenant's open live streams, scored by when each lapses unless
    renewed (a stream whose API process died lapses by itself)."""
    return f"{PREFIX}:tenant:{name}:streams"


def tenant_tag(name: str, tag: str) -> str:
    """Sorted set (all score 0, like `tenant_jobs`) of the tenant's job ids with a tag."""
    return f"{PREFIX}:tenant:{name}:tag:{tag}"


def tenant_active(name: str) -> str:
    """Set of the tenant's queued and running job ids (for the per-tenant limit)."""
    return f"{PREFIX}:tenant:{name}:active"


def tenant_quota(name: str) -> str:
    """Hash: the tenant's own quota, where it differs from the service's defaults."""
    return f"{PREFIX}:tenant:{name}:quota"


def tenant_usage(name: str) -> str:
    """Hash: what the tenant uses, kept by the scripts that change it: `stored_bytes` and
    `datasets` (dataset records), `compute_seconds` (its jobs' training time),
    `device_seconds` (that time × each job's devices) and `cost` (at the prices charged)."""
    return f"{PREFIX}:tenant:{name}:usage"


def tenant_usage_days(name: str) -> str:
    """Hash: the tenant's device-seconds and cost per UTC day and accelerator class, as
    fields `<YYYY-MM-DD> <class> device_seconds` and `<YYYY-MM-DD> <class> cost`."""
    return f"{PREFIX}:tenant:{name}:usage:days"


def tenant_rate(name: str) -> str:
    """String with a TTL: the tenant's request-rate state (GCRA's theoretical arrival
    time, in ms), gone once the tenant has been quiet for a burst's worth of time."""
    return f"{PREFIX}:tenant:{name}:rate"


def call(call_id: str) -> str:
    """Hash with a TTL: work on a trained job (evaluate, predict, export) a worker is to
    run for the API (`core.store.calls`)."""
    return f"{PREFIX}:call:{call_id}"


def call_answer(call_id: str) -> str:
    """List with a TTL: a call's answer (`<status>\\n<body>`), where the API waits for it."""
    return f"{PREFIX}:call:{call_id}:answer"


def reaper() -> str:
    """String with a TTL: the process elected to requeue lost jobs."""
    return f"{PREFIX}:reaper"


def idempotency(tenant: str, scope: str, digest: str) -> str:
    return f"{PREFIX}:idempotency:{tenant}:{scope}:{digest}"


def job_feed(job_id: str) -> str:
    """Stream read by the live view (SSE): progress, epochs and the events, as they come."""
    return f"{PREFIX}:job:{job_id}:feed"


def upload(upload_id: str) -> str:
    """Hash: a resumable upload's record (tenant, declared header, status, backend handle)."""
    return f"{PREFIX}:upload:{upload_id}"


def upload_parts(upload_id: str) -> str:
    """Hash: part number → size and digests of the parts the API received (file backend)."""
    return f"{PREFIX}:upload:{upload_id}:parts"


def uploads_expiry() -> str:
    """Sorted set of unfinished uploads by the time (s) they expire: what the sweep reads."""
    return f"{PREFIX}:uploads:expiry"


def tenant_datasets(name: str) -> str:
    """Hash: the tenant's datasets by SHA-256 (content addressing: upload once)."""
    return f"{PREFIX}:tenant:{name}:datasets"


# -- objects in the blob store: `/`-separated paths, by tenant --------------------------


def _segment(name: str) -> str:
    """A name as one safe path segment (percent-encoded; a dot is encoded too, and the
    empty name is `%`, which no encoded name is)."""
    return quote(name, safe="-_~").replace(".", "%2E") or "%"


def tenant_objects(tenant: str) -> str:
    """Prefix of every object a tenant owns."""
    return f"tenants/{_segment(tenant)}/"


def dataset_object(tenant: str, dataset_id: str) -> str:
    """A dataset's .npy file, in the content coding it was uploaded in."""
    return f"{tenant_objects(tenant)}datasets/{_segment(dataset_id)}"


def job_objects(tenant: str, job_id: str) -> str:
    """Prefix of a job's objects: each attempt's weights, state and checkpoints."""
    return f"{tenant_objects(tenant)}jobs/{_segment(job_id)}/"


def prediction_object(tenant: str, job_id: str, name: str) -> str:
    """A predict's answer as a file (`pred_….npy` or `.npz`): never recorded, so the
    reaper deletes it once it is `blob_pending_seconds` old; with its job, sooner."""
    return f"{job_objects(tenant, job_id)}predictions/{_segment(name)}"


def attempt_object(tenant: str, job_id: str, attempt: int, name: str) -> str:
    """An object one attempt at a job wrote: only a fenced script publishes it."""
    return f"{job_objects(tenant, job_id)}attempts/{attempt}/{name}"


def study(study_id: str) -> str:
    """Hash: a study's record (tenant, status, spec, times) and its `wanted` mark (a step
    of its search is due)."""
    return f"{PREFIX}:study:{study_id}"


def study_trials(study_id: str) -> str:
    """Hash: trial number → the trial (JSON), written by the study's driver alone."""
    return f"{PREFIX}:study:{study_id}:trials"


def study_reports(study_id: str) -> str:
    """Hash: `<trial>:<epoch>` → the objective after that epoch, and `<trial>:attrs` → the
    pruner's notes on the trial, written by the worker training the trial's first job."""
    return f"{PREFIX}:study:{study_id}:reports"


def study_notes(study_id: str) -> str:
    """Hash: trial number → the driver's notes on it (Optuna's params and attributes)."""
    return f"{PREFIX}:study:{study_id}:notes"


def study_feed(study_id: str) -> str:
    """Stream read by the study's live view: trial and study events."""
    return f"{PREFIX}:study:{study_id}:feed"


def study_lock(study_id: str) -> str:
    """Lock held by the process taking a step of the study's search."""
    return f"{PREFIX}:study:{study_id}:lock"


def tenant_studies(name: str) -> str:
    """Sorted set (all score 0) of the tenant's study ids: newest last by id."""
    return f"{PREFIX}:tenant:{name}:studies"


def studies_running() -> str:
    """Set of the ids of running studies (the reaper asks each for a step now and then)."""
    return f"{PREFIX}:studies:running"


def fleet_worker(worker_id: str) -> str:
    """A worker's last heartbeat (JSON), expiring with it."""
    return f"{PREFIX}:fleet:worker:{worker_id}"


def fleet_workers() -> str:
    """Sorted set of worker ids, scored by when each one's heartbeat lapses."""
    return f"{PREFIX}:fleet:workers"


def fleet_classes() -> str:
    """Hash: accelerator class → its memory and devices (every class the fleet has had)."""
    return f"{PREFIX}:fleet:classes"


def device_reservations(device: str) -> str:
    """Sorted set: the jobs holding memory on one worker host's device (`host:cuda:0`,
    `host:cpu`), scored by when their hold lapses unless renewed (ms)."""
    return f"{PREFIX}:device:{device}:held"


def device_reserved_bytes(device: str) -> str:
    """Hash: job id → the bytes it holds on the device (`device_reservations`)."""
    return f"{PREFIX}:device:{device}:bytes"
