"""What the service says of itself: liveness for load balancers and `cornu up` (200 when
Redis answers and takes writes, 503 otherwise) and the limits it enforces."""

from __future__ import annotations

from fastapi import APIRouter

from cornu.api.bodies import CheckedJSONRoute
from cornu.api.deps import SettingsDep, StoreDep, TenantDep
from cornu.core.errors import ServiceUnavailable
from cornu.core.spec import Limits

router = APIRouter(tags=["health"], route_class=CheckedJSONRoute)


@router.get("/healthz")
def healthz(store: StoreDep) -> dict[str, str]:
    if not store.ping():
        raise ServiceUnavailable("Redis does not answer")
    if store.full():
        raise ServiceUnavailable("Redis is at its maxmemory and refuses writes")
    return {"status": "ok"}


@router.get("/v1/limits")
def limits(settings: SettingsDep, tenant: TenantDep, store: StoreDep) -> Limits:
    """The bounds on what one request may ask for (uploads, jobs, predictions), with the
    tenant's own quota of active jobs."""
    found = Limits.model_validate(settings.model_dump(include=set(Limits.model_fields)))
    return found.model_copy(update={"max_active_jobs": store.quotas.get(tenant).active_jobs})
