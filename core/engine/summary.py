"""`model.summary()` as data: shapes and parameter counts, computed on the meta device."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from cornu.core.engine.model import build_model
from cornu.core.spec import LayerSummary, ModelSpec, ModelSummary, spec_error

_MODEL: TypeAdapter[Any] = TypeAdapter(ModelSpec)


def _shape(shape: Any) -> list[Any]:
    return [list(s) for s in shape] if isinstance(shape, list) else list(shape)


def summarize(model: Any) -> ModelSummary:
    """The summary of any accepted model form (raises SpecError, located under `model`)."""
    try:
        spec = _MODEL.validate_python(model)
    except ValidationError as exc:
        raise spec_error([{**e, "loc": ("model", *e["loc"])} for e in exc.errors()]) from None
    built = build_model(spec, device="meta")
    total, trainable = built.count_params()
    return ModelSummary(
        layers=[
            LayerSummary(
                name=i.name, type=i.type, output_shape=_shape(i.output_shape), params=i.params
            )
            for i in built.summary()
        ],
        total_params=total,
        trainable_params=trainable,
        non_trainable_params=total - trainable,
    )
