"""Resumable multipart uploads (`/v1/uploads`) over real HTTP, on both blob backends: a
directory, and SeaweedFS's S3 gateway (presigned part URLs). Each backend gets a stack of
its own (Redis, an API logging every request, a worker); what the API received is read
from its access log, and what the backend holds from the backend itself."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import redis
import zstandard

from cornu.core.embedded import free_port
from cornu.core.store import keys
from tests.conftest import (
    S3_BUCKET,
    Service,
    start_api,
    start_redis_server,
    start_worker,
    wait_until,
)
from tests.helpers import mlp_spec, npy_bytes, upload, wait_for_job

MiB = 1024 * 1024
PART = 5 * MiB  # S3's least part (all but the last)
LIMITS = {
    "CORNU_UPLOAD_MAX_PART_BYTES": str(8 * MiB),
    "CORNU_UPLOAD_MAX_PARTS": "6",
    "CORNU_MAX_DATASET_BYTES": str(40 * MiB),
    "CORNU_UPLOAD_TTL_SECONDS": "20",
    "CORNU_REAPER_INTERVAL_SECONDS": "0.5",
}
_PART_LINE = re.compile(r'"PUT /v1/uploads/(up_\w+)/parts/(\d+) HTTP/1.1" (\d+)')


@dataclass
class UploadStack:
    backend: str
    api_url: str
    api: Service
    redis: redis.Redis
    redis_url: str
    blob_root: Path | None  # file backend
    s3: Any  # S3 backend: a boto3 client
    prefix: str

    def client(self) -> httpx.Client:
        from cornu.core.store import Store

        store = Store.from_url(self.redis_url)
        key = store.tenants.create_key(f"t{time.time_ns()}")
        store.close()
        return httpx.Client(
            base_url=self.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        )

    def part_requests(self, upload_id: str) -> Counter[int]:
        """Part number → PUT requests the API answered for the upload (its access log)."""
        found: Counter[int] = Counter()
        for match in _PART_LINE.finditer(self.api.output()):
            if match[1] == upload_id:
                found[int(match[2])] += 1
        return found

    def handle(self, upload_id: str) -> str:
        import json

        return str(json.loads(self.redis.hget(keys.upload(upload_id), "handle") or "null"))

    def tenant(self, http: httpx.Client) -> str:
        key = http.headers["Authorization"].removeprefix("Bearer ")
        return str(
            self.redis.hget(keys.api_key(hashlib.sha256(key.encode()).hexdigest()), "tenant"),
            "utf-8",
        )

    def object_size(self, key: str) -> int:
        """The object's size, as the backend itself has it."""
        if self.blob_root is not None:
            return (self.blob_root / key).stat().st_size
        return int(
            self.s3.head_object(Bucket=S3_BUCKET, Key=f"{self.prefix}/{key}")["ContentLength"]
        )

    def backend_parts(self, upload_id: str, handle: str) -> list[int]:
        """The part numbers the backend itself holds for the upload (files or ListParts)."""
        if self.blob_root is not None:
            directory = self.blob_root / ".uploads" / handle
            if not directory.is_dir():
                return []
            return sorted(int(p.name) for p in directory.iterdir() if not p.name.startswith("."))
        uploads = self.s3.list_multipart_uploads(Bucket=S3_BUCKET, Prefix=self.prefix)
        if handle not in [u["UploadId"] for u in uploads.get("Uploads", [])]:
            return []
        key = next(u["Key"] for u in uploads["Uploads"] if u["UploadId"] == handle)
        try:
            listed = self.s3.list_parts(Bucket=S3_BUCKET, Key=key, UploadId=handle)
        except self.s3.exceptions.NoSuchUpload:
            return []  # aborted between the two calls (the expiry sweep)
        return sorted(p["PartNumber"] for p in listed.get("Parts", []))


@pytest.fixture(scope="module", params=["file", "s3"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[UploadStack]:
    directory = tmp_path_factory.mktemp(f"uploads-{request.param}")
    port = free_port()
    redis_server = start_redis_server(directory / "redis", port)
    redis_url = f"redis://127.0.0.1:{port}/0"
    prefix = f"uploads-{time.time_ns()}"
    env = {
        "CORNU_REDIS_URL": redis_url,
        "CORNU_HOME": str(directory / "home"),
        "CORNU_DEVICE": "cpu",
        "OMP_NUM_THREADS": "1",
        **LIMITS,
    }
    blob_root, s3 = None, None
    if request.param == "file":
        blob_root = directory / "blobs"
        env["CORNU_BLOB_URL"] = blob_root.as_uri()
    else:
        server = request.getfixturevalue("s3_server")
        env.update(server.env, CORNU_BLOB_URL=f"s3://{S3_BUCKET}/{prefix}")
        s3 = server.client()
    services: list[Service] = []
    try:
        api_port = free_port()
        api = start_api(env, directory / "api.log", api_port, log_level="info")
        services.append(api)
        api_url = f"http://127.0.0.1:{api_port}"
        services.append(start_worker(env, directory / "worker.log"))
        client = redis.Redis.from_url(redis_url)
        yield UploadStack(request.param, api_url, api, client, redis_url, blob_root, s3, prefix)
        client.close()
    finally:
        for service in reversed(services):
            service.stop()
        redis_server.stop()


def create(http: httpx.Client, data: bytes, **extra: Any) -> dict[str, Any]:
    body = {"bytes": len(data), "header": base64.b64encode(data[:128]).decode(), **extra}
    response = http.post("/v1/uploads", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def send_part(http: httpx.Client, up: dict[str, Any], number: int, body: Any) -> httpx.Response:
    """PUT one part where the upload says: a presigned URL (S3) or the API."""
    if up["direct"]:
        url = http.get(f"/v1/uploads/{up['id']}/parts/{number}/url")
        assert url.status_code == 200, url.text
        return httpx.put(url.json()["url"], content=body, timeout=60)
    return http.put(f"/v1/uploads/{up['id']}/parts/{number}", content=body)


def send(http: httpx.Client, up: dict[str, Any], data: bytes, numbers: list[int]) -> None:
    for number in numbers:
        piece = data[(number - 1) * PART : number * PART]
        response = send_part(http, up, number, piece)
        assert response.status_code == 200, response.text


def numbered(data: bytes) -> list[int]:
    return list(range(1, -(-len(data) // PART) + 1))


def test_a_multipart_upload_trains(stack: UploadStack) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4096, 700)).astype(np.float32)  # 11.5 MB: three parts
    y = (x[:, 0] > 0).astype(np.int64)
    data = npy_bytes(x)
    with stack.client() as http:
        up = create(http, data, sha256=hashlib.sha256(data).hexdigest())
        assert up["direct"] is (stack.backend == "s3")
        assert up["shape"] == [4096, 700] and up["dtype"] == "float32"
        send(http, up, data, numbered(data))
        done = http.post(f"/v1/uploads/{up['id']}/complete")
        assert done.status_code == 201, done.text
        dataset = done.json()
        assert dataset["bytes"] == len(data) and dataset["shape"] == [4096, 700]
        assert dataset["sha256"] == hashlib.sha256(data).hexdigest()
        assert http.get(f"/v1/datasets/{dataset['id']}").json() == dataset
        assert http.get(f"/v1/uploads/{up['id']}").status_code == 404  # completed: gone
        job = http.post(
            "/v1/jobs",
            json=mlp_spec(dataset["id"], upload(http, y), features=700, classes=2, epochs=1),
        )
        assert job.status_code in (201, 202), job.text
        assert wait_for_job(http, job.json()["id"])["status"] == "succeeded"
    counts = stack.part_requests(up["id"])
    if stack.backend == "s3":
        # The bytes went to the object store: the API's part route was never called.
        assert counts == Counter()
        assert "/parts/1/url" in stack.api.output()
    else:
        assert counts == Counter({1: 1, 2: 1, 3: 1})


def test_a_dropped_connection_resumes_without_resending_finished_parts(
    stack: UploadStack,
) -> None:
    x = np.random.default_rng(1).normal(size=(3 * PART // 8 - 100,))
    data = npy_bytes(x)  # three parts, the last just short
    with stack.client() as http:
        up = create(http, data, encoding="identity")
        send(http, up, data, [1])

        def dies_midway() -> Iterator[bytes]:
            yield data[PART : PART + MiB]
            raise ConnectionResetError("the connection dropped")

        with pytest.raises(ConnectionResetError):
            send_part(http, up, 2, dies_midway())
        # A fresh client (a new process) asks what is stored and sends only the rest.
        listed = http.get(f"/v1/uploads/{up['id']}").json()
        assert [p["number"] for p in listed["parts"]] == [1]
        assert listed["parts"][0]["bytes"] == PART
        assert listed["parts"][0]["etag"].strip('"') == hashlib.md5(data[:PART]).hexdigest()
        missing = [n for n in numbered(data) if n not in {p["number"] for p in listed["parts"]}]
        assert missing == [2, 3]
        send(http, up, data, missing)
        done = http.post(f"/v1/uploads/{up['id']}/complete", json={"parts": [
            {"number": n, "etag": hashlib.md5(data[(n - 1) * PART : n * PART]).hexdigest()}
            for n in numbered(data)
        ]})  # fmt: skip
        assert done.status_code == 201, done.text
        assert done.json()["sha256"] == hashlib.sha256(data).hexdigest()
    if stack.backend == "file":
        assert stack.part_requests(up["id"]) == Counter({1: 1, 2: 1, 3: 1})
    else:
        assert stack.part_requests(up["id"]) == Counter()


def test_a_part_sent_again_is_stored_once(stack: UploadStack) -> None:
    x = np.arange(2 * PART // 4 - 64, dtype=np.int32)
    data = npy_bytes(x)
    compressed = zstandard.ZstdCompressor().compress(data)  # one small part, sent twice
    with stack.client() as http:
        up = create(http, data, encoding="zstd")
        for _ in range(2):
            response = send_part(http, up, 1, compressed)
            assert response.status_code == 200, response.text
        handle = stack.handle(up["id"])
        held = stack.backend_parts(up["id"], handle)
        # Files: one file. SeaweedFS (unlike S3) lists each copy until the upload completes.
        assert held == [1] if stack.backend == "file" else set(held) == {1}
        parts = http.get(f"/v1/uploads/{up['id']}").json()["parts"]
        assert [(p["number"], p["bytes"]) for p in parts] == [(1, len(compressed))]
        done = http.post(f"/v1/uploads/{up['id']}/complete")
        assert done.status_code == 201, done.text
        assert done.json()["bytes"] == len(data)
        # The stored object holds the part once.
        assert stack.object_size(keys.dataset_object(stack.tenant(http), done.json()["id"])) == len(
            compressed
        )
        assert stack.backend_parts(up["id"], handle) == []  # completed: no parts left


def test_an_unfinished_upload_expires_and_its_parts_are_deleted(stack: UploadStack) -> None:
    data = npy_bytes(np.zeros(2 * PART // 8, dtype=np.float64))
    with stack.client() as http:
        up = create(http, data)
        send(http, up, data, [1])
        handle = stack.handle(up["id"])
        assert stack.backend_parts(up["id"], handle) == [1]
        assert up["expires_at"] - time.time() < 21
        wait_until(lambda: stack.backend_parts(up["id"], handle) == [], 60, "the upload to expire")
        gone = http.get(f"/v1/uploads/{up['id']}")
        assert gone.status_code == 404
        assert gone.headers["content-type"] == "application/problem+json"
        assert not stack.redis.exists(keys.upload(up["id"]))


def test_the_reaper_deletes_an_object_an_api_killed_midway_never_recorded(
    stack: UploadStack,
) -> None:
    """What a one-request upload or a completion leaves when the API dies between the
    object and its record: the pending note (`keys.blob_pending`), older than
    `CORNU_BLOB_PENDING_SECONDS`, makes the reaper delete the object."""
    key = f"tenants/t{time.time_ns()}/datasets/ds_orphan"
    if stack.blob_root is not None:
        (stack.blob_root / key).parent.mkdir(parents=True)
        (stack.blob_root / key).write_bytes(b"orphan")
    else:
        stack.s3.put_object(Bucket=S3_BUCKET, Key=f"{stack.prefix}/{key}", Body=b"orphan")
    assert stack.object_size(key) == 6
    stack.redis.zadd(keys.blob_pending(), {key: time.time() - 7 * 3600})

    def gone() -> bool:
        if stack.blob_root is not None:
            return not (stack.blob_root / key).exists()
        listed = stack.s3.list_objects_v2(Bucket=S3_BUCKET, Prefix=f"{stack.prefix}/{key}")
        return not listed.get("Contents")

    wait_until(gone, 30, "the reaper to delete the orphan")
    assert stack.redis.zscore(keys.blob_pending(), key) is None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"bytes": 100, "header": b64(b"GIF89a" + b"\0" * 60)}, 422, "not a .npy"),
        ({"bytes": 200, "header": b64(npy_bytes(np.array(["a"]))[:128])}, 422, "dtype"),
        ({"bytes": 100, "dtype": "float32", "shape": [-4, 3]}, 422, "negative"),
        ({"bytes": 100, "dtype": "object", "shape": [4, 3]}, 422, "dtype"),
        ({"bytes": 100, "dtype": "f4", "shape": [10**12, 10**12]}, 413, "CORNU_MAX_DATASET_BYTES"),
        ({"bytes": 100, "dtype": "float32", "shape": [4, 3]}, 422, "make a .npy file of 176"),
        ({"bytes": 100}, 422, "declare the array"),
    ],
)  # fmt: skip
def test_junk_is_refused_at_create(
    stack: UploadStack, body: dict[str, Any], status: int, says: str
) -> None:
    with stack.client() as http:
        response = http.post("/v1/uploads", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert says in response.text


def test_parts_past_the_limits_are_413(stack: UploadStack) -> None:
    data = npy_bytes(np.zeros(PART // 8, dtype=np.float64))  # one part's worth
    with stack.client() as http:
        up = create(http, data)
        too_many = (
            send_part(http, up, 7, b"x")
            if not up["direct"]
            else http.get(f"/v1/uploads/{up['id']}/parts/7/url")
        )
        assert too_many.status_code == 413 and "at most 6 parts" in too_many.text
        big = b"\0" * (9 * MiB)  # past the 8 MiB a part may hold
        response = send_part(http, up, 1, big)
        if up["direct"]:  # S3 took it; the API finds it when it lists the parts
            assert response.status_code == 200
            response = http.post(f"/v1/uploads/{up['id']}/complete")
            assert "a part holds at most" in response.text
        assert response.status_code == 413, response.text
        assert response.headers["content-type"] == "application/problem+json"
        # A total past what the header allows (its size plus a little for a coding).
        if up["direct"]:
            time.sleep(1.1)  # SeaweedFS lists both copies of a re-sent part: tell them apart
        for number in (1, 2):
            response = send_part(http, up, number, b"\0" * PART)
        if up["direct"]:
            assert response.status_code == 200
            response = http.post(f"/v1/uploads/{up['id']}/complete")
        assert response.status_code == 413, response.text
        assert "takes at most" in response.text or "the most a .npy file" in response.text
        # The upload is still open to fix (or end).
        assert http.delete(f"/v1/uploads/{up['id']}").status_code == 204
        assert http.get(f"/v1/uploads/{up['id']}").status_code == 404
