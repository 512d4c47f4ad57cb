"""Any layer by its `type`: the union of the registered layers (each family module
registers its own), Keras's other names for them, and the layers refused with a reason."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Union

from pydantic import BeforeValidator, Field, TypeAdapter
from pydantic_core import PydanticCustomError

from cornu.core.spec import registry
from cornu.core.spec.layers.base import LAYER_SPECS, LayerSpec, keras_object
from cornu.core.spec.names import unknown_name

# Layers that would run code the user wrote, or that work on strings (datasets are
# numeric arrays): never accepted, each with the reason.
_BUILT_IN = "; build the computation from Keras's built-in layers instead"
REFUSED = {
    "Lambda": "Lambda layers run Python code from the request, which Cornu never runs" + _BUILT_IN,
    "TFOpLambda": "TFOpLambda layers run TensorFlow ops Cornu does not have" + _BUILT_IN,
    "TFSMLayer": "TFSMLayer runs a TensorFlow SavedModel, code Cornu never runs; load the "
    "model from a .keras or .h5 file instead",
    "JaxLayer": "JaxLayer runs a JAX function of the user's own, which Cornu never runs"
    + _BUILT_IN,
    "FlaxLayer": "FlaxLayer runs a Flax module of the user's own, which Cornu never runs"
    + _BUILT_IN,
    "TorchModuleWrapper": "TorchModuleWrapper runs a torch module of the user's own, which "
    "Cornu never runs" + _BUILT_IN,
    "TextVectorization": "TextVectorization works on strings, and datasets are numeric "
    "arrays: turn text into ids on the client before fit",
    "StringLookup": "StringLookup works on strings, and datasets are numeric arrays: turn "
    "strings into ids on the client before fit",
}


def layer_type(kind: str) -> str:
    """Cornu's type for any name Keras gives a layer class: its exported names
    (`Convolution2D` is `Conv2D`) and the class's own name where it is exported under
    another (`GroupedQueryAttention` is `GroupQueryAttention`); `kind` itself otherwise."""
    if kind in LAYER_SPECS or kind in REFUSED:
        return kind
    target = registry.layer_class(kind) or kind
    return next((t for t in LAYER_SPECS if (registry.layer_class(t) or t) == target), kind)


def _known_layer_type(data: Any) -> Any:
    """Refuse an unknown `type` with the list of valid ones, before the union is tried."""
    data = keras_object(data)
    if isinstance(data, dict):
        kind = data.get("type")
        if kind is None:
            raise PydanticCustomError("missing_layer_type", "each layer needs a 'type', e.g. Dense")
        if not isinstance(kind, str):
            raise PydanticCustomError(
                "layer_type", "a layer's 'type' must be a Keras class name, e.g. \"Dense\""
            )
        if kind not in LAYER_SPECS:
            kind = layer_type(kind)  # Keras's other names: Convolution2D
            data = {**data, "type": kind}
        if kind in REFUSED:
            raise PydanticCustomError("refused_layer", "{reason}", {"reason": REFUSED[kind]})
        if kind not in LAYER_SPECS:
            message = unknown_name("layer type", kind, LAYER_SPECS)
            raise PydanticCustomError("unknown_layer", "{message}", {"message": message})
    return data


@cache
def any_layer() -> Any:
    """The type of any registered layer's arguments, chosen by `type`: built on first use,
    once every family module has registered its layers (`cornu.core.spec.layers` imports
    them all before anything can use it)."""
    return Annotated[
        Union[tuple(LAYER_SPECS.values())],  # noqa: UP007  (built from the registry)
        Field(discriminator="type"),
        BeforeValidator(_known_layer_type),
    ]


@cache
def _adapter() -> TypeAdapter[LayerSpec]:
    return TypeAdapter(any_layer())


def parse_layer(data: Any) -> LayerSpec:
    """Validate one layer's arguments (what wrapper layers call for their inner layer)."""
    return _adapter().validate_python(data)
