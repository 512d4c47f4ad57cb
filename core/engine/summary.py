"""`model.summary()` as data: shapes and parameter counts, computed on the meta device."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from cornu.core.engine.layers import Layer
from cornu.core.engine.model import build_model
from cornu.core.spec import LayerSummary, ModelSpec, ModelSummary, WeightSummary, spec_error

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
    weights = {
        name: weights_of(layer, f"{name}/")
        for name, layer in zip(built.names, built.stack, strict=True)
    }
    return ModelSummary(
        layers=[
            LayerSummary(
                name=i.name,
                type=i.type,
                output_shape=_shape(i.output_shape),
                params=i.params,
                weights=weights.get(i.name, []),
            )
            for i in built.summary()
        ],
        total_params=total,
        trainable_params=trainable,
        non_trainable_params=total - trainable,
    )


def weights_of(layer: Layer, prefix: str) -> list[WeightSummary]:
    """A layer's weights as Keras lists them: `prefix` + Keras's name (wrapped layers'
    under their own prefix), shape in Keras's layout, and whether training changes it."""
    trainable = {w.name: w.trainable for w in layer.weights_info}
    for inner_prefix, inner in getattr(layer, "wrapped", list)():
        trainable |= {inner_prefix + w.name: w.trainable for w in inner.weights_info}
    return [
        WeightSummary(name=prefix + name, shape=list(tensor.shape), trainable=trainable[name])
        for name, tensor in layer.keras_weights().items()
    ]
