"""Running a call (`core.store.calls`) on a worker: `evaluate`, `predict` or building an
export of a trained job, answered with the HTTP status and JSON body the API sends on.

The work is what `core.inference` and `core.export` do; here it only runs off the API,
so the API process never holds a dataset or a model and its latency does not depend on
how big they are. Errors are answered as problem+json, the same body the API would
give; an error the code did not expect is logged here and answered as a 500 that says
so (and the suite's fuzz test fails on any 5xx).
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from cornu.core.config import Settings
from cornu.core.errors import CornuError, ServiceUnavailable
from cornu.core.export import export_job
from cornu.core.inference import evaluate_job, predict_job
from cornu.core.spec import EvaluateRequest, ExportFormat, PredictRequest
from cornu.core.store import UNAVAILABLE, Store
from cornu.core.store.calls import Call

log = logging.getLogger(__name__)

KINDS = ("evaluate", "predict", "export")


def _result(store: Store, settings: Settings, call: Call) -> Any:
    if call.kind == "evaluate":
        request = EvaluateRequest.model_validate(call.body)
        return evaluate_job(store, call.tenant, call.job_id, request)
    if call.kind == "predict":
        return predict_job(store, call.tenant, call.job_id,
                           PredictRequest.model_validate(call.body), settings)  # fmt: skip
    if call.kind == "export":  # built and kept: the API streams it from the blob store
        export_job(store, call.tenant, call.job_id, ExportFormat(call.body["format"]))
        return {}
    raise ValueError(f"unknown call kind {call.kind!r}")


def _json(result: Any) -> bytes:
    """The result as JSON; numbers JSON cannot hold (a diverged model's NaN loss or
    predictions) as null."""
    try:
        return json.dumps(result, allow_nan=False).encode()
    except ValueError:
        return json.dumps(_finite(result), allow_nan=False).encode()


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def run_call(store: Store, settings: Settings, call_id: str) -> int | None:
    """Run call `call_id` and answer it; the status answered, or None when the call is
    gone (taken already, withdrawn or expired). A store that does not answer is a 503
    answer; should the answer itself not reach Redis, this raises (the API's wait ends
    in a 503 too)."""
    call = store.calls.claim(call_id)
    if call is None:
        return None
    status, body = 200, b""
    try:
        body = _json(_result(store, settings, call))
    except CornuError as exc:
        status, body = exc.status, json.dumps(exc.problem()).encode()
    except UNAVAILABLE as exc:  # the blob store, or Redis full: the client may retry
        log.warning("call %s (%s of job %s): store unavailable: %s", call.id, call.kind,
                    call.job_id, exc)  # fmt: skip
        unavailable = ServiceUnavailable(f"a store this {call.kind} needs does not answer; retry")
        status, body = 503, json.dumps(unavailable.problem()).encode()
    except Exception:
        log.exception("call %s (%s of job %s) failed", call.id, call.kind, call.job_id)
        status = 500
        body = json.dumps({
            "type": "about:blank", "title": "Internal Server Error", "status": 500,
            "detail": f"the worker failed on this {call.kind}; it has been logged",
        }).encode()  # fmt: skip
    store.calls.answer(call.id, status, body)
    return status
