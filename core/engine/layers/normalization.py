"""Keras's normalization layers: BatchNormalization, LayerNormalization,
GroupNormalization, UnitNormalization and RMSNormalization.

All but UnitNormalization compute in float32 whatever the input's dtype (as Keras does,
since statistics overflow or lose precision in 16 bits) and return the input's dtype.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from cornu.core.engine.layers.base import Layer, Mask, Shape, ShapeError, register
from cornu.core.spec.layers import normalization as spec

# Keras's backend epsilon: keeps a masked mean finite when every step is masked.
_KERAS_EPSILON = 1e-7


class _Normalization(Layer):
    """What both layers share: the optional learned scale `gamma` and offset `beta`."""

    def _add_gamma_beta(
        self, s: spec.Normalization, shape: Shape, *, gamma: bool, beta: bool
    ) -> None:
        self.gamma: Tensor | None = None
        self.beta: Tensor | None = None
        if gamma:
            self.gamma = self.add_weight(
                "gamma",
                shape,
                s.gamma_initializer,
                regularizer=s.gamma_regularizer,
                constraint=s.gamma_constraint,
            )
        if beta:
            self.beta = self.add_weight(
                "beta",
                shape,
                s.beta_initializer,
                regularizer=s.beta_regularizer,
                constraint=s.beta_constraint,
            )


@register
class BatchNormalization(_Normalization):
    """Keras's batch normalization over the channels (last) axis.

    Training normalises with the batch's mean and *biased* variance and moves
    `moving_mean`/`moving_variance` towards them by `1 - momentum`; Keras uses the biased
    variance for both (torch's BatchNorm would keep the unbiased one). Inference, and a
    layer with `trainable: false` (Keras 3's rule), use the moving statistics. Masked
    steps of an `(N, T, C)` input are left out of the batch statistics, as in Keras.
    """

    spec_type = spec.BatchNormalization
    uses_mask = True
    supports_masking = True

    def __init__(self, s: spec.BatchNormalization, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        channels = (input_shape[-1],)
        self._add_gamma_beta(s, channels, gamma=s.scale, beta=s.center)
        self.moving_mean = self.add_weight(
            "moving_mean", channels, s.moving_mean_initializer, trainable=False
        )
        self.moving_variance = self.add_weight(
            "moving_variance", channels, s.moving_variance_initializer, trainable=False
        )
        self.reduction_dims = tuple(range(len(input_shape)))  # all but channels, with batch

    @classmethod
    def compute_output_shape(cls, s: spec.BatchNormalization, input_shape: Shape) -> Shape:
        if not input_shape:
            raise ShapeError("BatchNormalization needs inputs with a channels axis")
        last = len(input_shape)  # the channels axis counted with the batch
        if s.axis not in (-1, last):
            raise ShapeError(
                f"BatchNormalization normalises the channels axis, which is the last one in "
                f"Cornu (channels-last); axis={s.axis} is not it for this input: use axis=-1 "
                f"(or {last})"
            )
        return input_shape

    def forward(self, x: Tensor, mask: Mask = None) -> Tensor:
        inputs = x.float()
        if self.training and self.spec.trainable:
            mean, variance = self._moments(inputs, mask)
            self._update_moving_statistics(mean, variance)
        else:
            mean, variance = self.moving_mean, self.moving_variance
        scale = torch.rsqrt(variance + self.spec.epsilon)
        if self.gamma is not None:
            scale = scale * self.gamma
        centred = inputs - mean
        out = centred * scale if self.beta is None else torch.addcmul(self.beta, centred, scale)
        return out.to(x.dtype)

    def _moments(self, x: Tensor, mask: Mask) -> tuple[Tensor, Tensor]:
        """The batch's mean and biased variance per channel, over the unmasked steps."""
        if mask is None:
            variance, mean = torch.var_mean(x, dim=self.reduction_dims, correction=0)
            return mean, variance
        weights = mask.unsqueeze(-1).to(x.dtype)
        count = weights.sum(self.reduction_dims) + _KERAS_EPSILON
        mean = (x * weights).sum(self.reduction_dims) / count
        variance = ((x - mean).square() * weights).sum(self.reduction_dims) / count
        return mean, variance

    @torch.no_grad()
    def _update_moving_statistics(self, mean: Tensor, variance: Tensor) -> None:
        momentum = self.spec.momentum
        self.moving_mean.mul_(momentum).add_(mean, alpha=1 - momentum)
        self.moving_variance.mul_(momentum).add_(variance, alpha=1 - momentum)


@register
class LayerNormalization(_Normalization):
    """Keras's layer normalization over `axis` of each sample (biased variance).

    `gamma` and `beta` have the sizes of the normalised axes. When those are the trailing
    axes, torch's fused `layer_norm` computes it; otherwise the statistics are reduced
    over the given axes and the weights broadcast.
    """

    spec_type = spec.LayerNormalization
    supports_masking = True

    def __init__(self, s: spec.LayerNormalization, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.axes = self.normalized_axes(s, input_shape)
        given = [s.axis] if isinstance(s.axis, int) else s.axis
        # Keras sizes gamma and beta by the axes as given, sorted (so -1 comes before 1),
        # and reshapes them onto the input: the same weights for the same axis list.
        shape = tuple((0, *input_shape)[a] for a in sorted(given))
        self._add_gamma_beta(
            s, shape, gamma=s.scale or s.rms_scaling, beta=s.center and not s.rms_scaling
        )
        rank = len(input_shape) + 1
        self.trailing = self.axes == tuple(range(rank - len(self.axes), rank))
        # gamma/beta as they broadcast against the input, batch axis included
        self.broadcast_shape = tuple(
            input_shape[a - 1] if a in self.axes else 1 for a in range(1, rank)
        )

    @classmethod
    def normalized_axes(cls, s: spec.LayerNormalization, input_shape: Shape) -> tuple[int, ...]:
        """`axis` as sorted non-negative indices counted with the batch."""
        rank = len(input_shape) + 1
        given = [s.axis] if isinstance(s.axis, int) else s.axis
        axes = []
        for axis in given:
            if not -rank <= axis < rank:
                raise ShapeError(
                    f"LayerNormalization axis {axis} is out of range for inputs of rank {rank} "
                    f"(axes count the batch as 0)"
                )
            axes.append(axis % rank)
        if 0 in axes:
            raise ShapeError("LayerNormalization cannot normalise over the batch axis (axis 0)")
        if len(set(axes)) != len(axes):
            raise ShapeError(f"LayerNormalization axis {given} names an axis twice")
        return tuple(sorted(axes))

    @classmethod
    def compute_output_shape(cls, s: spec.LayerNormalization, input_shape: Shape) -> Shape:
        cls.normalized_axes(s, input_shape)
        return input_shape

    def forward(self, x: Tensor) -> Tensor:
        inputs = x.float()
        if self.spec.rms_scaling:
            variance = torch.var(inputs, dim=self.axes, correction=0, keepdim=True)
            out = inputs * torch.rsqrt(variance + self.spec.epsilon)
            if self.gamma is not None:
                out = out * self.gamma.reshape(self.broadcast_shape)
        elif self.trailing:
            normalized = inputs.shape[-len(self.axes) :]
            gamma = None if self.gamma is None else self.gamma.reshape(normalized)
            beta = None if self.beta is None else self.beta.reshape(normalized)
            out = F.layer_norm(inputs, normalized, gamma, beta, self.spec.epsilon)
        else:
            variance, mean = torch.var_mean(inputs, dim=self.axes, correction=0, keepdim=True)
            out = (inputs - mean) * torch.rsqrt(variance + self.spec.epsilon)
            if self.gamma is not None:
                out = out * self.gamma.reshape(self.broadcast_shape)
            if self.beta is not None:
                out = out + self.beta.reshape(self.broadcast_shape)
        return out.to(x.dtype)


def _axes_with_batch(kind: str, axis: int | list[int], input_shape: Shape) -> tuple[int, ...]:
    """`axis` (one or a list, counted with the batch as 0) as sorted non-negative indices;
    ShapeError for the batch axis, an axis out of range or one named twice."""
    rank = len(input_shape) + 1
    given = [axis] if isinstance(axis, int) else list(axis)
    if any(not -rank <= a < rank for a in given):
        raise ShapeError(
            f"{kind} axis {axis} is out of range for inputs of rank {rank} "
            "(axes count the batch as 0)"
        )
    axes = sorted(a % rank for a in given)
    if 0 in axes:
        raise ShapeError(f"{kind} cannot normalise over the batch axis (axis 0)")
    if len(set(axes)) != len(axes):
        raise ShapeError(f"{kind} axis {axis} names an axis twice")
    return tuple(axes)


@register
class GroupNormalization(_Normalization):
    """Keras's group normalization: the channels (`axis`) split into `groups`, each
    sample's group normalised over its channels and every other axis (biased variance),
    then `gamma` and `beta` per channel. Runs torch's `group_norm` on the channels moved
    to axis 1; `keras/src/layers/normalization/group_normalization.py` is the reference.
    """

    spec_type = spec.GroupNormalization
    supports_masking = True

    def __init__(self, s: spec.GroupNormalization, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        (self.axis,) = _axes_with_batch("GroupNormalization", s.axis, input_shape)
        channels = input_shape[self.axis - 1]
        self.groups = channels if s.groups == -1 else s.groups
        self._add_gamma_beta(s, (channels,), gamma=s.scale, beta=s.center)

    @classmethod
    def compute_output_shape(cls, s: spec.GroupNormalization, input_shape: Shape) -> Shape:
        (axis,) = _axes_with_batch("GroupNormalization", s.axis, input_shape)
        channels = input_shape[axis - 1]
        groups = channels if s.groups == -1 else s.groups
        if channels < groups or channels % groups:
            raise ShapeError(
                f"GroupNormalization splits the {channels} channels of axis {s.axis} into "
                f"{groups} groups: the channels must be a multiple of the groups"
            )
        return input_shape

    def forward(self, x: Tensor) -> Tensor:
        inputs = x.float().movedim(self.axis, 1)
        out = F.group_norm(inputs, self.groups, self.gamma, self.beta, self.spec.epsilon)
        return out.movedim(1, self.axis).to(x.dtype)


@register
class UnitNormalization(Layer):
    """Each sample divided by its L2 norm over `axis`: Keras's `ops.normalize`,
    `x * min(rsqrt(Σx²), 1e12)`, so an all-zero slice stays zero."""

    spec_type = spec.UnitNormalization
    supports_masking = True

    def __init__(self, s: spec.UnitNormalization, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.axes = _axes_with_batch("UnitNormalization", s.axis, input_shape)

    @classmethod
    def compute_output_shape(cls, s: spec.UnitNormalization, input_shape: Shape) -> Shape:
        _axes_with_batch("UnitNormalization", s.axis, input_shape)
        return input_shape

    def forward(self, x: Tensor) -> Tensor:
        inverse_norm = torch.rsqrt(x.square().sum(self.axes, keepdim=True))
        return x * inverse_norm.clamp(max=1e12)


@register
class RMSNormalization(Layer):
    """`x * rsqrt(mean(x², axis) + epsilon) * scale` (Keras's `ops.rms_normalization`),
    with `scale` the size of the normalised axes, which must be the trailing ones:
    elsewhere Keras's own scale would not broadcast against the input."""

    spec_type = spec.RMSNormalization

    def __init__(self, s: spec.RMSNormalization, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        axes = _axes_with_batch("RMSNormalization", s.axis, input_shape)
        self.normalized_shape = tuple(input_shape[a - 1] for a in axes)
        self.scale = self.add_weight("scale", self.normalized_shape, "ones")

    @classmethod
    def compute_output_shape(cls, s: spec.RMSNormalization, input_shape: Shape) -> Shape:
        axes = _axes_with_batch("RMSNormalization", s.axis, input_shape)
        rank = len(input_shape) + 1
        if axes != tuple(range(rank - len(axes), rank)):
            raise ShapeError(
                f"RMSNormalization normalises trailing axes; axis={s.axis} is not the last "
                f"{len(axes)} of inputs of rank {rank}: use axis=-1 (or the last axes)"
            )
        return input_shape

    def forward(self, x: Tensor) -> Tensor:
        out = F.rms_norm(x.float(), self.normalized_shape, self.scale, self.spec.epsilon)
        return out.to(x.dtype)
