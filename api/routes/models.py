"""Models without training: `model.summary()` of any accepted model form."""

from __future__ import annotations

from fastapi import APIRouter

from cornu.api.deps import TenantDep
from cornu.core.engine.summary import summarize
from cornu.core.spec import ModelSummary, SummaryRequest

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.post("/summary")
def model_summary(request: SummaryRequest, tenant: TenantDep) -> ModelSummary:
    """Layers, output shapes and parameter counts as Keras's `model.summary()` gives them.

    Takes a Sequential or functional spec, or Keras's own `model.to_json()`.
    """
    return summarize(request.model)
