"""`model.summary()` as data: shapes and parameter counts, computed on the meta device."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from cornu.core.engine.build import UNKNOWN_SIZES, build_model, check_known_weights
from cornu.core.engine.layers import Layer
from cornu.core.engine.model import keras_slots
from cornu.core.spec import LayerSummary, ModelSpec, ModelSummary, WeightSummary, spec_error

_MODEL: TypeAdapter[Any] = TypeAdapter(ModelSpec)


def _shape(shape: Any, other: Any) -> list[Any]:
    """An output shape, None where building with another size for the model's unknown
    dimensions gave another size (`other`): the dimensions that follow them."""
    if isinstance(shape, list):
        return [_shape(s, o) for s, o in zip(shape, other, strict=True)]
    return [a if a == b else None for a, b in zip(shape, other, strict=True)]


def summarize(model: Any) -> ModelSummary:
    """The summary of any accepted model form (raises SpecError, located under `model`)."""
    try:
        spec = _MODEL.validate_python(model)
    except ValidationError as exc:
        raise spec_error([{**e, "loc": ("model", *e["loc"])} for e in exc.errors()]) from None
    built = build_model(spec, device="meta")
    other = built  # a model with no dimension of unknown size has one set of shapes
    if any(d is None for shape in built.declared_shapes for d in shape):
        other = build_model(spec, device="meta", unknown=UNKNOWN_SIZES[1])
        check_known_weights(built, other)
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
                output_shape=_shape(i.output_shape, j.output_shape),
                params=i.params,
                weights=weights.get(i.name, []),
            )
            for i, j in zip(built.summary(), other.summary(), strict=True)
        ],
        total_params=total,
        trainable_params=trainable,
        non_trainable_params=total - trainable,
        warnings=spec.warnings(),
    )


def weights_of(layer: Layer, prefix: str) -> list[WeightSummary]:
    """A layer's weights as Keras lists them: `prefix` + Keras's name (wrapped layers'
    under their own prefix), shape in Keras's layout, and whether training changes it."""
    slots = keras_slots(layer)
    return [
        WeightSummary(
            name=prefix + name, shape=list(tensor.shape), trainable=slots[name][1].trainable
        )
        for name, tensor in layer.keras_weights().items()
    ]
