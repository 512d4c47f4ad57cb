"""The blob store as files under one directory: the embedded default (`CORNU_HOME/blobs`)
and a volume the roles of one host share.

A write goes to a hidden temporary file in the object's directory, is fsynced, and is
renamed over the key (`os.replace`, atomic on POSIX), so a reader never sees half an
object; a reader that opened the file before a delete reads it to the end.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from cornu.core.store.blobstore import CHUNK_BYTES, BlobInfo, BlobStore, Hashing, MissingBlob
from cornu.core.store.blobstore import check_key as _check_key

_TEMP = ".tmp-"  # hidden: key segments never start with a dot


class FileBlobStore(BlobStore):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = root.as_uri()

    def path(self, key: str) -> Path:
        return self.root.joinpath(*_check_key(key).split("/"))

    def write(self, key: str, chunks: Iterable[bytes]) -> BlobInfo:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f"{_TEMP}{target.name}.{secrets.token_hex(6)}")
        hashing = Hashing()
        try:
            with temp.open("xb") as out:
                for chunk in hashing(chunks):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_directory(target.parent)  # the rename itself survives a power cut
        return hashing.info(key)

    def chunks(self, key: str) -> Iterator[bytes]:
        try:
            source = self.path(key).open("rb")
        except (FileNotFoundError, NotADirectoryError):
            raise MissingBlob(key) from None
        return _read(source)

    def read_range(self, key: str, offset: int, size: int) -> bytes:
        try:
            with self.path(key).open("rb") as source:
                source.seek(offset)
                return source.read(size)
        except (FileNotFoundError, NotADirectoryError):
            raise MissingBlob(key) from None

    def size(self, key: str) -> int | None:
        try:
            return self.path(key).stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            return None

    def delete(self, key: str) -> None:
        target = self.path(key)
        target.unlink(missing_ok=True)
        # Empty directories go too, up to the root: a deleted tenant leaves no trace.
        for parent in target.parents:
            if parent == self.root or not parent.is_relative_to(self.root):
                break
            try:
                parent.rmdir()
            except OSError:  # not empty (or already gone)
                break

    def objects(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        # Walk only the directory the prefix is certainly under.
        directories = prefix.split("/")[:-1]
        top = self.path("/".join(directories)) if directories else self.root
        if not top.is_dir():
            return
        found = []
        for directory, subdirs, files in os.walk(top):
            subdirs[:] = [d for d in subdirs if not d.startswith(".")]
            base = Path(directory).relative_to(self.root)
            for name in files:
                if name.startswith("."):
                    continue  # a write in progress, or nothing of ours
                key = (base / name).as_posix()
                if key.startswith(prefix):
                    with contextlib.suppress(FileNotFoundError):
                        found.append((key, (Path(directory) / name).stat().st_size))
        yield from sorted(found)


def _read(source: BinaryIO) -> Iterator[bytes]:
    with source:
        while chunk := source.read(CHUNK_BYTES):
            yield chunk


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
