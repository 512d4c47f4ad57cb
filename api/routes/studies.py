"""Hyperparameter studies: a search the service runs to its end, trials as jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from cornu.api.bodies import CheckedJSONRoute
from cornu.api.deps import FeedsDep, SettingsDep, StoreDep, StudyIdDep, TenantDep
from cornu.api.openapi import event_stream
from cornu.api.routes.stream import check_last_event_id, feed_response
from cornu.core import studies
from cornu.core.errors import ServiceUnavailable
from cornu.core.spec.study import Study, StudyEventType, StudyPage, StudySpec, StudyStatus
from cornu.core.store import keys

router = APIRouter(prefix="/v1/studies", tags=["studies"], route_class=CheckedJSONRoute)

FINAL_STATUSES = [status for status in StudyStatus if status.finished]
FINAL = frozenset(status.value for status in FINAL_STATUSES)


def _step(request: Request, study_id: str) -> None:
    """Ask a worker for a step now; with the broker away, the reaper asks next round."""
    state = request.app.state
    try:
        studies.poke(
            state.store, state.celery, state.settings.inference_queue, study_id, force=True
        )
    except ServiceUnavailable:
        pass


@router.post("", status_code=201)
def create_study(
    spec: StudySpec,
    request: Request,
    response: Response,
    tenant: TenantDep,
    store: StoreDep,
    settings: SettingsDep,
) -> Study:
    """Check each trial template completely (with the space's first values: model,
    shapes, data, limits, and that the jobs log the objective), record the study and
    start it: a worker submits its first trials. It runs to its end without the client."""
    study_id = studies.create_study(store, tenant, spec, settings)
    _step(request, study_id)
    response.headers["Location"] = f"/v1/studies/{study_id}"
    return store.studies.get(tenant, study_id)


@router.get("")
def list_studies(
    tenant: TenantDep,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> StudyPage:
    """This tenant's studies, newest first."""
    return store.studies.page(tenant, limit, cursor)


@router.get("/{study_id}")
def get_study(study_id: StudyIdDep, tenant: TenantDep, store: StoreDep) -> Study:
    """The study: each trial's hyperparameters, status, jobs, score and per-epoch
    objective; the best completed trial; the epochs and seconds all trials trained."""
    return store.studies.get(tenant, study_id)


@router.post("/{study_id}/cancel", status_code=202)
def cancel_study(
    study_id: StudyIdDep, request: Request, tenant: TenantDep, store: StoreDep
) -> Study:
    """Stop asking for trials and cancel the running ones' jobs; the study ends
    `cancelled` once they have stopped. 409 once it has ended otherwise."""
    store.studies.cancel(tenant, study_id)
    _step(request, study_id)
    return store.studies.get(tenant, study_id)


@router.delete("/{study_id}", status_code=204)
def delete_study(study_id: StudyIdDep, tenant: TenantDep, store: StoreDep) -> None:
    """Forget a finished study (409 while it runs); its trials' jobs stay yours."""
    store.studies.delete(tenant, study_id)


@router.get(
    "/{study_id}/stream",
    response_class=EventSourceResponse,
    responses=event_stream(StudyEventType, FINAL_STATUSES),
)
async def stream_study(
    study_id: StudyIdDep,
    tenant: TenantDep,
    store: StoreDep,
    feeds: FeedsDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=40)] = None,
) -> EventSourceResponse:
    """The study's live feed as Server-Sent Events: `trial_started`, `trial_updated`
    (an epoch), `trial_ended`, then the study's status and `end` with the study;
    resumable with `Last-Event-ID` as a job's stream is."""
    check_last_event_id(last_event_id)
    await run_in_threadpool(store.studies.owned, tenant, study_id)  # 404 before any event

    async def ended() -> str | None:
        study = await run_in_threadpool(store.studies.get, tenant, study_id)
        return study.model_dump_json() if study.status.finished else None

    return await feed_response(
        store, feeds, tenant, keys.study_feed(study_id), FINAL, ended, last_event_id
    )
