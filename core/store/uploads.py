"""Records of resumable uploads in Redis, and the sweep that ends expired ones.

An upload's hash keeps its tenant, the dataset it will become, the declared .npy header,
its status (`open`, then `completing`) and its backend handle; the parts the API received
itself (file backend) are a second hash, part number → size and digests, so a part sent
again overwrites its entry. Every unfinished upload is in a sorted set by expiry time:
the sweep (run by the reaper) deletes the parts from the backend, then the records.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import redis

from cornu.core.errors import Conflict, NotFound
from cornu.core.store import keys
from cornu.core.store.backends import part_store
from cornu.core.store.blobstore import BlobStore, MissingBlob
from cornu.core.store.lua import Script
from cornu.core.store.multipart import Part, PartStore
from cornu.core.store.values import text

log = logging.getLogger(__name__)

SWEEP_BATCH = 100


class Uploads:
    def __init__(self, client: redis.Redis, blob_store: BlobStore) -> None:
        self.redis = client
        self.blob_store = blob_store
        self._claim = Script(client, "claim_upload")
        self._parts: PartStore | None = None

    @property
    def parts_store(self) -> PartStore:
        """The backend's part store (made on first use)."""
        if self._parts is None:
            self._parts = part_store(self.blob_store)
        return self._parts

    def create(self, upload_id: str, record: dict[str, Any], expires_at: float) -> None:
        """Store a new upload's record (JSON-able values) and schedule its expiry."""
        pipe = self.redis.pipeline(transaction=True)
        fields: dict[str | bytes, str] = {n: json.dumps(v) for n, v in record.items()}
        fields["status"] = "open"
        pipe.hset(keys.upload(upload_id), mapping=fields)  # type: ignore[arg-type]
        pipe.zadd(keys.uploads_expiry(), {upload_id: expires_at})
        pipe.execute()

    def get(self, tenant: str, upload_id: str) -> dict[str, Any]:
        """The record of the tenant's upload (with `status` and `expires_at`); NotFound if
        there is none, it is another tenant's, or it has expired."""
        raw = self.redis.hgetall(keys.upload(upload_id))
        expires_at = self.redis.zscore(keys.uploads_expiry(), upload_id)
        fields = {str(text(k)): str(text(v)) for k, v in raw.items()}
        if not fields or expires_at is None:
            raise NotFound(f"no upload {upload_id!r}")
        record: dict[str, Any] = {
            k: (v if k == "status" else json.loads(v)) for k, v in fields.items()
        }
        if record.get("tenant") != tenant:
            raise NotFound(f"no upload {upload_id!r}")
        if expires_at <= time.time():
            raise NotFound(
                f"upload {upload_id!r} expired unfinished; its parts are deleted: start again"
            )
        record["expires_at"] = expires_at
        return record

    def claim(self, upload_id: str, was: str, now: str) -> None:
        """Move the upload from status `was` to `now`; Conflict if it is not in `was`."""
        if not self._claim(keys={"upload": keys.upload(upload_id)}, args={"was": was, "now": now}):
            raise Conflict(
                f"upload {upload_id!r} is being completed; a part or another complete must "
                "wait for its answer"
            )

    def record_part(self, upload_id: str, part: Part) -> None:
        """Remember a part the API stored (replacing an earlier copy's entry)."""
        entry = {"bytes": part.bytes, "etag": part.etag, "sha256": part.sha256}
        self.redis.hset(keys.upload_parts(upload_id), str(part.number), json.dumps(entry))

    def recorded_parts(self, upload_id: str) -> list[Part]:
        """The parts `record_part` remembered, by number."""
        raw = self.redis.hgetall(keys.upload_parts(upload_id))
        parts = [Part(int(text(n) or 0), **json.loads(entry)) for n, entry in raw.items()]
        return sorted(parts, key=lambda p: p.number)

    def forget(self, upload_id: str) -> None:
        """Delete the upload's records (its parts are the caller's to delete first)."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(keys.upload(upload_id), keys.upload_parts(upload_id))
        pipe.zrem(keys.uploads_expiry(), upload_id)
        pipe.execute()

    def discard(self, upload_id: str, record: dict[str, Any]) -> None:
        """Abort: the parts leave the backend, then the records go."""
        self.parts_store.abort(record["key"], record["handle"])
        self.forget(upload_id)

    def sweep(self, now: float | None = None) -> list[str]:
        """End up to SWEEP_BATCH uploads past their expiry: their parts are deleted from
        the backend (S3: AbortMultipartUpload), then their records. The ids swept."""
        now = time.time() if now is None else now
        due = [
            text(u)
            for u in self.redis.zrangebyscore(keys.uploads_expiry(), "-inf", now, 0, SWEEP_BATCH)
        ]
        swept = []
        for upload_id in due:
            assert upload_id is not None
            key, handle = self.redis.hmget(keys.upload(upload_id), ["key", "handle"])
            try:
                if key is not None and handle is not None:
                    self.parts_store.abort(json.loads(key), json.loads(handle))
            except MissingBlob:
                pass
            self.forget(upload_id)
            log.info("upload %s expired unfinished; its parts are deleted", upload_id)
            swept.append(upload_id)
        return swept
