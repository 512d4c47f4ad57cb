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

from cornu.core.errors import SpecError
from cornu.core.spec.layers import KerasObject
from cornu.core.spec.names import unknown_name

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


def _fill(value: float) -> Initializer:
    def fill(tensor: Tensor, shape: Shape) -> None:
        with torch.no_grad():
            tensor.fill_(value)

    return fill


def _normal(mean: float = 0.0, stddev: float = 0.05) -> Initializer:
    def normal(tensor: Tensor, shape: Shape) -> None:
        with torch.no_grad():
            tensor.normal_(mean, stddev)

    return normal


def _uniform(minval: float = -0.05, maxval: float = 0.05) -> Initializer:
    def uniform(tensor: Tensor, shape: Shape) -> None:
        with torch.no_grad():
            tensor.uniform_(minval, maxval)

    return uniform


def _truncated(mean: float = 0.0, stddev: float = 0.05) -> Initializer:
    def truncated(tensor: Tensor, shape: Shape) -> None:
        torch.nn.init.trunc_normal_(tensor, mean, stddev, mean - 2 * stddev, mean + 2 * stddev)

    return truncated


def _orthogonal(gain: float = 1.0) -> Initializer:
    """Keras's Orthogonal: rows of the flattened `(prod(shape[:-1]), shape[-1])` matrix."""

    def orthogonal(tensor: Tensor, shape: Shape) -> None:
        if tensor.is_meta:  # QR has no meta kernel; shapes are all that matter there
            return
        with torch.no_grad():
            flat = torch.empty(math.prod(shape[:-1]), shape[-1], device=tensor.device)
            torch.nn.init.orthogonal_(flat, gain=gain)
            tensor.copy_(flat.reshape(tensor.shape))

    return orthogonal


def _identity(gain: float = 1.0) -> Initializer:
    def identity(tensor: Tensor, shape: Shape) -> None:
        if len(shape) != 2:
            raise SpecError(f"the Identity initializer needs a 2-D weight, not {shape}")
        with torch.no_grad():
            tensor.copy_(gain * torch.eye(*shape, device=tensor.device).reshape(tensor.shape))

    return identity


def _variance_scaling(
    scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal"
) -> Initializer:
    if mode not in ("fan_in", "fan_out", "fan_avg"):
        raise SpecError(f"VarianceScaling mode must be fan_in, fan_out or fan_avg, not {mode!r}")
    distribution = "truncated_normal" if distribution == "normal" else distribution
    if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
        raise SpecError(
            "VarianceScaling distribution must be truncated_normal, untruncated_normal or "
            f"uniform, not {distribution!r}"
        )
    return partial(variance_scaling, scale=scale, mode=mode, distribution=distribution)  # type: ignore[arg-type]


def _named(scale: float, mode: str, distribution: str) -> Callable[[], Initializer]:
    return lambda: _variance_scaling(scale, mode, distribution)


# Keras's initializers by name; each factory takes the initializer's Keras arguments.
FACTORIES: dict[str, Callable[..., Initializer]] = {
    "glorot_uniform": _named(1.0, "fan_avg", "uniform"),
    "glorot_normal": _named(1.0, "fan_avg", "truncated_normal"),
    "he_uniform": _named(2.0, "fan_in", "uniform"),
    "he_normal": _named(2.0, "fan_in", "truncated_normal"),
    "lecun_uniform": _named(1.0, "fan_in", "uniform"),
    "lecun_normal": _named(1.0, "fan_in", "truncated_normal"),
    "variance_scaling": _variance_scaling,
    "zeros": lambda: _fill(0.0),
    "ones": lambda: _fill(1.0),
    "constant": lambda value=0.0: _fill(float(value)),
    "random_normal": _normal,
    "random_uniform": _uniform,
    "truncated_normal": _truncated,
    "orthogonal": _orthogonal,
    "identity": _identity,
}
# Keras accepts the class names too: "GlorotUniform" is "glorot_uniform".
_BY_KEY = {name.replace("_", ""): name for name in FACTORIES}


def get(spec: str | KerasObject) -> Initializer:
    """The initializer a spec names, with its arguments (a Keras `seed` is accepted:
    runs are seeded by the job's `fit.seed`)."""
    name, args = (spec, {}) if isinstance(spec, str) else (spec.type, spec.args)
    found = _BY_KEY.get(name.replace("_", "").lower())
    if found is None:
        raise SpecError(unknown_name("initializer", name, FACTORIES))
    args.pop("seed", None)
    args.pop("dtype", None)  # tf.keras 2.2–2.4 wrote it: the weights' float type is float32
    for axes in ("input_axes", "output_axes"):  # Keras 3.10+ writes them; None is the default
        if args.get(axes, 0) is None:
            del args[axes]
    try:
        return FACTORIES[found](**args)
    except TypeError:
        raise SpecError(
            f"initializer {name!r} does not take the arguments {sorted(args)}"
        ) from None
