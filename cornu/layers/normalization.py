"""Keras 2's `keras.layers.normalization` module path, which older programs import from."""

from __future__ import annotations

from cornu.layers import BatchNormalization, LayerNormalization

__all__ = ["BatchNormalization", "LayerNormalization"]
