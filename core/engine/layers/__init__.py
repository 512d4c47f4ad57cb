"""The layer registry: Keras names to engine layers. Importing this registers them all."""

from __future__ import annotations

from cornu.core.engine.layers import (  # noqa: F401  (each module registers its layers)
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
from cornu.core.engine.layers.base import (
    LAYERS,
    Layer,
    Mask,
    Shape,
    ShapeError,
    Shapes,
    Weight,
    channels_first,
    channels_last,
)
from cornu.core.spec.names import snake_case

__all__ = [
    "LAYERS",
    "Layer",
    "Mask",
    "Shape",
    "ShapeError",
    "Shapes",
    "Weight",
    "channels_first",
    "channels_last",
    "snake_case",
]
