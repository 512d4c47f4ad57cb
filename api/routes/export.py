"""Exporting a trained model: Keras's own files (.keras, .h5), its weights (safetensors),
TorchScript or ONNX."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from cornu.api.bodies import CheckedJSONRoute
from cornu.api.calls import on_worker
from cornu.api.deps import JobIdDep, StoreDep, TenantDep
from cornu.core.errors import NotFound
from cornu.core.export import stored_export
from cornu.core.spec import ExportFormat

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], route_class=CheckedJSONRoute)

FormatQuery = Annotated[
    ExportFormat,
    Query(
        alias="format",
        description="keras: Keras 3's `.keras` archive (`keras.models.load_model` reads it); "
        "h5: a legacy Keras HDF5 file; safetensors: Keras-layout weights; torchscript: a "
        "`torch.jit.load`-able module; onnx: an ONNX model with a dynamic batch axis",
    ),
]


@router.get(
    "/{job_id}/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                "application/zip": {},
                "application/x-hdf5": {},
                "application/octet-stream": {},
                "application/onnx": {},
            }
        },
        404: {"description": "no such job, or it has not succeeded"},
        422: {"description": "an unknown format, or a model the format cannot express"},
        500: {"description": "the exporter failed on this model (the problem names it)"},
    },
)
async def export_model(
    job_id: JobIdDep, fmt: FormatQuery, tenant: TenantDep, store: StoreDep, request: Request
) -> Response:
    """The trained model as a file. TorchScript and ONNX take the inputs in Keras's layout
    (batch-first, channels-last) and give `predict`'s outputs. Built once, on a worker, at
    the first download in each format; kept for the next."""
    exported = await run_in_threadpool(stored_export, store, tenant, job_id, fmt)
    if exported is None:
        answer = await on_worker(request, tenant, job_id, "export", {"format": fmt.value})
        if answer.status_code != 200:
            return answer
        exported = await run_in_threadpool(stored_export, store, tenant, job_id, fmt)
        if exported is None:  # deleted between the build and now
            raise NotFound(f"no job {job_id!r}")
    return StreamingResponse(
        exported.chunks,
        media_type=exported.media_type,
        headers={"Content-Disposition": f'attachment; filename="{job_id}.{exported.extension}"'},
    )
