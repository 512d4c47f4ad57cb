"""Parts of a resumable upload on S3: the store's own multipart upload (CreateMultipartUpload,
UploadPart — by the client through a presigned URL, or through the API —, ListParts,
then CompleteMultipartUpload or AbortMultipartUpload)."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

import botocore.exceptions

from cornu.core.store.blobs3 import S3BlobStore, _answering
from cornu.core.store.blobstore import MissingBlob
from cornu.core.store.multipart import Part, PartStore


class S3Parts(PartStore):
    direct = True

    def __init__(self, store: S3BlobStore) -> None:
        self.store = store

    def _name(self, key: str) -> str:
        return self.store.prefix + key

    def begin(self, key: str) -> str:
        self.store._ensure_bucket()
        with _answering(f"starting an upload of {key}"):
            reply = self.store.client.create_multipart_upload(
                Bucket=self.store.bucket, Key=self._name(key)
            )
        return str(reply["UploadId"])

    def put(self, key: str, handle: str, number: int, chunks: Iterable[bytes]) -> Part:
        # A client that cannot reach the store sends parts through the API: one part (at
        # most the part limit) is held in memory.
        data = b"".join(chunks)
        with _answering(f"uploading part {number} of {key}"), _missing(handle):
            reply = self.store.client.upload_part(
                Bucket=self.store.bucket,
                Key=self._name(key),
                UploadId=handle,
                PartNumber=number,
                Body=data,
            )
        return Part(number, len(data), str(reply["ETag"]), hashlib.sha256(data).hexdigest())

    def parts(self, key: str, handle: str) -> list[Part]:
        # A part sent again replaces the first copy on S3; SeaweedFS lists both copies
        # (and completes with the one whose ETag is named): the latest of each number counts,
        # the later listed on a tie (LastModified has whole seconds).
        pages = self.store.client.get_paginator("list_parts").paginate(
            Bucket=self.store.bucket, Key=self._name(key), UploadId=handle
        )
        latest: dict[int, tuple[Any, Part]] = {}
        with _answering(f"listing the parts of {key}"), _missing(handle):
            for page in pages:
                for entry in page.get("Parts", []):
                    part = Part(int(entry["PartNumber"]), int(entry["Size"]), entry["ETag"])
                    when = entry["LastModified"]
                    if part.number not in latest or when >= latest[part.number][0]:
                        latest[part.number] = (when, part)
        return [latest[number][1] for number in sorted(latest)]

    def assemble(self, key: str, handle: str, parts: list[Part]) -> None:
        listed: Any = [{"PartNumber": p.number, "ETag": p.etag} for p in parts]
        with _answering(f"completing {key}"), _missing(handle):
            self.store.client.complete_multipart_upload(
                Bucket=self.store.bucket,
                Key=self._name(key),
                UploadId=handle,
                MultipartUpload={"Parts": listed},
            )

    def abort(self, key: str, handle: str) -> None:
        with _answering(f"aborting the upload of {key}"), contextlib.suppress(MissingBlob):
            with _missing(handle):
                self.store.client.abort_multipart_upload(
                    Bucket=self.store.bucket, Key=self._name(key), UploadId=handle
                )

    def part_url(
        self, key: str, handle: str, number: int, expires_s: int, endpoint: str | None = None
    ) -> str:
        params = {
            "Bucket": self.store.bucket,
            "Key": self._name(key),
            "UploadId": handle,
            "PartNumber": number,
        }
        # A SigV4 signature covers the Host header: a URL for another address is signed
        # by a client of that endpoint (presigning is local: it sends no request).
        client = self.store.client if endpoint is None else self.store.client_for(endpoint)
        return str(
            client.generate_presigned_url(
                "upload_part", Params=params, ExpiresIn=expires_s, HttpMethod="PUT"
            )
        )

    def uploads(self) -> list[tuple[str, str]]:
        """(key, handle) of every unfinished upload in the bucket under this prefix: what
        tests and operators check for leftovers."""
        reply = self.store.client.list_multipart_uploads(
            Bucket=self.store.bucket, Prefix=self.store.prefix
        )
        return [
            (u["Key"][len(self.store.prefix) :], u["UploadId"]) for u in reply.get("Uploads", [])
        ]


@contextlib.contextmanager
def _missing(handle: str) -> Iterator[None]:
    try:
        yield
    except botocore.exceptions.ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) in ("NoSuchUpload", "404"):
            raise MissingBlob(f"upload {handle}") from None
        raise
