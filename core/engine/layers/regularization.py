"""Regularization layers: noise that exists only while training."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from cornu.core.engine.layers.base import Layer, Shape, ShapeError, register
from cornu.core.spec.layers import regularization as spec


@register
class Dropout(Layer):
    """Inverted dropout, active only while training, with Keras's optional `noise_shape`."""

    spec_type = spec.Dropout
    supports_masking = True

    def __init__(self, s: spec.Dropout, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.noise_shape: tuple[int, ...] | None = None
        if s.noise_shape is not None:
            if len(s.noise_shape) != len(input_shape) + 1:
                raise ShapeError(
                    f"noise_shape {s.noise_shape} needs one entry per axis, batch first "
                    f"({len(input_shape) + 1} for inputs of shape {input_shape})"
                )
            # None means "as the input"; the batch size is only known when called.
            self.noise_shape = tuple(-1 if d is None else d for d in s.noise_shape)

    def forward(self, x: Tensor) -> Tensor:
        rate = self.spec.rate
        if not self.training or rate == 0:
            return x
        if self.noise_shape is None:
            return F.dropout(x, rate, True)
        shape = [x.shape[i] if d == -1 else d for i, d in enumerate(self.noise_shape)]
        return x * _keep_mask(x, shape, rate)


def _keep_mask(x: Tensor, shape: list[int], rate: float) -> Tensor:
    keep = torch.empty(shape, device=x.device, dtype=x.dtype).bernoulli_(1 - rate)
    return keep / (1 - rate)


@register
class SpatialDropout1D(Layer):
    """Drops whole channels of `(steps, channels)` sequences (one draw per sample and channel)."""

    spec_type = spec.SpatialDropout1D
    supports_masking = True

    @classmethod
    def compute_output_shape(cls, s: spec.SpatialDropout1D, input_shape: Shape) -> Shape:
        if len(input_shape) != 2:
            raise ShapeError(f"SpatialDropout1D needs (steps, channels) inputs, not {input_shape}")
        return input_shape

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.spec.rate == 0:
            return x
        return x * _keep_mask(x, [x.shape[0], 1, x.shape[2]], self.spec.rate)


@register
class SpatialDropout2D(Layer):
    """Drops whole feature maps of `(H, W, channels)` images."""

    spec_type = spec.SpatialDropout2D

    @classmethod
    def compute_output_shape(cls, s: spec.SpatialDropout2D, input_shape: Shape) -> Shape:
        if len(input_shape) != 3:
            raise ShapeError(f"SpatialDropout2D needs (H, W, channels) inputs, not {input_shape}")
        return input_shape

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.spec.rate == 0:
            return x
        return x * _keep_mask(x, [x.shape[0], 1, 1, x.shape[3]], self.spec.rate)


@register
class GaussianNoise(Layer):
    """Adds `N(0, stddev²)` noise while training."""

    spec_type = spec.GaussianNoise
    supports_masking = True

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.spec.stddev == 0:
            return x
        return x + torch.randn_like(x) * self.spec.stddev
