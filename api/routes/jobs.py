"""Training jobs: submit, follow, and collect the results."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from api.deps import EnqueueDep, SettingsDep, StoreDep, TenantDep
from core.jobs import submit_job
from core.spec import Job, JobPage, JobSpec, Metrics

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.post("", status_code=201)
def create_job(
    spec: JobSpec,
    tenant: TenantDep,
    store: StoreDep,
    settings: SettingsDep,
    enqueue: EnqueueDep,
    response: Response,
) -> Job:
    """Validate the spec completely (names, arguments, shapes, data) and queue it."""
    job = submit_job(store, tenant, spec, settings, enqueue)
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return job


@router.get("")
def list_jobs(
    tenant: TenantDep,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> JobPage:
    """This tenant's jobs, newest first; pass `next_cursor` as `cursor` for the next page."""
    return store.jobs.list(tenant, limit, cursor)


@router.get("/{job_id}")
def get_job(job_id: str, tenant: TenantDep, store: StoreDep) -> Job:
    return store.jobs.get(tenant, job_id)


@router.get("/{job_id}/metrics")
def get_metrics(job_id: str, tenant: TenantDep, store: StoreDep) -> Metrics:
    """Keras's `History.history`, and each epoch's logs with its wall time."""
    return store.jobs.metrics(tenant, job_id)


@router.get(
    "/{job_id}/weights",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def get_weights(job_id: str, tenant: TenantDep, store: StoreDep) -> StreamingResponse:
    """The trained weights as safetensors: `{layer}/{weight}` in Keras's layouts."""
    chunks = store.jobs.weights(tenant, job_id)
    return StreamingResponse(
        chunks,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{job_id}.safetensors"'},
    )
