"""Keras's normalization layers: BatchNormalization, LayerNormalization,
GroupNormalization, UnitNormalization, RMSNormalization."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PositiveFloat, field_validator
from pydantic_core import PydanticCustomError

from cornu.core.spec.layers.base import Constraint, Initializer, LayerSpec, Regularizer, register


class Normalization(LayerSpec):
    """What both layers share: epsilon, and an optional learned scale `gamma` and offset
    `beta` with their initializers, regularizers and constraints."""

    epsilon: PositiveFloat = 1e-3
    center: bool = True
    scale: bool = True
    beta_initializer: Initializer = "zeros"
    gamma_initializer: Initializer = "ones"
    beta_regularizer: Regularizer = None
    gamma_regularizer: Regularizer = None
    beta_constraint: Constraint = None
    gamma_constraint: Constraint = None


@register
class BatchNormalization(Normalization):
    """Normalises each channel with the batch's statistics while training and with their
    moving averages (`moving_mean`, `moving_variance`) otherwise.

    `axis` is the channels axis counted with the batch, and must be the last one (Cornu's
    tensors are channels-last): `-1`, the last axis's positive index, or tf.keras 2's
    one-element list such as `[3]`; the layer checks it against its input.
    """

    type: Literal["BatchNormalization"] = "BatchNormalization"
    axis: int = -1
    momentum: float = Field(default=0.99, ge=0.0, le=1.0)
    moving_mean_initializer: Initializer = "zeros"
    moving_variance_initializer: Initializer = "ones"
    synchronized: bool = False
    renorm: bool = False
    renorm_clipping: dict[str, float] | None = None
    renorm_momentum: float = 0.99
    virtual_batch_size: int | None = None

    @field_validator("axis", mode="before")
    @classmethod
    def _one_axis(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            if len(value) != 1:
                raise PydanticCustomError(
                    "batch_norm_axes",
                    "BatchNormalization normalises one axis, the channels; got axis={axis}",
                    {"axis": list(value)},
                )
            return value[0]
        return value

    @field_validator("synchronized")
    @classmethod
    def _not_synchronized(cls, value: bool) -> bool:
        if value:
            raise PydanticCustomError(
                "unsupported_option",
                "synchronized=True (statistics shared across devices) is not supported: "
                "Cornu trains on one device; use synchronized=False",
            )
        return value

    @field_validator("renorm")
    @classmethod
    def _no_renorm(cls, value: bool) -> bool:
        if value:
            raise PydanticCustomError(
                "unsupported_option",
                "renorm=True (batch renormalization) is not supported; use renorm=False",
            )
        return value

    @field_validator("virtual_batch_size")
    @classmethod
    def _no_virtual_batches(cls, value: int | None) -> int | None:
        if value is not None:
            raise PydanticCustomError(
                "unsupported_option",
                "virtual_batch_size (tf.keras 2's ghost batch normalization) is not "
                "supported; remove it to normalise over the whole batch",
            )
        return value


@register
class LayerNormalization(Normalization):
    """Normalises each sample over `axis` (the last by default, or a list of axes counted
    with the batch), then scales by `gamma` and offsets by `beta`.

    `rms_scaling=True` is Keras's deprecated form, copied as Keras computes it: the input
    divided by `sqrt(variance + epsilon)` without centring, times `gamma`, no `beta`.
    """

    type: Literal["LayerNormalization"] = "LayerNormalization"
    axis: int | list[int] = -1
    rms_scaling: bool = False


@register
class GroupNormalization(Normalization):
    """Splits the channels (`axis`, counted with the batch) into `groups` and normalises
    each sample's group over the group's channels and all other axes; `groups=-1` is one
    channel per group (instance normalization). `gamma` and `beta` are per channel."""

    type: Literal["GroupNormalization"] = "GroupNormalization"
    groups: int = 32
    axis: int = -1

    @field_validator("groups")
    @classmethod
    def _positive_or_instance(cls, value: int) -> int:
        if value <= 0 and value != -1:
            raise PydanticCustomError(
                "groups",
                "groups must be a positive number of groups, or -1 for one group per "
                "channel (instance normalization); got {groups}",
                {"groups": value},
            )
        return value


@register
class UnitNormalization(LayerSpec):
    """Scales each sample to unit L2 norm over `axis` (an axis or a list, counted with
    the batch)."""

    type: Literal["UnitNormalization"] = "UnitNormalization"
    axis: int | list[int] = -1


@register
class RMSNormalization(LayerSpec):
    """`x / sqrt(mean(x², axis) + epsilon) * scale`, with a learned `scale` over `axis`
    (trailing axes, counted with the batch)."""

    type: Literal["RMSNormalization"] = "RMSNormalization"
    axis: int | list[int] = -1
    epsilon: PositiveFloat = 1e-6
