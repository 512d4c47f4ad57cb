"""The dashboard: one HTML page at `/` and its static files under `/static/`; and the
API's interactive documentation at `/docs` (Swagger UI, vendored: it works offline).

The page needs no key to load; it asks for one and calls `/v1` with it from the browser.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
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


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    """Swagger UI over `/openapi.json`, from the files under `static/vendor/swagger-ui`."""
    root = request.scope.get("root_path", "").rstrip("/")
    vendor = f"{root}/static/vendor/swagger-ui"
    return get_swagger_ui_html(
        openapi_url=f"{root}/openapi.json",
        title="Cornu API",
        swagger_js_url=f"{vendor}/swagger-ui-bundle.js",
        swagger_css_url=f"{vendor}/swagger-ui.css",
        swagger_favicon_url=f"{vendor}/favicon-32x32.png",
    )
