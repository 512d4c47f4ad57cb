"""A tenant's own usage (`GET /v1/usage`), and the admin API over every tenant's keys,
quotas and usage (`/v1/admin/…`, admin keys only)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from cornu.api.bodies import CheckedJSONRoute
from cornu.api.deps import AdminDep, SettingsDep, StoreDep, TenantDep
from cornu.core.config import Settings
from cornu.core.errors import SpecError
from cornu.core.spec import Quota, QuotaChange, Usage
from cornu.core.store import Store
from cornu.core.store.tenants import TENANT_NAME, KeyInfo

router = APIRouter(tags=["tenants"], route_class=CheckedJSONRoute)

TenantName = Annotated[str, Path(pattern=TENANT_NAME.pattern, description="a tenant's name")]
KeyId = Annotated[str, Path(pattern=r"^key_[0-9A-Za-z_]{1,40}$", description="a key's id")]


class ApiKey(BaseModel):
    """What is kept of an API key: never the key itself."""

    id: str
    tenant: str
    hint: str = Field(description="the key's first characters, to recognise it by")
    scope: Literal["read-write", "read-only", "admin"]
    created_at: str
    expires_at: str | None

    @classmethod
    def of(cls, info: KeyInfo) -> ApiKey:
        return cls.model_validate(vars(info))


class NewKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str = Field(pattern=TENANT_NAME.pattern, description="created if new")
    scope: Literal["read-write", "read-only", "admin"] = "read-write"
    expires_at: AwareDatetime | None = Field(
        default=None, description="the key stops working then (ISO 8601 with a zone)"
    )


class NewKey(ApiKey):
    key: str = Field(description="the key itself: shown this once, never stored")


MAX_PERIOD_DAYS = 366


def usage_period(
    start: Annotated[
        date | None, Query(description="first UTC day; default: the 1st of this month")
    ] = None,
    end: Annotated[date | None, Query(description="last UTC day; default: today")] = None,
) -> tuple[date, date]:
    """The days `GET …/usage` sums device-seconds and cost over: this month so far unless
    asked; at most `MAX_PERIOD_DAYS`, `start` not after `end` (else 422)."""
    today = datetime.now(UTC).date()
    end = end or today
    start = start or end.replace(day=1)
    if start > end:
        raise SpecError(f"start {start} is after end {end}", ("query", "start"))
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise SpecError(
            f"the period spans {(end - start).days + 1} days; ask for {MAX_PERIOD_DAYS} or fewer",
            ("query", "start"),
        )
    return start, end


PeriodDep = Annotated[tuple[date, date], Depends(usage_period)]


@router.get("/v1/usage")
def usage(tenant: TenantDep, store: StoreDep, settings: SettingsDep, period: PeriodDep) -> Usage:
    """What this tenant holds (bytes, datasets, jobs), runs and streams now, the compute
    it has used (device-seconds and their cost, in all and over `period`), and its
    quota."""
    return _usage(store, settings, tenant, period)


def _usage(store: Store, settings: Settings, tenant: str, period: tuple[date, date]) -> Usage:
    found = store.quotas.usage(tenant, period)
    return found.model_copy(update={"currency": settings.currency})


@router.get("/v1/admin/keys")
def list_keys(
    admin: AdminDep,
    store: StoreDep,
    tenant: Annotated[str | None, Query(pattern=TENANT_NAME.pattern)] = None,
) -> list[ApiKey]:
    """Every API key (of `tenant`, if given), oldest first, expired ones included."""
    return [ApiKey.of(info) for info in store.tenants.list_keys(tenant)]


@router.post("/v1/admin/keys", status_code=201)
def create_key(request: NewKeyRequest, admin: AdminDep, store: StoreDep) -> NewKey:
    """A new API key for a tenant (created if new): the key is in this answer only."""
    expires_at = request.expires_at.astimezone(UTC) if request.expires_at else None
    key, info = store.tenants.issue(request.tenant, expires_at=expires_at, scope=request.scope)
    return NewKey(key=key, **vars(info))


@router.delete("/v1/admin/keys/{key_id}")
def revoke_key(key_id: KeyId, admin: AdminDep, store: StoreDep) -> ApiKey:
    """Revoke a key: refused from its next request on. What was revoked."""
    return ApiKey.of(store.tenants.revoke(key_id))


@router.get("/v1/admin/tenants/{tenant}/usage")
def tenant_usage(
    tenant: TenantName, admin: AdminDep, store: StoreDep, settings: SettingsDep, period: PeriodDep
) -> Usage:
    """A tenant's usage (over `period`, as `GET /v1/usage`) and quota."""
    return _usage(store, settings, tenant, period)


@router.patch("/v1/admin/tenants/{tenant}/quota")
def change_quota(
    tenant: TenantName, change: QuotaChange, admin: AdminDep, store: StoreDep
) -> Quota:
    """Change some of a tenant's quota (null: back to the service's default); the quota
    that results, in force from the tenant's next request."""
    return store.quotas.set(tenant, change)


__all__ = ["router"]
