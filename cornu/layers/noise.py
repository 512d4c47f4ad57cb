"""Keras 2's `keras.layers.noise` module path, which older programs import from."""

from __future__ import annotations

from cornu.layers import GaussianNoise

__all__ = ["GaussianNoise"]
