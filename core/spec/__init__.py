"""The job contract as pydantic models. Imports neither torch nor redis: the SDK uses it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from cornu.core.errors import ErrorItem, SpecError
from cornu.core.spec.callbacks import CALLBACK_SPECS
from cornu.core.spec.job import CompileSpec, DataRef, Datasets, FitSpec, JobSpec
from cornu.core.spec.layers import LAYER_SPECS, AnyLayer, LayerSpec
from cornu.core.spec.model import FunctionalSpec, InputSpec, ModelSpec, Node, SequentialSpec
from cornu.core.spec.optimizers import OPTIMIZER_SPECS, SCHEDULE_SPECS, AnyOptimizer, OptimizerSpec
from cornu.core.spec.resources import (
    Checkpoint,
    Dataset,
    DatasetArchive,
    EpochAck,
    EpochLog,
    EvaluateRequest,
    ExportFormat,
    ImportedModel,
    Job,
    JobEvent,
    JobEventType,
    JobPage,
    JobStatus,
    LayerSummary,
    Limits,
    Metrics,
    ModelSummary,
    PredictRequest,
    Quota,
    QuotaChange,
    StopReason,
    StreamEventType,
    SummaryRequest,
    Usage,
    UsagePeriod,
    WeightSummary,
)
from cornu.core.spec.timeseries import TimeseriesSource

__all__ = [
    "LAYER_SPECS",
    "OPTIMIZER_SPECS",
    "AnyLayer",
    "AnyOptimizer",
    "Checkpoint",
    "ExportFormat",
    "ImportedModel",
    "CompileSpec",
    "DataRef",
    "Dataset",
    "DatasetArchive",
    "EpochAck",
    "Datasets",
    "EpochLog",
    "EvaluateRequest",
    "FitSpec",
    "FunctionalSpec",
    "InputSpec",
    "Job",
    "JobEvent",
    "JobEventType",
    "JobPage",
    "JobSpec",
    "JobStatus",
    "StreamEventType",
    "TimeseriesSource",
    "LayerSpec",
    "LayerSummary",
    "Limits",
    "Metrics",
    "ModelSpec",
    "ModelSummary",
    "Node",
    "OptimizerSpec",
    "PredictRequest",
    "Quota",
    "QuotaChange",
    "StopReason",
    "SequentialSpec",
    "SummaryRequest",
    "Usage",
    "UsagePeriod",
    "WeightSummary",
    "parse_job_spec",
    "spec_error",
]

# Union tags that pydantic puts into error locations: `("layers", 0, "Dense", "units")`.
_TAGS: dict[str, type[BaseModel]] = {
    **LAYER_SPECS,
    **OPTIMIZER_SPECS,
    **CALLBACK_SPECS,
    **SCHEDULE_SPECS,
}
# Location parts that name a branch of a union, not a field the user wrote.
_SILENT = {"sequential", "functional", "str", "int", "float", "bool", "none", "list", "dict"}


def _is_branch(part: object) -> bool:
    return isinstance(part, str) and (part in _SILENT or "[" in part or part == "KerasObject")


def _message(error: Mapping[str, Any], tag: str | None) -> str:
    kind, loc = error["type"], error["loc"]
    owner = f"{tag}: " if tag else ""
    if kind == "extra_forbidden" and tag:
        valid = sorted(n for n in _TAGS[tag].model_fields if n != "type")
        return f"{tag} has no argument {loc[-1]!r} (valid arguments: {', '.join(valid)})"
    if kind == "extra_forbidden":
        return f"unknown field {loc[-1]!r}"
    if kind == "missing":
        return f"{owner}{loc[-1]!r} is required"
    return owner + str(error["msg"])


def spec_error(errors: Iterable[Mapping[str, Any]], *, strip: tuple[str, ...] = ()) -> SpecError:
    """Pydantic errors as a SpecError whose messages a person can act on.

    `strip` drops a leading location part (FastAPI puts body errors under "body").
    """
    items = []
    for error in errors:
        parts = list(error["loc"])
        if parts and parts[0] in strip:
            parts = parts[1:]
        loc: list[str | int] = []
        tag = None
        for part in parts:
            if isinstance(part, str) and part in _TAGS:
                tag = part
            elif not _is_branch(part):
                loc.append(part)
        items.append(ErrorItem(tuple(loc), _message(error, tag)))
    return SpecError(items)


def parse_job_spec(data: object) -> JobSpec:
    """Validate a JobSpec's structure and arguments; raise SpecError on any problem."""
    try:
        return JobSpec.model_validate(data)
    except ValidationError as exc:
        raise spec_error(exc.errors()) from None
