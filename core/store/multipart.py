"""Parts of a resumable upload, kept by the blob store's own backend until they are
assembled into one object or thrown away.

On S3 a part is a part of the store's own multipart upload (CreateMultipartUpload,
UploadPart — usually by the client through a presigned URL —, ListParts, then
CompleteMultipartUpload or AbortMultipartUpload): the bytes never pass the API. On files a
part is a file under `<root>/.uploads/<upload id>/` (hidden: `objects()` never lists it),
written atomically, so a part sent again replaces the first copy; completing concatenates
them into the final object's file.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cornu.core.store.blobfiles import FileBlobStore
from cornu.core.store.blobstore import CHUNK_BYTES, BlobInfo, MissingBlob

UPLOADS_DIR = ".uploads"


@dataclass(frozen=True)
class Part:
    """One stored part: its number (1-based), size in bytes, ETag (the MD5 of its bytes,
    quoted as S3 gives it) and SHA-256 (None where the store does not say)."""

    number: int
    bytes: int
    etag: str
    sha256: str | None = None


class PartStore(ABC):
    """Parts of uploads, by the handle `begin` gave."""

    direct: bool = False  # whether clients may send parts to the store itself

    @abstractmethod
    def begin(self, key: str) -> str:
        """Start an upload that will become the object `key`; its handle."""

    @abstractmethod
    def put(self, key: str, handle: str, number: int, chunks: Iterable[bytes]) -> Part:
        """Store part `number` from `chunks`, replacing an earlier copy of it."""

    @abstractmethod
    def parts(self, key: str, handle: str) -> list[Part]:
        """The stored parts, by number; MissingBlob when the upload is gone."""

    @abstractmethod
    def assemble(self, key: str, handle: str, parts: list[Part]) -> Iterator[bytes] | None:
        """Make `parts` (in order) the object `key`. Files: the concatenated bytes as an
        iterator that writes them as it is consumed (the caller checks them on the way;
        an exception leaves no object). S3: None, once the store has assembled them."""

    @abstractmethod
    def abort(self, key: str, handle: str) -> None:
        """Delete the upload's parts; nothing happens when they are gone already."""

    def part_url(
        self, key: str, handle: str, number: int, expires_s: int, endpoint: str | None = None
    ) -> str:
        """A URL the client PUTs part `number` to (only where `direct`), at `endpoint`
        (scheme, host and port) when given, else where this process reaches the store."""
        raise NotImplementedError


class FileParts(PartStore):
    def __init__(self, store: FileBlobStore) -> None:
        self.store = store

    def directory(self, handle: str) -> Path:
        if not handle.isalnum():
            raise ValueError(f"not an upload handle: {handle!r}")
        return self.store.root / UPLOADS_DIR / handle

    def begin(self, key: str) -> str:
        handle = secrets.token_hex(16)
        self.directory(handle).mkdir(parents=True)
        return handle

    def put(self, key: str, handle: str, number: int, chunks: Iterable[bytes]) -> Part:
        directory = self.directory(handle)
        if not directory.is_dir():
            raise MissingBlob(f"upload {handle}")
        target = directory / f"{number:05d}"
        temp = directory / f".tmp-{number}-{secrets.token_hex(6)}"
        md5, sha256, size = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0
        try:
            with temp.open("xb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    md5.update(chunk)
                    sha256.update(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)  # a part sent again replaces the first copy
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return Part(number, size, f'"{md5.hexdigest()}"', sha256.hexdigest())

    def parts(self, key: str, handle: str) -> list[Part]:
        raise NotImplementedError("the file backend's parts are recorded as they arrive")

    def assemble(self, key: str, handle: str, parts: list[Part]) -> Iterator[bytes]:
        directory = self.directory(handle)

        def concatenated() -> Iterator[bytes]:
            for part in parts:
                try:
                    source = (directory / f"{part.number:05d}").open("rb")
                except FileNotFoundError:
                    raise MissingBlob(f"upload {handle} part {part.number}") from None
                with source:
                    while chunk := source.read(CHUNK_BYTES):
                        yield chunk

        return concatenated()

    def abort(self, key: str, handle: str) -> None:
        shutil.rmtree(self.directory(handle), ignore_errors=True)

    def write(self, key: str, chunks: Iterable[bytes]) -> BlobInfo:
        return self.store.write(key, chunks)
