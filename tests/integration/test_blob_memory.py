"""Data never sits in Redis or in the API's memory: 1 GiB of datasets uploaded through
the SDK (resumable multipart uploads, zstd) and trained on leaves Redis's memory almost
where it was and the API's resident size flat (parts stream to the store, or straight
from the client with S3's presigned URLs); the bytes are in the blob store (the
session's backend: files, or S3 with CORNU_TEST_BLOB_BACKEND=s3)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import redis

from cornu.client import Client
from cornu.core.store import Store
from tests.conftest import Stack
from tests.helpers import MemorySampler

MiB = 1024 * 1024
DATASETS = 4
SAMPLES, FEATURES = 65_536, 1024  # float32: 256 MiB a dataset, 1 GiB in all


def used_memory(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return int(client.info("memory")["used_memory"])  # type: ignore[index]
    finally:
        client.close()


def test_a_gib_of_uploads_and_training_leaves_redis_memory_flat(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(workers=1)
    api = MemorySampler(stack.services[0].process.pid)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, SAMPLES).astype(np.int64)
    before = used_memory(stack.redis_url)
    store = Store.from_url(stack.redis_url)
    key = store.tenants.create_key("gib")
    started = time.monotonic()
    api.start()
    with Client(stack.api_url, key) as client:
        ids = []
        for _ in range(DATASETS):
            x = rng.random((SAMPLES, FEATURES), dtype=np.float32)  # hardly compressible
            ids.append(client.upload(x).id)
            del x
        y = client.upload(labels).id
        uploaded = time.monotonic() - started
        api_before, api_peak = api.stop()
        jobs = [
            client.submit({
                "model": {"layers": [{"type": "Dense", "units": 4, "input_shape": [FEATURES]}]},
                "compile": {"loss": "sparse_categorical_crossentropy", "optimizer": "adam"},
                "fit": {"batch_size": 8192, "epochs": 1},
                "data": {"x": dataset, "y": y},
            }).id
            for dataset in ids
        ]  # fmt: skip
        for job in jobs:
            done = client.wait(job, timeout_s=300)
            assert done.status.value == "succeeded", done.error
    grown = used_memory(stack.redis_url) - before
    try:
        in_store = dict(store.blobs.store.objects("tenants/"))
    finally:
        store.close()
    # The compressed objects hold (almost) every byte: random float32 in [0, 1) squeezes
    # by a few percent at most.
    stored = sum(size for name, size in in_store.items() if name.rsplit("/", 1)[-1] in ids)
    assert stored >= 0.8 * DATASETS * SAMPLES * FEATURES * 4, stored
    assert grown < 20 * MiB, f"Redis grew by {grown / MiB:.1f} MiB"
    # A part is at most the client's 16 MiB (and the decoder's window): not the data.
    assert api_peak - api_before < 100 * MiB, (api_before, api_peak)
    print(f"{DATASETS * 256} MiB uploaded in {uploaded:.1f} s ({stored / MiB:.0f} MiB stored); "
          f"Redis grew {grown / MiB:.2f} MiB; API resident {api_before / MiB:.0f} → peak "
          f"{api_peak / MiB:.0f} MiB")  # fmt: skip
