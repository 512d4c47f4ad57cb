"""Keras's activation functions, to give a layer (`activation=activations.relu`) where
Keras takes one; each stands for its name, computed on the service."""

from __future__ import annotations

from typing import Any

from cornu.objects import functions, missing

FUNCTIONS = functions(
    (
        "linear",
        "relu",
        "sigmoid",
        "softmax",
        "tanh",
        "elu",
        "selu",
        "gelu",
        "softplus",
        "softsign",
        "swish",
        "silu",
        "mish",
        "exponential",
        "hard_sigmoid",
        "leaky_relu",
        "log_softmax",
    ),
    "activation",
)
globals().update(FUNCTIONS)


def get(identifier: Any) -> Any:
    """Keras's `activations.get`: a name, or one of these functions; None is linear."""
    if identifier is None:
        return FUNCTIONS["linear"]
    return FUNCTIONS.get(identifier, identifier) if isinstance(identifier, str) else identifier


def serialize(activation: Any) -> Any:
    return getattr(activation, "keras_name", activation)


__getattr__ = missing("activation", FUNCTIONS)

__all__ = ["get", "serialize", *FUNCTIONS]
