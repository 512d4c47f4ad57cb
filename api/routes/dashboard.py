"""The dashboard: a small page served at `/` (filled in by the dashboard's change)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
