"""Keras 2's `keras.layers.merge` module path, which older programs import from."""

from __future__ import annotations

from cornu.layers import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)

__all__ = [
    "Add",
    "add",
    "Average",
    "average",
    "Concatenate",
    "concatenate",
    "Dot",
    "dot",
    "Maximum",
    "maximum",
    "Minimum",
    "minimum",
    "Multiply",
    "multiply",
    "Subtract",
    "subtract",
]
