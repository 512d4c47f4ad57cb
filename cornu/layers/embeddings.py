"""Keras 2's `keras.layers.embeddings` module path, which older programs import from."""

from __future__ import annotations

from cornu.layers import Embedding

__all__ = ["Embedding"]
