"""Uploaded arrays: metadata in a hash, the .npy file an object in the blob store (at
`tenants/<tenant>/datasets/<id>`) in the content coding it arrived in (`identity`,
`gzip` or `zstd`: a compressed upload stays small). The hash's `blob` field points at
the object; a dataset without one was stored in Redis by an older Cornu and is read
from there until `cornu migrate-blobs` moves it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import numpy as np
import redis

from cornu.core.codecs import ENCODINGS, Encoding, decoded
from cornu.core.errors import Conflict, DataError, NotFound, QuotaExceeded
from cornu.core.npy import array_from_chunks
from cornu.core.spec import Dataset, Usage
from cornu.core.store import keys
from cornu.core.store.blobs import Blobs, pointed, pointer
from cornu.core.store.blobstore import BlobInfo, MissingBlob
from cornu.core.store.lua import Script
from cornu.core.store.quotas import Quotas
from cornu.core.store.values import text

BLOB_KIND = "dataset"


def _exceeded(usage: Usage, incoming: int) -> QuotaExceeded:
    """What a tenant at its quota of bytes or datasets is told."""
    quota = usage.quota
    if usage.datasets >= quota.datasets:
        what = f"{usage.datasets} datasets, its quota's {quota.datasets}"
    else:
        what = (
            f"{usage.stored_bytes} bytes of datasets; {incoming} more would pass its "
            f"quota of {quota.stored_bytes}"
        )
    return QuotaExceeded(
        f"tenant {usage.tenant} holds {what}: delete datasets it no longer needs "
        "(DELETE /v1/datasets/{id}, `cornu datasets rm`) or ask for a bigger quota"
    )


class Datasets:
    def __init__(self, client: redis.Redis, blobs: Blobs, quotas: Quotas) -> None:
        self.redis = client
        self.blobs = blobs
        self.quotas = quotas
        self._record = Script(client, "record_dataset")
        self._forget = Script(client, "forget_dataset")

    def write_blob(self, dataset_id: str, chunks: Iterable[bytes], *, tenant: str) -> BlobInfo:
        """Store the file's bytes (as they came, in their coding) in the blob store; what
        was stored. Atomic: an exception from `chunks` leaves nothing behind; a process
        killed before `record` leaves a pending object the reaper deletes."""
        key = keys.dataset_object(tenant, dataset_id)
        self.blobs.begin(key)
        return self.blobs.write(key, chunks)

    def record(
        self,
        tenant: str,
        dataset: Dataset,
        encoding: Encoding = "identity",
        blob: BlobInfo | None = None,
    ) -> None:
        """Make a written object (`blob`, by default the one `write_blob` wrote) the
        tenant's dataset, and index it by content. The object was noted pending
        (`Blobs.begin`); if the reaper has deleted it meanwhile (a writer slower than
        `blob_pending_seconds`), Conflict. QuotaExceeded if its bytes would take the
        tenant past its quota of bytes or datasets. The object goes if this fails."""
        key = keys.dataset_object(tenant, dataset.id)
        if blob is None:
            blob = BlobInfo(key, self.blobs.store.size(key) or 0, "")
        fields = {
            "tenant": tenant,
            "meta": dataset.model_dump_json(),
            "encoding": encoding,
            "blob": pointer(blob),
            "used_at": datetime.now(UTC).isoformat(),  # by a job since: the retention's clock
        }
        try:
            quota = self.quotas.get(tenant)
            recorded = self._record(
                keys={"dataset": keys.dataset(dataset.id), "datasets": keys.tenant_datasets(tenant),
                      "pending": keys.blob_pending(), "usage": keys.tenant_usage(tenant)},
                args={"object": blob.key, "sha256": dataset.sha256, "dataset_id": dataset.id,
                      "bytes": blob.bytes, "limit_bytes": quota.stored_bytes,
                      "limit_datasets": quota.datasets,
                      "fields": [item for pair in fields.items() for item in pair]},
            )  # fmt: skip
            if recorded == -1:
                raise _exceeded(self.quotas.usage(tenant), blob.bytes)
        except BaseException:
            self.blobs.delete(blob.key)
            raise
        if not recorded:
            raise Conflict(
                f"dataset {dataset.id}: its bytes took longer to store than the service "
                "waits for a writer; they were deleted: upload it again"
            )

    def check_room(self, tenant: str, incoming: int) -> None:
        """QuotaExceeded, before any byte is read, when `incoming` more bytes (or one more
        dataset) would take the tenant past its quota. `record` checks again, exactly."""
        usage = self.quotas.usage(tenant)
        quota = usage.quota
        if usage.stored_bytes + incoming > quota.stored_bytes or usage.datasets >= quota.datasets:
            raise _exceeded(usage, incoming)

    def get(self, tenant: str, dataset_id: str) -> Dataset:
        """The dataset if it exists and belongs to `tenant`; NotFound otherwise."""
        owner, meta = self.redis.hmget(keys.dataset(dataset_id), ["tenant", "meta"])
        if owner is None or meta is None or text(owner) != tenant:
            raise NotFound(f"no dataset {dataset_id!r}")
        return Dataset.model_validate_json(meta)

    def by_sha256(self, tenant: str, sha256: str) -> Dataset:
        """The tenant's dataset with this content; NotFound if it has none."""
        dataset_id = text(self.redis.hget(keys.tenant_datasets(tenant), sha256))
        if dataset_id is None:
            raise NotFound(f"no dataset with sha256 {sha256}")
        return self.get(tenant, dataset_id)

    def shapes(self, tenant: str, dataset_ids: Iterable[str]) -> dict[str, tuple[int, ...]]:
        """Shapes of those of `dataset_ids` that exist and belong to `tenant`."""
        ids = sorted(set(dataset_ids))
        pipe = self.redis.pipeline(transaction=False)
        for dataset_id in ids:
            pipe.hmget(keys.dataset(dataset_id), ["tenant", "meta"])
        out = {}
        for dataset_id, (owner, meta) in zip(ids, pipe.execute(), strict=True):
            if owner is not None and meta is not None and text(owner) == tenant:
                out[dataset_id] = tuple(json.loads(meta)["shape"])
        return out

    def delete(self, dataset_id: str) -> None:
        """Remove the dataset, its bytes, its content index entry if that names it, and
        its bytes from its tenant's usage."""
        owner, meta, blob = self.redis.hmget(keys.dataset(dataset_id), ["tenant", "meta", "blob"])
        if owner is not None and meta is not None:
            tenant = str(text(owner))
            self._forget(
                keys={"dataset": keys.dataset(dataset_id), "datasets": keys.tenant_datasets(tenant),
                      "usage": keys.tenant_usage(tenant)},
                args={"sha256": json.loads(meta)["sha256"], "dataset_id": dataset_id},
            )  # fmt: skip
        self.redis.delete(keys.dataset(dataset_id))
        self.blobs.delete(pointed(blob), keys.blob(BLOB_KIND, dataset_id))

    def load(self, dataset_id: str) -> np.ndarray:
        """The stored array, decoded as it is read (one copy of it in memory). Never
        unpickles: object arrays were refused at upload."""
        coding, blob = self.redis.hmget(keys.dataset(dataset_id), ["encoding", "blob"])
        coding = text(coding) or "identity"
        try:
            if coding not in ENCODINGS:
                raise MissingBlob(dataset_id)
            chunks = self.blobs.chunks(pointed(blob) or keys.blob(BLOB_KIND, dataset_id))
        except MissingBlob:
            # Its bytes went while its record stayed: deleted behind the service's back (the
            # API refuses to delete a dataset a queued or running job uses). The job fails.
            raise DataError(
                f"dataset {dataset_id!r} has no bytes in the blob store any more (deleted "
                "while in use?); upload it again and resubmit"
            ) from None
        return array_from_chunks(decoded(chunks, coding))

    def stored(self, dataset_id: str) -> tuple[str, Encoding, Iterator[bytes]]:
        """What a worker's cache needs: the dataset's content hash (SHA-256 of its .npy
        file), the coding it is stored in, and its stored bytes, a chunk at a time (read
        lazily: a cache hit reads none). NotFound for an unknown dataset."""
        fields = ["meta", "encoding", "blob"]
        meta, coding, blob = self.redis.hmget(keys.dataset(dataset_id), fields)
        if meta is None:
            raise NotFound(f"no dataset {dataset_id!r}")
        coding = text(coding) or "identity"
        if coding not in ENCODINGS:
            raise DataError(f"dataset {dataset_id!r} is stored in an unknown coding {coding!r}")
        key = pointed(blob) or keys.blob(BLOB_KIND, dataset_id)
        return json.loads(meta)["sha256"], coding, self._lazy(key)

    def _lazy(self, key: str) -> Iterator[bytes]:
        try:
            chunks = self.blobs.chunks(key)
        except MissingBlob:
            raise DataError(
                f"the bytes of {key!r} are not in the blob store any more (deleted while in "
                "use?); upload the dataset again and resubmit"
            ) from None
        yield from chunks
