"""Every error leaves the API as `application/problem+json` (RFC 9457), mapped here once."""

from __future__ import annotations

import logging
import math
from http import HTTPStatus
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from cornu.core.errors import (
    PROBLEM_TYPE_PREFIX,
    CornuError,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    TooManyJobs,
    TooManyRequests,
    TooManyStreams,
    Unauthorized,
)
from cornu.core.spec import spec_error
from cornu.core.store import UNAVAILABLE, BlobUnavailable

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_S = 5  # for 429 and 503: worth another try in a few seconds
# Starlette's own HTTP errors (unknown route, body too large) get Cornu's problem types.
_BY_STATUS: dict[int, type[CornuError]] = {
    e.status: e for e in (NotFound, PayloadTooLarge, Unauthorized)
}


def problem(
    status: int,
    detail: str,
    *,
    type_: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = {
        "type": type_ or "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def from_error(exc: CornuError) -> JSONResponse:
    headers = None
    if isinstance(exc, Unauthorized):
        headers = {"WWW-Authenticate": "Bearer"}
    elif isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    elif isinstance(exc, TooManyJobs | TooManyStreams | ServiceUnavailable):
        headers = {"Retry-After": str(RETRY_AFTER_S)}
    return problem(
        exc.status,
        exc.detail,
        type_=exc.type,
        title=exc.title,
        headers=headers,
        **exc.extensions(),
    )


async def _cornu_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CornuError)
    return from_error(exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # FastAPI locates body errors under "body"; a user wrote the body, so drop it.
    return from_error(spec_error(exc.errors(), strip=("body",)))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    known = _BY_STATUS.get(exc.status_code)
    slug = known.slug if known else HTTPStatus(exc.status_code).phrase.lower().replace(" ", "-")
    return problem(
        exc.status_code,
        str(exc.detail),
        type_=PROBLEM_TYPE_PREFIX + slug,
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    which = "blob store" if isinstance(exc, BlobUnavailable) else "job store (Redis)"
    log.warning("%s unavailable during %s %s: %s", which, request.method, request.url.path, exc)
    if isinstance(exc, redis.exceptions.OutOfMemoryError):
        return from_error(ServiceUnavailable(
            "the job store (Redis) is full (its maxmemory) and takes no writes until memory "
            "is freed; retry later"
        ))  # fmt: skip
    return from_error(ServiceUnavailable(f"the {which} does not answer; retry in a few seconds"))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error in %s %s", request.method, request.url.path)
    return problem(500, "an internal error occurred; it has been logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(CornuError, _cornu_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    for error in UNAVAILABLE:
        app.add_exception_handler(error, _store_unavailable)
    app.add_exception_handler(Exception, _unexpected)
