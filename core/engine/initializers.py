"""Keras's weight initializers, filling torch tensors in place.

Fans are computed from the weight's *Keras* shape (`(in, out)` for a Dense kernel,
`(kh, kw, in, out)` for a conv kernel), so a layer that stores its weight in torch's
layout passes the Keras shape explicitly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Literal

import torch
from torch import Tensor

from core.errors import SpecError
from core.spec.names import unknown_name

Shape = tuple[int, ...]
Initializer = Callable[[Tensor, Shape], None]

# Keras divides the truncated normal's stddev by this so that, truncated at two stddevs,
# the samples have the requested variance.
_TRUNCATED_STD = 0.87962566103423978


def compute_fans(shape: Shape) -> tuple[float, float]:
    """Keras's `compute_fans`: receptive field times in/out channels (last two axes)."""
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


def variance_scaling(
    tensor: Tensor,
    shape: Shape,
    *,
    scale: float,
    mode: Literal["fan_in", "fan_out", "fan_avg"],
    distribution: Literal["truncated_normal", "untruncated_normal", "uniform"],
) -> None:
    fan_in, fan_out = compute_fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    variance = scale / max(1.0, n)
    with torch.no_grad():
        if distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            tensor.uniform_(-limit, limit)
        elif distribution == "untruncated_normal":
            tensor.normal_(0.0, math.sqrt(variance))
        else:
            std = math.sqrt(variance) / _TRUNCATED_STD
            torch.nn.init.trunc_normal_(tensor, 0.0, std, -2 * std, 2 * std)


def zeros(tensor: Tensor, shape: Shape) -> None:
    with torch.no_grad():
        tensor.zero_()


def ones(tensor: Tensor, shape: Shape) -> None:
    with torch.no_grad():
        tensor.fill_(1.0)


def random_normal(tensor: Tensor, shape: Shape) -> None:
    with torch.no_grad():
        tensor.normal_(0.0, 0.05)


def random_uniform(tensor: Tensor, shape: Shape) -> None:
    with torch.no_grad():
        tensor.uniform_(-0.05, 0.05)


def truncated_normal(tensor: Tensor, shape: Shape) -> None:
    torch.nn.init.trunc_normal_(tensor, 0.0, 0.05, -0.1, 0.1)


def orthogonal(tensor: Tensor, shape: Shape) -> None:
    """Keras's Orthogonal: rows of the flattened `(prod(shape[:-1]), shape[-1])` matrix."""
    if tensor.is_meta:  # QR has no meta kernel; shapes are all that matter there
        return
    with torch.no_grad():
        flat = torch.empty(math.prod(shape[:-1]), shape[-1], device=tensor.device)
        torch.nn.init.orthogonal_(flat)
        tensor.copy_(flat.reshape(tensor.shape))


INITIALIZERS: dict[str, Initializer] = {
    "glorot_uniform": partial(variance_scaling, scale=1.0, mode="fan_avg", distribution="uniform"),
    "glorot_normal": partial(
        variance_scaling, scale=1.0, mode="fan_avg", distribution="truncated_normal"
    ),
    "he_uniform": partial(variance_scaling, scale=2.0, mode="fan_in", distribution="uniform"),
    "he_normal": partial(
        variance_scaling, scale=2.0, mode="fan_in", distribution="truncated_normal"
    ),
    "lecun_uniform": partial(variance_scaling, scale=1.0, mode="fan_in", distribution="uniform"),
    "lecun_normal": partial(
        variance_scaling, scale=1.0, mode="fan_in", distribution="truncated_normal"
    ),
    "zeros": zeros,
    "ones": ones,
    "random_normal": random_normal,
    "random_uniform": random_uniform,
    "truncated_normal": truncated_normal,
    "orthogonal": orthogonal,
}
# Keras accepts the class names too: "GlorotUniform" is "glorot_uniform".
_BY_KEY = {name.replace("_", ""): name for name in INITIALIZERS}


def get(name: str) -> Initializer:
    found = _BY_KEY.get(name.replace("_", "").lower())
    if found is None:
        raise SpecError(unknown_name("initializer", name, INITIALIZERS))
    return INITIALIZERS[found]
