"""`/metrics`: the service in Prometheus's text format, for scrapers and autoscalers."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from cornu.core.observe import ServiceCollector

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, include_in_schema=False)
def metrics(request: Request) -> Response:
    """Queue depth per queue and accelerator class (the autoscaling signal), jobs and
    studies running, workers up per class and their heartbeats. No API key: counts only,
    no tenant's names; keep the port internal like any scrape endpoint."""
    state = request.app.state
    registry = getattr(state, "metrics_registry", None)
    if registry is None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(ServiceCollector(state.store, state.settings))
        state.metrics_registry = registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
