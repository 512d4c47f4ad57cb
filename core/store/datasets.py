"""Uploaded arrays: metadata in a hash, the .npy file as a chunked blob."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Iterator

import numpy as np
import redis

from cornu.core.errors import NotFound
from cornu.core.spec import Dataset
from cornu.core.store import keys
from cornu.core.store.blobs import Blobs
from cornu.core.store.values import text

BLOB_KIND = "dataset"


# Compare and delete, in one step: a concurrent upload may have indexed another id.
_UNINDEX = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
    return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""


class Datasets:
    def __init__(self, client: redis.Redis, blobs: Blobs) -> None:
        self.redis = client
        self.blobs = blobs

    def create(
        self,
        tenant: str,
        dataset_id: str,
        npy_chunks: Iterable[bytes],
        shape: tuple[int, ...],
        dtype: str,
    ) -> Dataset:
        """Store the file's chunks (hashing them on the way), then its metadata."""
        digest = hashlib.sha256()

        def hashed() -> Iterator[bytes]:
            for chunk in npy_chunks:
                digest.update(chunk)
                yield chunk

        size = self.blobs.write(keys.blob(BLOB_KIND, dataset_id), hashed())
        dataset = Dataset(
            id=dataset_id, shape=list(shape), dtype=dtype, bytes=size, sha256=digest.hexdigest()
        )
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(
            keys.dataset(dataset_id), mapping={"tenant": tenant, "meta": dataset.model_dump_json()}
        )
        # The first upload of a content stays its index entry (a duplicate may be removed).
        pipe.hsetnx(keys.tenant_datasets(tenant), dataset.sha256, dataset_id)
        pipe.execute()
        return dataset

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
        """Remove the dataset, and its content index entry if that names it."""
        owner, meta = self.redis.hmget(keys.dataset(dataset_id), ["tenant", "meta"])
        if owner is not None and meta is not None:
            index = keys.tenant_datasets(str(text(owner)))
            self.redis.eval(_UNINDEX, 1, index, json.loads(meta)["sha256"], dataset_id)
        self.redis.delete(keys.dataset(dataset_id), keys.blob(BLOB_KIND, dataset_id))

    def load(self, dataset_id: str) -> np.ndarray:
        """The stored array. Never unpickles: object arrays were refused at upload."""
        data = self.blobs.read(keys.blob(BLOB_KIND, dataset_id))
        if not data:
            raise NotFound(f"no data stored for dataset {dataset_id!r}")
        array: np.ndarray = np.load(io.BytesIO(data), allow_pickle=False)
        return array
