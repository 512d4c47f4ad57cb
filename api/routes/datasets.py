"""Datasets: one .npy array per upload, referenced by jobs through its id."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from functools import partial
from typing import Annotated, Any

import anyio
import anyio.from_thread
from fastapi import APIRouter, Header, Query, Request, Response
from starlette.datastructures import UploadFile

from cornu.api.deps import SettingsDep, StoreDep, TenantDep
from cornu.api.routes.jobs import IdempotencyKey
from cornu.core.codecs import ENCODINGS, encoding_of
from cornu.core.datasets import upload_dataset
from cornu.core.errors import InvalidDataset, SpecError
from cornu.core.spec import Dataset

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "one array saved with numpy.save (.npy): as the raw body (optionally "
        f"compressed, with Content-Encoding {' or '.join(ENCODINGS[1:])}), or as the "
        "multipart field `file`",
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
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
) -> Dataset:
    """Store one numeric array, streamed (never held whole by the API); with an
    Idempotency-Key, a repeat returns the first upload."""
    upload = partial(
        upload_dataset,
        store,
        tenant,
        max_bytes=settings.max_upload_bytes,
        idempotency_key=idempotency_key,
    )
    encoding = encoding_of(content_encoding)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        if encoding != "identity":  # it would code the whole multipart body, not the file
            raise InvalidDataset(
                f"Content-Encoding {encoding} applies to a raw body: send the compressed "
                ".npy as the body itself (Content-Type: application/octet-stream)"
            )
        async with request.form(max_files=1, max_fields=1) as form:
            file = form.get("file")
            if not isinstance(file, UploadFile):
                raise SpecError("'file' is required", loc=("file",))
            dataset, new = await anyio.to_thread.run_sync(
                partial(upload, file.file, encoding=encoding)
            )
    else:
        source = _pull(request.stream().__aiter__())
        dataset, new = await anyio.to_thread.run_sync(partial(upload, source, encoding=encoding))
    response.headers["Location"] = f"/v1/datasets/{dataset.id}"
    if not new:
        response.headers["Idempotent-Replayed"] = "true"
    return dataset


@router.get("")
def find_dataset(
    tenant: TenantDep,
    store: StoreDep,
    sha256: Annotated[str, Query(pattern="^[0-9a-f]{64}$", description="the .npy file's SHA-256")],
) -> Dataset:
    """The tenant's dataset with this content (the SDK uploads an array once); 404 if none."""
    return store.datasets.by_sha256(tenant, sha256)


@router.get("/{dataset_id}")
def get_dataset(dataset_id: str, tenant: TenantDep, store: StoreDep) -> Dataset:
    return store.datasets.get(tenant, dataset_id)
