"""Keras 2's `keras.layers.wrappers` module path, which older programs import from."""

from __future__ import annotations

from cornu.layers import Bidirectional, TimeDistributed

__all__ = ["Bidirectional", "TimeDistributed"]
