"""Datasets: one .npy array per upload, or the named arrays of an .npz archive, referenced
by jobs through their ids."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from functools import partial
from typing import Annotated, Any, BinaryIO

import anyio
import anyio.from_thread
from fastapi import APIRouter, Header, Query, Request, Response
from starlette.datastructures import UploadFile

from cornu.api.bodies import CheckedJSONRoute
from cornu.api.deps import DatasetIdDep, SettingsDep, StoreDep, TenantDep
from cornu.api.routes.jobs import IdempotencyKey
from cornu.core.archives import NPZ_MEDIA_TYPE, upload_archive
from cornu.core.codecs import ENCODINGS, Encoding, encoding_of
from cornu.core.config import Settings
from cornu.core.datasets import upload_dataset
from cornu.core.errors import InvalidDataset, SpecError
from cornu.core.spec import Dataset, DatasetArchive
from cornu.core.store import Store

router = APIRouter(prefix="/v1/datasets", tags=["datasets"], route_class=CheckedJSONRoute)

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "one array saved with numpy.save (.npy), or several named arrays "
        f"saved with numpy.savez / savez_compressed (.npz, as {NPZ_MEDIA_TYPE}: a dataset "
        "per array, answered by name): as the raw body (optionally compressed, with "
        f"Content-Encoding {' or '.join(ENCODINGS[1:])}), or as the multipart field `file` "
        "(a file named *.npz is an archive)",
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            NPZ_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}


def _pull(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    """The body's chunks, read from a worker thread as the upload consumes them."""

    async def next_chunk() -> bytes | None:
        return await anext(stream, None)

    while (chunk := anyio.from_thread.run(next_chunk)) is not None:
        if chunk:
            yield chunk


@router.post("", status_code=201, openapi_extra=_UPLOAD_BODY)
async def create_dataset(
    request: Request,
    tenant: TenantDep,
    store: StoreDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    content_encoding: Annotated[
        str | None, Header(description="identity (default), gzip or zstd")
    ] = None,
) -> Dataset | DatasetArchive:
    """Store one numeric array (.npy), or each array of an .npz archive (Content-Type
    application/x-npz, or a multipart file named *.npz) as a dataset of its own, streamed
    (never held whole by the API); with an Idempotency-Key, a repeat returns the first
    upload."""
    encoding = encoding_of(content_encoding)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    # A body past the tenant's quota is refused before it is read (stored as it comes,
    # so its length is what it would take; an archive's arrays are counted as recorded).
    # A repeat of an Idempotency-Key is not refused up front: it may be answered with
    # the first upload's dataset (recording a new copy still checks the quota).
    declared = request.headers.get("content-length", "")
    incoming = int(declared) if declared.isdigit() and media_type != NPZ_MEDIA_TYPE else 0
    if idempotency_key is None:
        await anyio.to_thread.run_sync(store.datasets.check_room, tenant, incoming)
    upload = partial(_upload, store, tenant, settings, encoding, idempotency_key)
    if media_type == "multipart/form-data":
        if encoding != "identity":  # it would code the whole multipart body, not the file
            raise InvalidDataset(
                f"Content-Encoding {encoding} applies to a raw body: send the compressed "
                ".npy or .npz as the body itself (Content-Type: application/octet-stream or "
                f"{NPZ_MEDIA_TYPE})"
            )
        async with request.form(max_files=1, max_fields=1) as form:
            file = form.get("file")
            if not isinstance(file, UploadFile):
                raise SpecError("'file' is required", loc=("file",))
            archive = file.content_type == NPZ_MEDIA_TYPE or bool(
                file.filename and file.filename.endswith(".npz")
            )
            result, new = await anyio.to_thread.run_sync(upload, file.file, archive)
    else:
        source = _pull(request.stream().__aiter__())
        archive = media_type == NPZ_MEDIA_TYPE
        result, new = await anyio.to_thread.run_sync(upload, source, archive)
    if isinstance(result, Dataset):
        response.headers["Location"] = f"/v1/datasets/{result.id}"
    if not new:
        response.headers["Idempotent-Replayed"] = "true"
    return result


def _upload(
    store: Store,
    tenant: str,
    settings: Settings,
    encoding: Encoding,
    idempotency_key: str | None,
    source: BinaryIO | Iterator[bytes],
    archive: bool,
) -> tuple[Dataset | DatasetArchive, bool]:
    if archive:
        return upload_archive(
            store, tenant, source, settings.max_upload_bytes, settings.max_archive_arrays,
            encoding=encoding, idempotency_key=idempotency_key,
        )  # fmt: skip
    return upload_dataset(
        store, tenant, source, settings.max_upload_bytes,
        encoding=encoding, idempotency_key=idempotency_key,
    )  # fmt: skip


@router.get("", responses={404: {"description": "the tenant has no dataset of this content"}})
def find_dataset(
    tenant: TenantDep,
    store: StoreDep,
    sha256: Annotated[str, Query(pattern="^[0-9a-f]{64}$", description="the .npy file's SHA-256")],
) -> Dataset:
    """The tenant's dataset with this content (the SDK uploads an array once); 404 if none."""
    return store.datasets.by_sha256(tenant, sha256)


@router.get("/{dataset_id}")
def get_dataset(dataset_id: DatasetIdDep, tenant: TenantDep, store: StoreDep) -> Dataset:
    return store.datasets.get(tenant, dataset_id)


@router.delete("/{dataset_id}", status_code=204)
def delete_dataset(dataset_id: DatasetIdDep, tenant: TenantDep, store: StoreDep) -> None:
    """Delete the dataset: its record and its bytes in the blob store. 409 (naming the
    jobs) while a queued or running job was submitted on it; jobs that have ended keep
    their records, weights and metrics."""
    store.lifecycle.delete_dataset(tenant, dataset_id)
