"""The blob store's two backends, each against the real thing: a directory, and SeaweedFS's
S3 gateway (started by the session's `s3_server`). What each test asserts on the bytes it
checks in the backend itself: the files in the directory, `list_objects_v2` on the bucket."""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from cornu.core.config import Settings
from cornu.core.embedded import free_port
from cornu.core.store.backends import open_blob_store
from cornu.core.store.blobfiles import FileBlobStore
from cornu.core.store.blobs3 import PART_BYTES, S3BlobStore, part_bytes
from cornu.core.store.blobstore import (
    CHUNK_BYTES,
    BlobStore,
    BlobUnavailable,
    MissingBlob,
)
from tests.conftest import S3_BUCKET, S3Server

MiB = 1024 * 1024


class Backend:
    """A blob store and a way to see what its backend really holds."""

    def __init__(self, store: BlobStore, stored: Any) -> None:
        self.store = store
        self.stored = stored  # () -> {key: bytes} read from the backend, not through `store`


@pytest.fixture(params=["file", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "file":
        root = tmp_path / "blobs"

        def files() -> dict[str, bytes]:
            return {
                p.relative_to(root).as_posix(): p.read_bytes()
                for p in sorted(root.rglob("*"))
                if p.is_file()
            }

        yield Backend(FileBlobStore(root), files)
        return
    server: S3Server = request.getfixturevalue("s3_server")
    client = server.client()
    prefix = f"test-{time.time_ns()}"

    def objects() -> dict[str, bytes]:
        found = client.list_objects_v2(Bucket=S3_BUCKET, Prefix=prefix + "/").get("Contents", [])
        return {
            o["Key"][len(prefix) + 1 :]: client.get_object(Bucket=S3_BUCKET, Key=o["Key"])[
                "Body"
            ].read()
            for o in found
        }

    store = S3BlobStore(S3_BUCKET, prefix, client=server.client())
    yield Backend(store, objects)
    store.close()


def pieces(total: int, size: int = 300_001, seed: int = 0) -> Iterator[bytes]:
    """`total` random bytes (the same for the same seed) in odd-sized pieces, as a network
    body arrives."""
    data = random.Random(seed).randbytes(total)
    for start in range(0, total, size):
        yield data[start : start + size]


def test_a_write_is_read_back_whole_with_its_size_and_sha256(backend: Backend) -> None:
    store = backend.store
    data = os.urandom(3 * MiB + 17)
    info = store.write("tenants/acme/datasets/ds_1", [data[:1000], b"", data[1000:]])
    assert info.bytes == len(data) and info.sha256 == hashlib.sha256(data).hexdigest()
    assert store.read("tenants/acme/datasets/ds_1") == data
    assert all(len(c) <= CHUNK_BYTES for c in store.chunks("tenants/acme/datasets/ds_1"))
    assert store.size("tenants/acme/datasets/ds_1") == len(data)
    assert store.exists("tenants/acme/datasets/ds_1")
    assert backend.stored() == {"tenants/acme/datasets/ds_1": data}


def test_a_long_stream_is_written_in_parts_and_read_as_a_stream(backend: Backend) -> None:
    total = 2 * PART_BYTES + 5 * MiB  # three parts of a multipart upload on S3
    digest = hashlib.sha256(b"".join(pieces(total, seed=3))).hexdigest()
    info = backend.store.write("jobs/big", pieces(total, seed=3))
    assert (info.bytes, info.sha256) == (total, digest)
    read = hashlib.sha256()
    for chunk in backend.store.chunks("jobs/big"):
        assert len(chunk) <= CHUNK_BYTES
        read.update(chunk)
    assert read.hexdigest() == digest
    assert part_bytes(1) == part_bytes(1000) == PART_BYTES and part_bytes(1001) == 2 * PART_BYTES


def test_an_aborted_write_leaves_nothing_and_keeps_the_previous_object(backend: Backend) -> None:
    store = backend.store

    def failing(total: int) -> Iterator[bytes]:
        yield from pieces(total)
        raise ConnectionResetError("the client went away")

    for total in (1000, 2 * PART_BYTES + 1):  # one PUT; a multipart upload on S3
        with pytest.raises(ConnectionResetError):
            store.write("a/new", failing(total))
        assert not store.exists("a/new") and backend.stored() == {}
    store.write("a/old", [b"version 1"])
    with pytest.raises(ConnectionResetError):
        store.write("a/old", failing(PART_BYTES + 1))
    assert store.read("a/old") == b"version 1"
    assert backend.stored() == {"a/old": b"version 1"}  # no temporary file, no stray object
    if isinstance(store, S3BlobStore):  # and no unfinished multipart upload keeps parts
        uploads = store.client.list_multipart_uploads(Bucket=S3_BUCKET, Prefix=store.prefix)
        assert uploads.get("Uploads", []) == []


def test_head_reads_only_a_header(backend: Backend) -> None:
    store = backend.store
    data = os.urandom(PART_BYTES + 10)
    store.write("s/state", [data])
    assert store.head("s/state", 8) == data[:8]
    assert store.head("s/state", CHUNK_BYTES) == data[:CHUNK_BYTES]
    store.write("s/short", [b"abc"])
    assert store.head("s/short", 100) == b"abc"
    store.write("s/empty", [])
    assert store.head("s/empty", 100) == b"" and store.size("s/empty") == 0
    assert store.read("s/empty") == b""
    with pytest.raises(MissingBlob):
        store.head("s/none", 8)


def test_a_range_is_read_from_anywhere(backend: Backend) -> None:
    store = backend.store
    data = os.urandom(3 * MiB)
    store.write("r/x", [data])
    assert store.read_range("r/x", MiB + 3, 1000) == data[MiB + 3 : MiB + 1003]
    assert store.read_range("r/x", len(data) - 10, 100) == data[-10:]
    assert store.read_range("r/x", len(data), 100) == b""
    assert store.read_range("r/x", 5, 0) == b""
    with pytest.raises(MissingBlob):
        store.read_range("r/none", 0, 8)


def test_delete_removes_the_bytes_from_the_backend(backend: Backend) -> None:
    store = backend.store
    store.write("tenants/t/jobs/j/attempts/1/weights.safetensors", [b"w" * 1000])
    store.write("tenants/t/datasets/ds_2", [b"d" * 10])
    store.delete("tenants/t/jobs/j/attempts/1/weights.safetensors")
    store.delete("tenants/t/jobs/j/attempts/1/weights.safetensors")  # twice: no error
    store.delete("tenants/t/never/written")
    assert backend.stored() == {"tenants/t/datasets/ds_2": b"d" * 10}
    assert not store.exists("tenants/t/jobs/j/attempts/1/weights.safetensors")
    with pytest.raises(MissingBlob):
        store.chunks("tenants/t/jobs/j/attempts/1/weights.safetensors")
    assert store.size("tenants/t/never/written") is None
    if isinstance(store, FileBlobStore):  # nor does an empty directory stay behind
        assert [p.name for p in store.root.rglob("*")] == ["tenants", "t", "datasets", "ds_2"]


def test_objects_lists_a_prefix_in_key_order(backend: Backend) -> None:
    store = backend.store
    for key in ("tenants/b/x", "tenants/a/jobs/j/2", "tenants/a/jobs/j/1", "tenants/a/d"):
        store.write(key, [key.encode()])
    assert list(store.objects("tenants/a/jobs/")) == [
        ("tenants/a/jobs/j/1", 18),
        ("tenants/a/jobs/j/2", 18),
    ]
    assert [k for k, _ in store.objects("tenants/a/")] == [
        "tenants/a/d",
        "tenants/a/jobs/j/1",
        "tenants/a/jobs/j/2",
    ]
    assert [k for k, _ in store.objects()] == [
        "tenants/a/d",
        "tenants/a/jobs/j/1",
        "tenants/a/jobs/j/2",
        "tenants/b/x",
    ]
    assert list(store.objects("tenants/none/")) == []


@pytest.mark.parametrize(
    "key", ["", "/abs", "../up", "a/../b", "a//b", ".hidden", "a/.tmp-x", "a\\b", "a b", "a/"]
)
def test_unsafe_keys_are_refused(tmp_path: Path, key: str) -> None:
    store = FileBlobStore(tmp_path)
    with pytest.raises(ValueError, match="not a blob key"):
        store.write(key, [b"x"])
    assert list(tmp_path.iterdir()) == []


def test_a_file_write_in_progress_is_not_listed(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    store.write("a/b", [b"1"])
    (tmp_path / "a" / ".tmp-b.123").write_bytes(b"half")  # a writer killed mid-write
    assert list(store.objects()) == [("a/b", 1)]


def test_the_setting_picks_the_backend(tmp_path: Path, s3_server: S3Server) -> None:
    default = Settings(home=tmp_path / "home with space", blob_url="")
    store = open_blob_store(default.blob_location)
    assert isinstance(store, FileBlobStore) and store.root == tmp_path / "home with space/blobs"
    s3 = open_blob_store("s3://some-bucket/some/prefix")
    assert isinstance(s3, S3BlobStore)
    assert (s3.bucket, s3.prefix) == ("some-bucket", "some/prefix/")
    for bad in ("file://relative/path", "s3:///no-bucket", "gs://bucket", "/just/a/path"):
        with pytest.raises(ValueError, match="CORNU_BLOB_URL"):
            open_blob_store(bad)


def test_the_s3_backend_reads_endpoint_and_credentials_from_the_aws_variables(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    store = open_blob_store(f"s3://{S3_BUCKET}/env-{time.time_ns()}")
    store.write("k", [b"through boto3's own configuration"])
    assert store.read("k") == b"through boto3's own configuration"
    store.delete("k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    with pytest.raises(Exception, match="Forbidden|SignatureDoesNotMatch|AccessDenied"):
        open_blob_store(f"s3://{S3_BUCKET}/x").write("k", [b"x"])


def test_an_unreachable_s3_store_is_unavailable_not_missing() -> None:
    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{free_port()}",  # nothing listens there
        aws_access_key_id="a",
        aws_secret_access_key="b",
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    store = S3BlobStore("bucket", client=client)
    with pytest.raises(BlobUnavailable):
        store.size("k")
    with pytest.raises(BlobUnavailable):
        store.write("k", [b"x"])


def test_a_part_url_for_the_public_endpoint_is_signed_for_that_address(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`CORNU_S3_PUBLIC_ENDPOINT`: clients reach the store at another address than the
    API does (compose: `http://s3:8333` inside, `localhost:8333` outside). SigV4 signs the
    Host, so the URL must be made for the address the client will use."""
    import httpx

    from cornu.core.store.multiparts3 import S3Parts

    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    store = S3BlobStore(S3_BUCKET, f"test-{time.time_ns()}")
    parts = S3Parts(store)
    key = "tenants/acme/uploads/up_1"
    handle = parts.begin(key)
    public = s3_server.endpoint.replace("127.0.0.1", "localhost")
    inside = parts.part_url(key, handle, 1, 60)
    outside = parts.part_url(key, handle, 1, 60, public)
    assert inside.startswith(s3_server.endpoint + "/") and outside.startswith(public + "/")
    data = os.urandom(1000)
    moved = outside.replace(public, s3_server.endpoint)  # the same URL at another Host
    assert httpx.put(moved, content=data).status_code == 403
    assert httpx.put(outside, content=data).status_code == 200
    assert [p.number for p in parts.parts(key, handle)] == [1]
    parts.abort(key, handle)
    store.close()
