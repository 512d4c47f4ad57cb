"""Keras's weight regularizers: `regularizers.l2(0.001)`, `L1L2(l1=…, l2=…)`, or by name."""

from __future__ import annotations

from typing import Any

from cornu.objects import KerasObject, missing


class Regularizer(KerasObject):
    """A penalty on a layer's weights, added to the loss on the service."""


class L1(Regularizer):
    type = "l1"
    positional = ("l1",)


class L2(Regularizer):
    type = "l2"
    positional = ("l2",)


class L1L2(Regularizer):
    type = "l1_l2"
    positional = ("l1", "l2")


def l1(l1: float = 0.01) -> L1:
    return L1(l1=l1)


def l2(l2: float = 0.01) -> L2:
    return L2(l2=l2)


def l1_l2(l1: float = 0.0, l2: float = 0.0) -> L1L2:
    return L1L2(l1=l1, l2=l2)


def get(identifier: Any) -> Any:
    return identifier


__getattr__ = missing("regularizer", ["L1", "L2", "L1L2", "l1", "l2", "l1_l2"])

__all__ = ["L1", "L1L2", "L2", "Regularizer", "get", "l1", "l1_l2", "l2"]
