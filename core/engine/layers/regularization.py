"""Regularization layers: noise that exists only while training, and
ActivityRegularization's penalty on activations."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from cornu.core.engine.layers.base import Layer, Shape, ShapeError, register
from cornu.core.spec.layers import LayerSpec, RegularizerSpec
from cornu.core.spec.layers import regularization as spec


class _Noise(Layer):
    """A layer that changes its input only while training, by an amount (a rate, or a
    standard deviation): at inference, and at an amount of 0, it passes the input on, as
    Keras's regularization layers do."""

    supports_masking = True  # Keras's noise layers pass masks on

    def amount(self) -> float:
        return float(self.spec.rate)

    def forward(self, x: Tensor) -> Tensor:
        amount = self.amount()
        if not self.training or amount == 0:
            return x
        return self.noisy(x, amount)

    def noisy(self, x: Tensor, amount: float) -> Tensor:
        raise NotImplementedError


class _NoiseShaped(_Noise):
    """A dropout with Keras's optional `noise_shape`: the axes whose draws are shared."""

    def __init__(self, s: spec.Dropout | spec.AlphaDropout, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.noise_shape = noise_shape(s.noise_shape, input_shape)

    def drawn(self, x: Tensor) -> list[int]:
        """The shape of one batch's draws."""
        return list(x.shape) if self.noise_shape is None else drawn_shape(x, self.noise_shape)


@register
class Dropout(_NoiseShaped):
    """Inverted dropout, active only while training, with Keras's optional `noise_shape`."""

    spec_type = spec.Dropout

    def noisy(self, x: Tensor, amount: float) -> Tensor:
        if self.noise_shape is None:
            return F.dropout(x, amount, True)
        return x * _keep_mask(x, self.drawn(x), amount)


def noise_shape(given: list[int | None] | None, input_shape: Shape) -> tuple[int, ...] | None:
    """Keras's `noise_shape` (batch first; None: as the input, -1 here since the batch size
    is known only when called), checked against the input's rank."""
    if given is None:
        return None
    if len(given) != len(input_shape) + 1:
        raise ShapeError(
            f"noise_shape {given} needs one entry per axis, batch first "
            f"({len(input_shape) + 1} for inputs of shape {input_shape})"
        )
    return tuple(-1 if d is None else d for d in given)


def drawn_shape(x: Tensor, noise_shape: tuple[int, ...]) -> list[int]:
    """The shape of the draws for `x`: `noise_shape` with the input's sizes for its -1s."""
    return [x.shape[i] if d == -1 else d for i, d in enumerate(noise_shape)]


def _keep_mask(x: Tensor, shape: list[int], rate: float) -> Tensor:
    keep = torch.empty(shape, device=x.device, dtype=x.dtype).bernoulli_(1 - rate)
    return keep / (1 - rate)


class _SpatialDropout(_Noise):
    """Drops whole channels: one draw per sample and channel, shared over the other axes
    (Keras's noise shape `(batch, 1, …, 1, channels)`)."""

    layout: ClassVar[str]  # the inputs it takes, e.g. "(H, W, channels)"

    @classmethod
    def compute_output_shape(cls, s: LayerSpec, input_shape: Shape) -> Shape:
        if len(input_shape) != cls.layout.count(",") + 1:
            raise ShapeError(f"{s.type} needs {cls.layout} inputs, not {input_shape}")
        return input_shape

    def noisy(self, x: Tensor, amount: float) -> Tensor:
        return x * _keep_mask(x, [x.shape[0], *[1] * (x.ndim - 2), x.shape[-1]], amount)


@register
class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of `(steps, channels)` sequences."""

    spec_type = spec.SpatialDropout1D
    layout = "(steps, channels)"


@register
class SpatialDropout2D(_SpatialDropout):
    """Drops whole feature maps of `(H, W, channels)` images."""

    spec_type = spec.SpatialDropout2D
    layout = "(H, W, channels)"


@register
class SpatialDropout3D(_SpatialDropout):
    """Drops whole feature volumes of `(D, H, W, channels)` inputs."""

    spec_type = spec.SpatialDropout3D
    layout = "(D, H, W, channels)"


@register
class GaussianNoise(_Noise):
    """Adds `N(0, stddev²)` noise while training."""

    spec_type = spec.GaussianNoise

    def amount(self) -> float:
        return float(self.spec.stddev)

    def noisy(self, x: Tensor, amount: float) -> Tensor:
        return x + torch.randn_like(x) * amount


@register
class GaussianDropout(_Noise):
    """While training, multiplies by noise drawn from `N(1, rate / (1 - rate))`: the mean
    is kept, as inverted dropout keeps it
    (`keras/src/layers/regularization/gaussian_dropout.py`)."""

    spec_type = spec.GaussianDropout

    def noisy(self, x: Tensor, amount: float) -> Tensor:
        return x * (torch.randn_like(x) * math.sqrt(amount / (1 - amount)) + 1)


# SELU's constants, which AlphaDropout keeps the activations normalised for.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@register
class AlphaDropout(_NoiseShaped):
    """Keras's AlphaDropout while training: dropped inputs are set to SELU's negative
    saturation `-alpha * scale`, and `a * x + b` brings the mean and variance back to
    those of the input (`keras/src/layers/regularization/alpha_dropout.py`); at
    inference it passes the input on. `noise_shape` shares draws as in Dropout."""

    spec_type = spec.AlphaDropout

    def noisy(self, x: Tensor, amount: float) -> Tensor:
        rate = amount
        kept = (torch.rand(self.drawn(x), device=x.device) >= rate).to(x.dtype)
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * rate
        return a * (x * kept + alpha_p * (1 - kept)) + b


@register
class ActivityRegularization(Layer):
    """Passes its input on; the model adds `l1 * Σ|x| + l2 * Σx²` of it, divided by the
    batch size as Keras 3 divides every activity penalty, to the loss."""

    spec_type = spec.ActivityRegularization
    supports_masking = True

    def __init__(self, s: spec.ActivityRegularization, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        # Keras builds the layer with `activity_regularizer=L1L2(l1, l2)`.
        self.activity_regularizer = RegularizerSpec(type="l1_l2", l1=s.l1, l2=s.l2)

    def forward(self, x: Tensor) -> Tensor:
        return x
