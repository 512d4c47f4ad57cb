"""Liveness for load balancers and `cornu up`: 200 when Redis answers, 503 otherwise."""

from __future__ import annotations

from fastapi import APIRouter

from cornu.api.deps import StoreDep
from cornu.core.errors import ServiceUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(store: StoreDep) -> dict[str, str]:
    if not store.ping():
        raise ServiceUnavailable("Redis does not answer")
    return {"status": "ok"}
