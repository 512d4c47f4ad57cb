"""The blob store in any S3-compatible object store, through boto3.

boto3 reads the endpoint (`AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`), the
credentials and the region from the standard AWS variables and files, as every AWS tool
does; with an endpoint of its own (SeaweedFS, MinIO, Ceph …) requests use path-style
addresses, which such stores serve without wildcard DNS.

A write of up to one part is one PUT; a longer stream is a multipart upload, each part
uploaded as soon as it is full (memory holds one part, not the object), made visible
only by the final complete request and aborted on any error: readers see whole objects.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import boto3
import botocore.exceptions
from botocore.config import Config

from cornu.core.store.blobstore import (
    CHUNK_BYTES,
    BlobInfo,
    BlobStore,
    BlobUnavailable,
    Hashing,
    MissingBlob,
    check_key,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# S3 parts are 5 MiB to 5 GiB, at most 10,000 per object: parts start at 8 MiB and
# double every 1,000 parts, so one object may reach about 8 TiB.
PART_BYTES = 8 * 1024 * 1024
_PARTS_PER_SIZE = 1000

_TRANSPORT = (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)
_MISSING = {"404", "NoSuchKey", "NotFound"}
_ClientError = botocore.exceptions.ClientError


def part_bytes(number: int) -> int:
    """The size of part `number` (1-based) of a multipart upload."""
    return PART_BYTES << ((number - 1) // _PARTS_PER_SIZE)


@contextlib.contextmanager
def _answering(what: str) -> Iterator[None]:
    """Transport failures as BlobUnavailable: the store is away, not the object."""
    try:
        yield
    except _TRANSPORT as exc:
        raise BlobUnavailable(f"the blob store does not answer ({what}): {exc}") from exc


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3BlobStore(BlobStore):
    def __init__(self, bucket: str, prefix: str = "", client: S3Client | None = None) -> None:
        self.bucket = bucket
        self.prefix = check_key(prefix) + "/" if prefix else ""
        self.url = f"s3://{bucket}/{self.prefix}"
        own_endpoint = any(os.environ.get(f"AWS_ENDPOINT_URL{s}") for s in ("_S3", ""))
        self._config = Config(
            s3={"addressing_style": "path" if own_endpoint else "auto"},
            signature_version="s3v4",  # presigned URLs too (botocore may presign with v2)
            retries={"max_attempts": 4, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
            max_pool_connections=32,
        )
        self._given = client
        self._client, self._pid = client, os.getpid()
        self._bucket_checked = False
        self._lock = threading.Lock()
        self._endpoints: dict[str, S3Client] = {}

    @property
    def client(self) -> S3Client:
        """This process's client: a forked worker child makes its own (connections
        are not shared across a fork)."""
        if self._client is None or (self._given is None and self._pid != os.getpid()):
            self._client = boto3.session.Session().client("s3", config=self._config)
            self._pid = os.getpid()
        return self._client

    def client_for(self, endpoint: str) -> S3Client:
        """A client with this store's credentials and settings at another `endpoint` (the
        address clients reach the store at, for presigned URLs)."""
        with self._lock:
            if endpoint not in self._endpoints:
                config = self._config.merge(Config(s3={"addressing_style": "path"}))
                self._endpoints[endpoint] = boto3.session.Session().client(
                    "s3", endpoint_url=endpoint, config=config
                )
            return self._endpoints[endpoint]

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def write(self, key: str, chunks: Iterable[bytes]) -> BlobInfo:
        name = self._name(key)
        self._ensure_bucket()
        hashing = Hashing()
        buffer = bytearray()
        upload: _Upload | None = None
        try:
            with _answering(f"writing {key}"):
                for chunk in hashing(chunks):
                    buffer += chunk
                    while len(buffer) >= part_bytes((upload.count if upload else 0) + 1):
                        upload = upload or _Upload(self.client, self.bucket, name)
                        size = part_bytes(upload.count + 1)
                        upload.part(bytes(buffer[:size]))
                        del buffer[:size]
                if upload is None:
                    self.client.put_object(Bucket=self.bucket, Key=name, Body=bytes(buffer))
                else:
                    if buffer:
                        upload.part(bytes(buffer))
                    upload.complete()
        except BaseException:
            if upload is not None:
                upload.abort()
            raise
        return hashing.info(key)

    def chunks(self, key: str) -> Iterator[bytes]:
        body = self._get(key)["Body"]
        return self._stream(key, body)

    def _stream(self, key: str, body: Any) -> Iterator[bytes]:
        try:
            with _answering(f"reading {key}"):
                yield from body.iter_chunks(CHUNK_BYTES)
        finally:
            body.close()

    def read_range(self, key: str, offset: int, size: int) -> bytes:
        if size <= 0:
            if not self.exists(key):
                raise MissingBlob(key)
            return b""
        try:
            reply = self._get(key, Range=f"bytes={offset}-{offset + size - 1}")
        except botocore.exceptions.ClientError as exc:
            if _code(exc) == "InvalidRange":  # from past the end (of an empty object: byte 0)
                return b""
            raise
        with _answering(f"reading {key}"):
            data: bytes = reply["Body"].read()
        if "ContentRange" not in reply:  # a store that ignores Range sends it all
            data = data[offset:]
        return data[:size]

    def _get(self, key: str, **extra: Any) -> Any:
        try:
            with _answering(f"reading {key}"):
                return self.client.get_object(Bucket=self.bucket, Key=self._name(key), **extra)
        except botocore.exceptions.ClientError as exc:
            if _code(exc) in _MISSING:
                raise MissingBlob(key) from None
            raise

    def size(self, key: str) -> int | None:
        try:
            with _answering(f"looking up {key}"):
                reply = self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except botocore.exceptions.ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise
        return int(reply["ContentLength"])

    def delete(self, key: str) -> None:
        with _answering(f"deleting {key}"):
            self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def objects(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + prefix
        )
        with _answering(f"listing {prefix}"):
            for page in pages:
                for entry in page.get("Contents", []):
                    yield entry["Key"][len(self.prefix) :], int(entry["Size"])

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def _ensure_bucket(self) -> None:
        """Create the bucket on this process's first write if it does not exist (and
        the credentials may create it)."""
        if self._bucket_checked:
            return
        with self._lock, _answering(f"looking up bucket {self.bucket}"):
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except botocore.exceptions.ClientError as exc:
                if _code(exc) not in {"404", "NoSuchBucket", "NotFound"}:
                    raise
                region = self.client.meta.region_name
                where: Any = {}
                if region and region != "us-east-1":
                    where = {"CreateBucketConfiguration": {"LocationConstraint": region}}
                with contextlib.suppress(self.client.exceptions.BucketAlreadyOwnedByYou):
                    self.client.create_bucket(Bucket=self.bucket, **where)
            self._bucket_checked = True


class _Upload:
    """One multipart upload: parts in order, then complete (or abort)."""

    def __init__(self, client: S3Client, bucket: str, name: str) -> None:
        self.client, self.bucket, self.name = client, bucket, name
        self.id = client.create_multipart_upload(Bucket=bucket, Key=name)["UploadId"]
        self.parts: list[dict[str, Any]] = []

    @property
    def count(self) -> int:
        return len(self.parts)

    def part(self, data: bytes) -> None:
        number = self.count + 1
        reply = self.client.upload_part(
            Bucket=self.bucket, Key=self.name, UploadId=self.id, PartNumber=number, Body=data
        )
        self.parts.append({"ETag": reply["ETag"], "PartNumber": number})

    def complete(self) -> None:
        self.client.complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.name,
            UploadId=self.id,
            MultipartUpload={"Parts": self.parts},  # type: ignore[typeddict-item]
        )

    def abort(self) -> None:
        # The upload's parts go; a store that misses this expires them by its lifecycle rule.
        with contextlib.suppress(botocore.exceptions.BotoCoreError, _ClientError):
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.name, UploadId=self.id)
