"""Keras 2's `keras.utils.np_utils` path: `to_categorical` and `normalize`."""

from __future__ import annotations

from cornu.utils.numerical import normalize, to_categorical

__all__ = ["normalize", "to_categorical"]
