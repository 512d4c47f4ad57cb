"""Keras 2's `keras.layers.core` module path, which older programs import from."""

from __future__ import annotations

from cornu.layers import Activation, Dense, Dropout, Flatten, Permute, RepeatVector, Reshape

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Permute", "RepeatVector", "Reshape"]
