"""The layer registry: Keras names to engine layers. Importing this registers them all."""

from __future__ import annotations

from core.engine.layers import core as _core  # noqa: F401  (registers the core layers)
from core.engine.layers.base import LAYERS, Layer, Shape, ShapeError, snake_case

__all__ = ["LAYERS", "Layer", "Shape", "ShapeError", "snake_case"]
