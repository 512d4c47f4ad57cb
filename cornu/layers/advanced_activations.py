"""Keras 2's `keras.layers.advanced_activations` module path, which older programs import from."""

from __future__ import annotations

from cornu.layers import LeakyReLU, ReLU, Softmax

__all__ = ["LeakyReLU", "ReLU", "Softmax"]
