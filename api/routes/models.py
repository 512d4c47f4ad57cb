"""Models without training: `model.summary()` of any accepted model form, and Keras's own
model files taken in (`.keras`, `.h5`) to continue training on the service."""

from __future__ import annotations

from functools import partial

import anyio
from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile

from cornu.api.bodies import CheckedJSONRoute
from cornu.api.deps import SettingsDep, StoreDep, TenantDep
from cornu.core.engine.summary import summarize
from cornu.core.errors import PayloadTooLarge, SpecError
from cornu.core.keras_import import import_keras_file
from cornu.core.spec import ImportedModel, ModelSummary, SummaryRequest

router = APIRouter(prefix="/v1/models", tags=["models"], route_class=CheckedJSONRoute)

_FILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post("/summary")
def model_summary(request: SummaryRequest, tenant: TenantDep) -> ModelSummary:
    """Layers, output shapes and parameter counts as Keras's `model.summary()` gives them.

    Takes a Sequential or functional spec, or Keras's own `model.to_json()`.
    """
    return summarize(request.model)


@router.post("/import", openapi_extra=_FILE_BODY)
async def import_model(
    request: Request, tenant: TenantDep, store: StoreDep, settings: SettingsDep
) -> ImportedModel:
    """A `.keras` (Keras 3) or `.h5` (Keras 3 legacy, tf.keras 2) model file as a spec, its
    compile arguments and its weights (uploaded as datasets): post them as a job with
    `fit.initial_weights` to continue training. Architecture and numbers only: Lambda
    layers and custom classes are refused, nothing in the file is run."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > settings.max_upload_bytes:
        raise PayloadTooLarge(f"the file is larger than {settings.max_upload_bytes} bytes")
    async with request.form(max_files=1, max_fields=1) as form:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise SpecError("'file' is required (a multipart upload of a .keras or .h5 file)",
                            loc=("file",))  # fmt: skip
        if file.size is not None and file.size > settings.max_upload_bytes:
            raise PayloadTooLarge(f"the file is larger than {settings.max_upload_bytes} bytes")
        run = partial(import_keras_file, store, tenant, file.file, settings)
        return await anyio.to_thread.run_sync(run)
