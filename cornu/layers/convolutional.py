"""Keras 2's `keras.layers.convolutional` module path, which older programs import from."""

from __future__ import annotations

from cornu.layers import (
    AveragePooling1D,
    AveragePooling2D,
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    Cropping2D,
    MaxPooling1D,
    MaxPooling2D,
    SeparableConv2D,
    UpSampling2D,
    ZeroPadding2D,
)

__all__ = [
    "AveragePooling1D",
    "AveragePooling2D",
    "Conv1D",
    "Conv2D",
    "Conv2DTranspose",
    "Cropping2D",
    "MaxPooling1D",
    "MaxPooling2D",
    "SeparableConv2D",
    "UpSampling2D",
    "ZeroPadding2D",
]
