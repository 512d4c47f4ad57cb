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
from typing import Any

from cornu.core.config import Settings
from cornu.core.errors import CornuError
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


def run_call(store: Store, settings: Settings, call_id: str) -> int | None:
    """Run call `call_id` and answer it; the status answered, or None when the call is
    gone (answered already, or expired). With Redis unreachable it raises: the API,
    waiting on the same Redis, has answered its client 503 already."""
    call = store.calls.get(call_id)
    if call is None:
        return None
    status, body = 200, b""
    try:
        body = json.dumps(_result(store, settings, call), allow_nan=False).encode()
    except CornuError as exc:
        status, body = exc.status, json.dumps(exc.problem()).encode()
    except UNAVAILABLE:
        raise
    except Exception:
        log.exception("call %s (%s of job %s) failed", call.id, call.kind, call.job_id)
        status = 500
        body = json.dumps({
            "type": "about:blank", "title": "Internal Server Error", "status": 500,
            "detail": f"the worker failed on this {call.kind}; it has been logged",
        }).encode()  # fmt: skip
    store.calls.answer(call.id, status, body)
    return status
