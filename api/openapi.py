"""The OpenAPI document tells every status an operation can answer with, and what its
errors look like: `application/problem+json` (RFC 9457), one `Problem` schema.

Which statuses, by what an operation has (the rules the handlers and dependencies
follow, so the document and the server agree; the schemathesis run in the suite
checks it):

- every operation: 422 (a malformed parameter or body) and 503 (Redis or the blob
  store not answering, or Redis full);
- one that takes an API key: 401 (no key, or not valid), 403 (a read-only key on a
  write, or a non-admin key on the admin API) and 429 (past the tenant's request rate,
  streams or active jobs);
- one with an id in its path: 404 (no such id of the tenant's);
- one that writes (POST, PUT, PATCH, DELETE): 409 (a repeated Idempotency-Key with
  another request, or a record in a state that refuses it) and 413 (a body past its
  limit, or past the tenant's stored-bytes, datasets or jobs quota);
- one that takes a body: 400 (a body that is not JSON, or not a multipart form).

Any other status an operation declares itself (`responses=` on its route).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

PROBLEM_JSON = "application/problem+json"


def event_stream(*kinds: Iterable[StrEnum]) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a Server-Sent Events route: its 200 is `text/event-stream`, and
    each event's name is one of `kinds`' members (an enum, or some of its members)."""
    names = sorted({member.value for kind in kinds for member in kind})
    event = {
        "type": "object",
        "description": "One Server-Sent Event: its name, its id (reconnect with "
        "Last-Event-ID to resume after it) and its data (JSON).",
        "properties": {
            "event": {"type": "string", "enum": names},
            "id": {"type": "string"},
            "data": {"type": "string"},
        },
    }
    return {200: {"content": {"text/event-stream": {"schema": event}}}}


#: `responses=` of a route whose 200 is a file of bytes (a StreamingResponse).
BINARY_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}}
}
WRITES = {"post", "put", "patch", "delete"}


class ProblemItem(BaseModel):
    loc: list[str | int] = Field(description="where: the field's path in the request")
    msg: str = Field(description="what is wrong there, and what is allowed")


class Problem(BaseModel):
    """An error (RFC 9457 problem details). `type` names its kind
    (`urn:cornu:problem:<slug>`); `detail` says what to do about it."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="urn:cornu:problem:<slug>, or about:blank")
    title: str
    status: int
    detail: str
    errors: list[ProblemItem] | None = Field(
        default=None, description="422: each problem in the request, by field"
    )
    jobs: list[str] | None = Field(
        default=None, description="409 in-use: the queued or running jobs that hold it"
    )
    retry_after: float | None = Field(
        default=None, description="429 too-many-requests: seconds to wait (as Retry-After)"
    )


def _statuses(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    found = {422, 503}
    if operation.get("security"):
        found |= {401, 403, 429}
    if "{" in path:
        found.add(404)
    if method in WRITES:
        found |= {409, 413}
    if "requestBody" in operation:
        found.add(400)
    return found


def _response(status: int, given: dict[str, Any] | None) -> dict[str, Any]:
    description = (given or {}).get("description") or HTTPStatus(status).phrase
    if description in ("Validation Error", "Successful Response"):
        description = HTTPStatus(status).phrase
    out: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status in (429, 503):
        out["headers"] = {
            "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}
        }
    return out


def document_problems(app: FastAPI) -> None:
    """Make `app.openapi()` list each operation's error statuses as problem+json."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schemas["Problem"].pop("$defs", {}))
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                declared = {int(s) for s in responses if s.isdigit() and int(s) >= 400}
                for status in sorted(_statuses(method, path, operation) | declared):
                    responses[str(status)] = _response(status, responses.get(str(status)))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
