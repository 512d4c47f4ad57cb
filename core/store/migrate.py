"""`cornu migrate-blobs`: the bytes an older Cornu kept in Redis, moved to the blob store.

Each legacy blob (`cornu:blob:<kind>:<owner>`) is copied to its object, then one script
points its record at the object and deletes the Redis copy, if the record still names
that copy (a dataset deleted, or a checkpoint dropped, meanwhile: the copy is removed
again). It can run while the service runs, and again: what was moved is not found twice.
Until it has run, reads fall back to the Redis copies.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable

from cornu.core.store import Store, keys
from cornu.core.store.blobs import pointer
from cornu.core.store.jobs import POINTERS, STATE, WEIGHTS
from cornu.core.store.lua import Script
from cornu.core.store.runs import CHECKPOINT
from cornu.core.store.values import text


def migrate_blobs(
    store: Store, *, delete_unreferenced: bool = False, progress: Callable[[str], None] = print
) -> Counter[str]:
    """Move every legacy Redis blob; counts of `moved`, `unreferenced` (no record names
    it: deleted with `delete_unreferenced`, else left), `partial` (an unfinished write,
    expiring by itself) and `bytes` moved."""
    point = Script(store.redis, "point_blob")
    point_checkpoint = Script(store.redis, "point_checkpoint")
    counts: Counter[str] = Counter()
    for raw in store.redis.scan_iter(match=keys.LEGACY_BLOB + "*", count=500, _type="list"):
        legacy = str(text(raw))
        if ":partial:" in legacy:
            counts["partial"] += 1
            continue
        kind, _, owner = legacy.removeprefix(keys.LEGACY_BLOB).partition(":")
        job_id = owner.split(":", 1)[0]
        record = keys.dataset(owner) if kind == "dataset" else keys.job(job_id)
        tenant = text(store.redis.hget(record, "tenant"))
        if tenant is None or kind not in ("dataset", WEIGHTS, STATE, CHECKPOINT):
            outcome = "gone"
        else:
            key = _object_key(kind, tenant, owner, legacy)
            info = store.blobs.write(key, store.blobs.legacy.chunks(legacy))
            if kind == CHECKPOINT:
                found = point_checkpoint(
                    keys={"job": record, "checkpoints": keys.job_checkpoints(job_id),
                          "legacy": legacy},
                    args={"legacy_key": legacy, "object": key, "sha256": info.sha256},
                )  # fmt: skip
            else:
                field = "blob" if kind == "dataset" else POINTERS[kind]
                found = point(
                    keys={"record": record, "legacy": legacy},
                    args={"field": field, "pointer": pointer(info)},
                )
            outcome = str(text(found))
            if outcome == "moved":
                counts["bytes"] += info.bytes
            else:
                store.blobs.store.delete(key)
        if outcome == "gone":
            outcome = "unreferenced"
            if delete_unreferenced:
                store.redis.delete(legacy)
        counts[outcome] += 1
        progress(f"{legacy}: {outcome}")
    return counts


def _object_key(kind: str, tenant: str, owner: str, legacy: str) -> str:
    if kind == "dataset":
        return keys.dataset_object(tenant, owner)
    job_id, _, rest = owner.partition(":")
    prefix = keys.job_objects(tenant, job_id) + "migrated/"
    if kind == CHECKPOINT:  # <job>:<token>:<epoch>:<batch>; a token may hold anything
        epoch_batch = "-".join(rest.rsplit(":", 2)[-2:])
        tag = hashlib.sha256(legacy.encode()).hexdigest()[:12]
        return f"{prefix}checkpoints/{epoch_batch}-{tag}"
    return f"{prefix}{kind}.safetensors"
