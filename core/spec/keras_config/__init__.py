"""Cornu's native model spec as Keras 3's own model JSON (`model.to_json()`), and its
CompileSpec as Keras's `compile_config`, both ways.

`to_keras` writes what Keras 3.15 writes: every object as `{"module", "class_name",
"config", "registered_name"}`, layers with a `build_config`, initializers, regularizers
and constraints as Keras objects, a functional model's layers in the order of Keras's
`map_graph`. `from_keras` reads it (and any Keras 3 or tf.keras 2 model JSON) back: the
same model, with Keras's spelled-out defaults (layer names, `activation: "linear"`,
initializer objects, pooling strides …); writing that again gives the same JSON.

Modules: `objects` (Keras objects: initializers, regularizers, constraints), `layers`
(one layer's config), `graph` (a functional model's calls and Keras's layer order),
`models` (`to_keras`), `reading` (`from_keras`), `compile` (`compile_config` both ways).
"""

from __future__ import annotations

from cornu.core.spec.keras_config.compile import (
    compile_config,
    compile_from_keras,
    custom_class,
    optimizer_object,
)
from cornu.core.spec.keras_config.graph import Graph, History, keras_layer_order
from cornu.core.spec.keras_config.layers import layer_object, wrapped_layers
from cornu.core.spec.keras_config.models import Shapes, model_spec, to_keras
from cornu.core.spec.keras_config.objects import (
    Json,
    constraint,
    initializer,
    regularizer,
)
from cornu.core.spec.keras_config.reading import from_keras
from cornu.core.spec.names import layer_names, snake_case

KERAS_VERSION = "3.15.1"
"""The Keras release whose formats Cornu writes and is tested against."""

__all__ = [
    "KERAS_VERSION",
    "Graph",
    "History",
    "Json",
    "Shapes",
    "compile_config",
    "compile_from_keras",
    "constraint",
    "custom_class",
    "from_keras",
    "initializer",
    "keras_layer_order",
    "layer_names",
    "layer_object",
    "model_spec",
    "optimizer_object",
    "regularizer",
    "snake_case",
    "to_keras",
    "wrapped_layers",
]
