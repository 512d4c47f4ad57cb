"""Keras's activation functions by name (`keras.activations.get`)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from cornu.core.errors import SpecError
from cornu.core.spec import registry
from cornu.core.spec.names import unknown_name

Activation = Callable[[Tensor], Tensor]


def linear(x: Tensor) -> Tensor:
    return x


def softmax(x: Tensor) -> Tensor:
    return torch.softmax(x, dim=-1)


def log_softmax(x: Tensor) -> Tensor:
    return torch.log_softmax(x, dim=-1)


def leaky_relu(x: Tensor) -> Tensor:
    return F.leaky_relu(x, negative_slope=0.2)  # Keras 3's default slope


ACTIVATIONS: dict[str, Activation] = {
    "linear": linear,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "softmax": softmax,
    "tanh": torch.tanh,
    "elu": F.elu,
    "selu": F.selu,
    "gelu": F.gelu,  # Keras's default is the exact form, as torch's
    "softplus": F.softplus,
    "softsign": F.softsign,
    "swish": F.silu,
    "silu": F.silu,
    "mish": F.mish,
    "exponential": torch.exp,
    "hard_sigmoid": F.hardsigmoid,  # Keras 3: relu6(x + 3) / 6
    "relu6": F.relu6,
    "leaky_relu": leaky_relu,
    "log_softmax": log_softmax,
}


def get(name: str | None) -> Activation:
    """`None` is Keras's default, `linear`; an unknown name is a SpecError listing valid ones."""
    if name is None:
        return linear
    try:
        return ACTIVATIONS[registry.resolve("activations", name)]
    except KeyError:
        raise SpecError(unknown_name("activation", name, ACTIVATIONS)) from None
