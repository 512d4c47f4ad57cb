"""The dashboard: one HTML page at `/` and its static files under `/static/`.

The page needs no key to load; it asks for one and calls `/v1` with it from the browser.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent.parent / "static"
# The API key lives in the page's localStorage: allow no script but our own files.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)
_files = StaticFiles(directory=STATIC)


@router.get("/")
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers=HEADERS)


@router.get("/static/{path:path}")
async def static(path: str, request: Request) -> Response:
    """A file of the page (404 as problem+json for anything else, `..` included)."""
    # A route, not a Mount: older FastAPI (0.115, our floor) drops Mounts in include_router.
    response = await _files.get_response(path, request.scope)
    response.headers["Cache-Control"] = "no-cache"  # revalidated by ETag, never stale
    return response
