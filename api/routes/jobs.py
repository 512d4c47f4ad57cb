"""Training jobs: submit, follow, cancel, and collect the results."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from cornu.api.bodies import CheckedJSONRoute
from cornu.api.calls import on_worker
from cornu.api.deps import (
    EnqueueDep,
    JobIdDep,
    ReadsDep,
    RunInlineDep,
    SettingsDep,
    StoreDep,
    TenantDep,
)
from cornu.api.openapi import BINARY_RESPONSE
from cornu.core import submission
from cornu.core.errors import NotFound, SpecError
from cornu.core.inference import checkpoint_weights
from cornu.core.spec import (
    Checkpoint,
    EpochAck,
    EvaluateRequest,
    Job,
    JobEvent,
    JobPage,
    JobSpec,
    JobStatus,
    Metrics,
    PredictRequest,
)
from cornu.core.store import keys
from cornu.core.store.blobstore import MissingBlob
from cornu.core.submission import submit_job

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], route_class=CheckedJSONRoute)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="repeat a request safely: the same key returns the original job",
    ),
]


@router.post("", status_code=201)
def create_job(
    spec: JobSpec,
    tenant: TenantDep,
    store: StoreDep,
    settings: SettingsDep,
    enqueue: EnqueueDep,
    run_inline: RunInlineDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Job:
    """Validate the spec completely (names, arguments, shapes, data) and queue it.

    A job of `epochs: 0` (build the model, keep its initial weights) runs at once
    instead and comes back finished."""
    if spec.trial is not None:
        raise SpecError("trial is set by the service on a study's jobs; leave it out",
                        ("trial",))  # fmt: skip
    job, new = submit_job(store, tenant, spec, settings, enqueue, idempotency_key, run_inline)
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    if not new:
        response.headers["Idempotent-Replayed"] = "true"
    return job


@router.get("")
async def list_jobs(
    tenant: TenantDep,
    reads: ReadsDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    tag: Annotated[
        str | None, Query(pattern=r"^[A-Za-z0-9_.:=/+-]{1,64}$", description="only jobs with it")
    ] = None,
) -> JobPage:
    """This tenant's jobs (with `tag`, if given), newest first; pass `next_cursor` as
    `cursor` for the next page."""
    return await reads.page(tenant, limit, cursor, tag)


@router.get("/{job_id}")
async def get_job(job_id: JobIdDep, tenant: TenantDep, reads: ReadsDep) -> Job:
    return await reads.job(tenant, job_id)


@router.delete("/{job_id}", status_code=204)
def delete_job(job_id: JobIdDep, tenant: TenantDep, store: StoreDep) -> None:
    """Delete a finished job: its record, metrics, events, checkpoints, weights and
    exports, bytes included. 409 while it is queued or running (cancel it first), or
    while a queued or running job starts from its weights (`fit.initial_weights`)."""
    store.lifecycle.delete_job(tenant, job_id)


@router.post("/{job_id}/cancel")
def cancel_job(job_id: JobIdDep, tenant: TenantDep, store: StoreDep, response: Response) -> Job:
    """A queued job is cancelled at once (200) and never starts; a running one stops
    between two batches (202 while it does), keeping its history and checkpoints."""
    job = store.jobs.cancel(tenant, job_id)
    if job.status is not JobStatus.cancelled:
        response.status_code = 202
    return job


@router.post("/{job_id}/stop", status_code=202)
def stop_training(job_id: JobIdDep, tenant: TenantDep, store: StoreDep) -> Job:
    """Keras's `model.stop_training = True`, from the client's own callbacks: the job
    stops after its current batch (at once, if it waits between epochs) and ends
    `succeeded` with its weights; 409 once it has finished."""
    return store.jobs.stop_training(tenant, job_id)


@router.post("/{job_id}/epochs/{epoch}/ack", status_code=204)
def ack_epoch(
    job_id: JobIdDep,
    epoch: Annotated[int, Path(ge=1, le=1_000_000)],
    tenant: TenantDep,
    store: StoreDep,
    ack: EpochAck | None = None,
) -> None:
    """The client's own callbacks are done with epoch `epoch` (1-based): a job whose fit
    has `client_callbacks` waits for this before its next epoch, and takes the
    `learning_rate` they set (Keras's `model.optimizer.learning_rate = …`) from then on."""
    submission.ack_epoch(store, tenant, job_id, epoch, ack.learning_rate if ack else None)


@router.get("/{job_id}/spec")
def get_spec(job_id: JobIdDep, tenant: TenantDep, store: StoreDep) -> JobSpec:
    """The JobSpec the job was submitted with (model, compile, fit, data, name, tags)."""
    store.jobs.get(tenant, job_id)
    return store.jobs.spec(job_id)


@router.get("/{job_id}/events")
def get_events(job_id: JobIdDep, tenant: TenantDep, store: StoreDep) -> dict[str, list[JobEvent]]:
    """What happened to the job, oldest first: queued, started on worker W, checkpoint,
    lease lost, requeued, resumed from epoch N, cancelled, failed (reason), succeeded."""
    return {"events": store.jobs.events(tenant, job_id)}


@router.get("/{job_id}/checkpoints")
def get_checkpoints(
    job_id: JobIdDep, tenant: TenantDep, store: StoreDep
) -> dict[str, list[Checkpoint]]:
    """The kept checkpoints, oldest first (deleted once the job succeeds)."""
    return {"checkpoints": store.jobs.checkpoints(tenant, job_id)}


@router.get("/{job_id}/metrics")
async def get_metrics(job_id: JobIdDep, tenant: TenantDep, reads: ReadsDep) -> Metrics:
    """Keras's `History.history`, and each epoch's logs with its wall time."""
    return await reads.metrics(tenant, job_id)


@router.get(
    "/{job_id}/weights",
    response_class=StreamingResponse,
    responses=BINARY_RESPONSE,
)
def get_weights(
    job_id: JobIdDep,
    tenant: TenantDep,
    store: StoreDep,
    checkpoint: Annotated[
        Literal["latest"] | None,
        Query(description="`latest`: the weights of the job's newest checkpoint, while it runs"),
    ] = None,
) -> StreamingResponse:
    """The trained weights as safetensors: `{layer}/{weight}` in Keras's layouts; with
    `checkpoint=latest`, those of the newest checkpoint (an epoch's end, or later), with
    its epochs done in `Cornu-Epoch`."""
    headers = {"Content-Disposition": f'attachment; filename="{job_id}.safetensors"'}
    if checkpoint is None:
        chunks: Any = store.jobs.weights(tenant, job_id)
    else:
        data, epoch = checkpoint_weights(store, tenant, job_id)
        chunks, headers["Cornu-Epoch"] = [data], str(epoch)
    return StreamingResponse(chunks, media_type="application/octet-stream", headers=headers)


@router.post("/{job_id}/evaluate", response_model=dict[str, float])
async def evaluate(
    job_id: JobIdDep, request: EvaluateRequest, tenant: TenantDep, http: Request
) -> Response:
    """`model.evaluate(x, y)` with the trained model: the loss and the compiled metrics.
    Runs on a worker (the inference queue)."""
    return await on_worker(http, tenant, job_id, "evaluate", request.model_dump(mode="json"))


PREDICTION_FILE = re.compile(r"pred_[0-9A-Z]{26}\.(npy|npz)")


@router.get(
    "/{job_id}/predictions/{name}",
    response_class=StreamingResponse,
    responses=BINARY_RESPONSE,
)
def get_predictions(
    job_id: JobIdDep,
    name: Annotated[str, Path(description="from a predict's `predictions_url`")],
    tenant: TenantDep,
    store: StoreDep,
) -> StreamingResponse:
    """A predict's answer as a file (`"answer": "npy"`): float32 `.npy`, or `.npz` by
    output name; 404 once the reaper has deleted it (a few hours on)."""
    store.jobs.get(tenant, job_id)
    missing = NotFound(f"no predictions {name!r} of job {job_id} (they are kept a few hours)")
    if not PREDICTION_FILE.fullmatch(name):
        raise missing
    try:
        chunks = store.blobs.chunks(keys.prediction_object(tenant, job_id, name))
    except MissingBlob:
        raise missing from None
    return StreamingResponse(
        chunks,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/{job_id}/predict", response_model=dict[str, Any])
async def predict(
    job_id: JobIdDep, request: PredictRequest, tenant: TenantDep, http: Request
) -> Response:
    """`model.predict(x)` on a dataset (`x`) or a small inline batch (`inputs`). Runs on
    a worker (the inference queue)."""
    return await on_worker(http, tenant, job_id, "predict", request.model_dump(mode="json"))
