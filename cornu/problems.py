"""The service's errors on the client side: an HTTP answer's problem+json body (RFC 9457)
back into the CornuError subclass the service raised."""

from __future__ import annotations

import httpx

from cornu.core.errors import (
    ERRORS_BY_SLUG,
    PROBLEM_TYPE_PREFIX,
    CornuError,
    ErrorItem,
    InUse,
    SpecError,
    Unauthorized,
)


def raise_for_problem(response: httpx.Response) -> None:
    """Raise the CornuError subclass that the problem+json body names."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    detail = str(body.get("detail") or response.text or response.reason_phrase)
    slug = str(body.get("type", "")).removeprefix(PROBLEM_TYPE_PREFIX)
    cls = ERRORS_BY_SLUG.get(slug, CornuError)
    if cls is SpecError:
        errors = body.get("errors", [])
        items = [ErrorItem(tuple(e.get("loc", ())), str(e.get("msg", ""))) for e in errors]
        raise SpecError(items or detail)
    if cls is InUse:
        raise InUse(detail, [str(j) for j in body.get("jobs", [])])
    if cls is CornuError:
        detail = f"HTTP {response.status_code}: {detail}"
    if cls is Unauthorized:
        detail += (
            " (the SDK sends cornu.connect(url, api_key)'s key, else CORNU_API_KEY, else the "
            "key `cornu up` wrote to $CORNU_HOME/api_key)"
        )
    raise cls(detail)
