"""The blob store backends by name: which backend a URL names, and the part store for a
backend's resumable uploads. boto3 is imported only where S3 is used."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from cornu.core.store.blobfiles import FileBlobStore
from cornu.core.store.blobstore import BlobStore
from cornu.core.store.multipart import FileParts, PartStore


def open_blob_store(url: str) -> BlobStore:
    """The backend `url` names: `file:///abs/path` or `s3://bucket[/prefix]`."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ValueError(
                f"CORNU_BLOB_URL {url!r}: a file URL needs an absolute path, file:///…"
            )
        return FileBlobStore(Path(unquote(parts.path)))
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError(f"CORNU_BLOB_URL {url!r}: an S3 URL names its bucket, s3://bucket/…")
        from cornu.core.store.blobs3 import S3BlobStore  # boto3 only where S3 is used

        return S3BlobStore(parts.netloc, parts.path.strip("/"))
    raise ValueError(
        f"CORNU_BLOB_URL {url!r}: expected file:///absolute/path or s3://bucket/prefix"
    )


def part_store(store: BlobStore) -> PartStore:
    """The part store of `store`'s backend."""
    if isinstance(store, FileBlobStore):
        return FileParts(store)
    from cornu.core.store.blobs3 import S3BlobStore  # boto3 only where S3 is used

    if isinstance(store, S3BlobStore):
        from cornu.core.store.multiparts3 import S3Parts

        return S3Parts(store)
    raise TypeError(f"no resumable uploads for a blob store of type {type(store).__name__}")
