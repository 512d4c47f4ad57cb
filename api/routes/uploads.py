"""Resumable uploads: a .npy file of any size (up to `CORNU_MAX_DATASET_BYTES`) in
bounded parts, each sent again after a dropped connection without duplicating it, then
completed into an ordinary dataset. With the S3 backend the client PUTs the parts to
presigned URLs (the bytes never pass the API); with files they come through here."""

from __future__ import annotations

import logging
from functools import partial
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path, Request, Response

from cornu.api.bodies import CheckedJSONRoute
from cornu.api.deps import SettingsDep, StoreDep, TenantDep, UploadIdDep
from cornu.api.routes.datasets import _pull as body_chunks
from cornu.core.spec import Dataset
from cornu.core.spec.uploads import CompleteRequest, PartUrl, Upload, UploadPart, UploadRequest
from cornu.core.uploads import (
    abort_upload,
    complete_upload,
    create_upload,
    get_upload,
    part_url,
    put_part,
)

router = APIRouter(prefix="/v1/uploads", tags=["uploads"], route_class=CheckedJSONRoute)
log = logging.getLogger(__name__)


def is_part_path(path: str) -> bool:
    """Whether `path` is a part's (whose body may be a whole part, not a JSON request)."""
    segments = path.strip("/").split("/")
    return len(segments) == 5 and segments[:2] == ["v1", "uploads"] and segments[3] == "parts"


PartNumber = Annotated[int, Path(ge=1, description="1-based")]

_PART_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "the part's bytes: a slice of the (coded) .npy file, in order",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post("", status_code=201)
def create(
    body: UploadRequest, tenant: TenantDep, store: StoreDep, settings: SettingsDep
) -> Upload:
    """Start an upload: the header is checked now (junk, a non-numeric dtype or a file
    past the limit is refused before any part is sent)."""
    return create_upload(store, settings, tenant, body)


@router.get("/{upload_id}")
def get(
    upload_id: UploadIdDep, tenant: TenantDep, store: StoreDep, settings: SettingsDep
) -> Upload:
    """The upload and its stored parts: a client resumes by sending only the others."""
    return get_upload(store, settings, tenant, upload_id)


@router.put("/{upload_id}/parts/{number}", openapi_extra=_PART_BODY)
async def upload_part(
    upload_id: UploadIdDep,
    number: PartNumber,
    request: Request,
    tenant: TenantDep,
    store: StoreDep,
    settings: SettingsDep,
) -> UploadPart:
    """Store part `number`, replacing an earlier copy (a part sent again is stored once)."""
    log.info("upload %s: part %d received by the API", upload_id, number)
    chunks = body_chunks(request.stream().__aiter__())
    put = partial(put_part, store, settings, tenant, upload_id, number, chunks)
    return await anyio.to_thread.run_sync(put)


@router.get("/{upload_id}/parts/{number}/url")
def upload_part_url(
    upload_id: UploadIdDep,
    number: PartNumber,
    tenant: TenantDep,
    store: StoreDep,
    settings: SettingsDep,
) -> PartUrl:
    """Where to PUT part `number` straight to the object store (S3 backend only)."""
    return part_url(store, settings, tenant, upload_id, number)


@router.post("/{upload_id}/complete", status_code=201)
def complete(
    upload_id: UploadIdDep,
    tenant: TenantDep,
    store: StoreDep,
    settings: SettingsDep,
    response: Response,
    body: CompleteRequest | None = None,
) -> Dataset:
    """Assemble and check the parts; the dataset they make (as POST /v1/datasets answers)."""
    dataset = complete_upload(store, settings, tenant, upload_id, body.parts if body else None)
    response.headers["Location"] = f"/v1/datasets/{dataset.id}"
    return dataset


@router.delete("/{upload_id}", status_code=204)
def abort(upload_id: UploadIdDep, tenant: TenantDep, store: StoreDep) -> Response:
    """End the upload; its parts are deleted."""
    abort_upload(store, tenant, upload_id)
    return Response(status_code=204)
