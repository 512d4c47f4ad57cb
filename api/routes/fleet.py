"""The fleet, for operators: the workers with a live heartbeat and the accelerator classes
jobs may ask for (admin keys only)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from cornu.api.bodies import CheckedJSONRoute
from cornu.api.deps import AdminDep, StoreDep
from cornu.core.store.fleet import AcceleratorClass, FleetWorker

router = APIRouter(tags=["admin"], route_class=CheckedJSONRoute)


class FleetView(BaseModel):
    workers: list[FleetWorker]
    classes: list[AcceleratorClass]


@router.get("/v1/fleet")
def get_fleet(admin: AdminDep, store: StoreDep) -> FleetView:
    """Each worker up now (host, accelerator, memory, the job it trains, its last
    heartbeat) and every class the fleet has had (how many of its workers are up)."""
    return FleetView(
        workers=sorted(store.fleet.workers(), key=lambda w: w.id),
        classes=list(store.fleet.classes().values()),
    )
