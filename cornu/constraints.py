"""Keras's weight constraints: `constraints.MaxNorm(3)`, `max_norm(2.0)`, or by name."""

from __future__ import annotations

from typing import Any

from cornu.objects import KerasObject, missing


class Constraint(KerasObject):
    """A projection applied to a layer's weights after each optimizer step."""


class MaxNorm(Constraint):
    type = "max_norm"
    positional = ("max_value", "axis")


class MinMaxNorm(Constraint):
    type = "min_max_norm"
    positional = ("min_value", "max_value", "rate", "axis")


class NonNeg(Constraint):
    type = "non_neg"


class UnitNorm(Constraint):
    type = "unit_norm"
    positional = ("axis",)


max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm


def get(identifier: Any) -> Any:
    return identifier


__getattr__ = missing("constraint", ["MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm"])

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "get",
    "max_norm",
    "min_max_norm",
    "non_neg",
    "unit_norm",
]
