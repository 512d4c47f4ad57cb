"""Every layer Cornu knows, as Keras names them, in one union chosen by `type`.

Importing a family module registers its layers; the union (`parsing.any_layer`) is built
from the registry once all are imported here, so adding a layer touches its family module
(and the engine's), nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cornu.core.spec.layers import (  # noqa: F401  (each module registers its layers)
    activations,
    attention,
    audio,
    augmentation,
    convolutional,
    convolutional_recurrent,
    core,
    embedding,
    lookup,
    merging,
    mixing,
    normalization,
    pooling,
    preprocessing,
    regularization,
    reshaping,
    rnn,
    wrappers,
)
from cornu.core.spec.layers.base import (
    LAYER_SPECS,
    Constraint,
    ConstraintSpec,
    Initializer,
    KerasObject,
    LayerName,
    LayerSpec,
    Regularizer,
    RegularizerSpec,
    Shape,
    keras_object,
)
from cornu.core.spec.layers.parsing import REFUSED, any_layer, layer_type, parse_layer

if TYPE_CHECKING:
    AnyLayer = LayerSpec
else:
    AnyLayer = any_layer()
"""Any registered layer's arguments, chosen by `type`."""


__all__ = [
    "LAYER_SPECS",
    "REFUSED",
    "AnyLayer",
    "Constraint",
    "ConstraintSpec",
    "Initializer",
    "KerasObject",
    "LayerName",
    "LayerSpec",
    "Regularizer",
    "RegularizerSpec",
    "Shape",
    "keras_object",
    "layer_type",
    "parse_layer",
]
