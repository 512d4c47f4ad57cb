"""Exporting a trained model: Keras's own files (.keras, .h5), its weights (safetensors),
TorchScript or ONNX."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from cornu.api.bodies import CheckedJSONRoute
from cornu.api.deps import JobIdDep, StoreDep, TenantDep
from cornu.core.export import export_job
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
def export_model(
    job_id: JobIdDep, fmt: FormatQuery, tenant: TenantDep, store: StoreDep
) -> StreamingResponse:
    """The trained model as a file. TorchScript and ONNX take the inputs in Keras's layout
    (batch-first, channels-last) and give `predict`'s outputs; built on this request."""
    exported = export_job(store, tenant, job_id, fmt)
    return StreamingResponse(
        exported.chunks,
        media_type=exported.media_type,
        headers={"Content-Disposition": f'attachment; filename="{job_id}.{exported.extension}"'},
    )
