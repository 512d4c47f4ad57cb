"""Activation layers: Activation, ReLU, LeakyReLU, Softmax, ELU, PReLU."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from cornu.core.engine import activations
from cornu.core.engine.layers.base import Layer, Shape, ShapeError, register
from cornu.core.spec.layers import activations as spec


@register
class Activation(Layer):
    spec_type = spec.Activation
    supports_masking = True

    def __init__(self, s: spec.Activation, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.activation = activations.get(s.activation)
        self.activation_name = s.activation

    def pre_activation(self, x: Tensor) -> Tensor:
        return x

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(x)


@register
class ReLU(Layer):
    """Keras's ReLU layer: `x` above `threshold`, `negative_slope * (x - threshold)` below,
    capped at `max_value`."""

    spec_type = spec.ReLU
    supports_masking = True

    def forward(self, x: Tensor) -> Tensor:
        s: spec.ReLU = self.spec
        if s.negative_slope == 0 and s.threshold == 0:
            y = torch.relu(x)
        else:
            y = torch.where(x >= s.threshold, x, s.negative_slope * (x - s.threshold))
        return y.clamp(max=s.max_value) if s.max_value is not None else y


@register
class LeakyReLU(Layer):
    spec_type = spec.LeakyReLU
    supports_masking = True

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, negative_slope=self.spec.negative_slope)


@register
class Softmax(Layer):
    spec_type = spec.Softmax
    supports_masking = True

    def __init__(self, s: spec.Softmax, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        axes = [s.axis] if isinstance(s.axis, int) else s.axis
        rank = len(input_shape)
        if any(not -rank <= a <= rank or a == 0 for a in axes):
            raise ShapeError(f"axis {s.axis} is out of range for inputs of rank {rank}")
        # Keras counts axes with the batch axis at 0, as torch does: no translation.
        self.dims = tuple(axes)
        if self.dims == (-1,):  # the same as the softmax activation: a loss may fuse it
            self.activation = activations.softmax
            self.activation_name = "softmax"

    def pre_activation(self, x: Tensor) -> Tensor:
        return x

    def forward(self, x: Tensor) -> Tensor:
        if len(self.dims) == 1:
            return torch.softmax(x, dim=self.dims[0])
        return torch.exp(x - torch.logsumexp(x, dim=self.dims, keepdim=True))


@register
class ELU(Layer):
    """`x` for `x > 0`, `alpha * (exp(x) - 1)` below (Keras's `activations.elu`)."""

    spec_type = spec.ELU
    supports_masking = True

    def forward(self, x: Tensor) -> Tensor:
        return F.elu(x, alpha=self.spec.alpha)


@register
class PReLU(Layer):
    """`relu(x) - alpha * relu(-x)`, Keras's formula, with `alpha` shaped as one sample
    except along `shared_axes` (size 1 there: one alpha shared along the axis)."""

    spec_type = spec.PReLU
    supports_masking = True

    def __init__(self, s: spec.PReLU, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        shape = list(input_shape)
        for axis in s.shared_axes or ():
            shape[axis - 1] = 1
        self.alpha = self.add_weight(
            "alpha",
            tuple(shape),
            s.alpha_initializer,
            regularizer=s.alpha_regularizer,
            constraint=s.alpha_constraint,
        )

    @classmethod
    def compute_output_shape(cls, s: spec.PReLU, input_shape: Shape) -> Shape:
        for axis in s.shared_axes or ():
            if not 1 <= axis <= len(input_shape):
                raise ShapeError(
                    f"PReLU shared_axes {s.shared_axes}: axis {axis} is not an axis of the "
                    f"input (1 to {len(input_shape)}, counting the batch as 0)"
                )
        return input_shape

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(x) - self.alpha * torch.relu(-x)
