"""Convolution layers: Conv1D, Conv2D, Conv2DTranspose, SeparableConv2D.

Arguments carry Keras 3's names and defaults; `kernel_size=3` means `(3, 3)` in 2-D.
tf.keras 2 writes `groups: 1` into every conv layer's config, and a SeparableConv2D's
unused `kernel_initializer`: both are accepted so that its models import.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, NonNegativeInt, PositiveInt, model_validator
from pydantic_core import PydanticCustomError

from cornu.core.spec.layers.base import (
    Constraint,
    Initializer,
    IntOne,
    IntPair,
    LayerSpec,
    Padding,
    Regularized,
    Regularizer,
    register,
)


def _lower(value: Any) -> Any:
    """Keras accepts `padding="SAME"` and writes it lower-case."""
    return value.lower() if isinstance(value, str) else value


def _channels_last(value: Any) -> Any:
    if value not in (None, "channels_last"):
        raise PydanticCustomError(
            "data_format",
            "data_format '{value}' is not supported: Cornu runs channels_last only "
            "(images as (height, width, channels)); transpose the data and drop data_format",
            {"value": value},
        )
    return value


DataFormat = Annotated[Literal["channels_last"] | None, BeforeValidator(_channels_last)]
"""Cornu runs channels-last only, Keras's default; `None` means the default."""
PaddingMode = Annotated[Padding, BeforeValidator(_lower)]
CausalPaddingMode = Annotated[Literal["valid", "same", "causal"], BeforeValidator(_lower)]


def _pair(value: Any) -> Any:
    return (value, value) if isinstance(value, int) and not isinstance(value, bool) else value


OutputPadding = Annotated[tuple[NonNegativeInt, NonNegativeInt] | None, BeforeValidator(_pair)]


class _Conv(Regularized):
    """What Conv1D and Conv2D share: filters, a kernel, strides, dilation, groups."""

    filters: PositiveInt
    kernel_size: tuple[PositiveInt, ...]
    strides: tuple[PositiveInt, ...]
    dilation_rate: tuple[PositiveInt, ...]
    data_format: DataFormat = None
    groups: PositiveInt = 1
    activation: str | None = None
    use_bias: bool = True

    @model_validator(mode="after")
    def _check(self) -> _Conv:
        if self.filters % self.groups:
            raise PydanticCustomError(
                "groups",
                "filters ({filters}) must be divisible by groups ({groups})",
                {"filters": self.filters, "groups": self.groups},
            )
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise PydanticCustomError(
                "strides_and_dilation",
                "strides {strides} and dilation_rate {dilation} cannot both exceed 1 "
                "(Keras refuses it); use one or the other",
                {"strides": list(self.strides), "dilation": list(self.dilation_rate)},
            )
        return self


@register
class Conv1D(_Conv):
    """1-D convolution over `(steps, channels)`; `padding="causal"` pads on the left only."""

    type: Literal["Conv1D"] = "Conv1D"
    kernel_size: IntOne
    strides: IntOne = (1,)
    padding: CausalPaddingMode = "valid"
    dilation_rate: IntOne = (1,)


@register
class Conv2D(_Conv):
    """2-D convolution over `(height, width, channels)` images."""

    type: Literal["Conv2D"] = "Conv2D"
    kernel_size: IntPair
    strides: IntPair = (1, 1)
    padding: PaddingMode = "valid"
    dilation_rate: IntPair = (1, 1)


@register
class Conv2DTranspose(Regularized):
    """The transpose (gradient) of Conv2D: upsamples `(height, width, channels)` images.

    `output_padding` (each less than its stride) adds rows/columns at the bottom/right.
    """

    type: Literal["Conv2DTranspose"] = "Conv2DTranspose"
    filters: PositiveInt
    kernel_size: IntPair
    strides: IntPair = (1, 1)
    padding: PaddingMode = "valid"
    output_padding: OutputPadding = None
    data_format: DataFormat = None
    dilation_rate: IntPair = (1, 1)
    groups: Literal[1] = 1
    activation: str | None = None
    use_bias: bool = True

    @model_validator(mode="after")
    def _check(self) -> Conv2DTranspose:
        if self.output_padding is not None and any(
            p >= s for p, s in zip(self.output_padding, self.strides, strict=True)
        ):
            raise PydanticCustomError(
                "output_padding",
                "output_padding {padding} must be less than strides {strides} on each axis",
                {"padding": list(self.output_padding), "strides": list(self.strides)},
            )
        return self


@register
class SeparableConv2D(LayerSpec):
    """A depthwise convolution (`depth_multiplier` maps per input channel) then a 1×1 one.

    Its weights are `depthwise_kernel`, `pointwise_kernel` and `bias`, each with its own
    initializer, regularizer and constraint, as in Keras.
    """

    type: Literal["SeparableConv2D"] = "SeparableConv2D"
    filters: PositiveInt
    kernel_size: IntPair
    strides: IntPair = (1, 1)
    padding: PaddingMode = "valid"
    data_format: DataFormat = None
    dilation_rate: IntPair = (1, 1)
    depth_multiplier: PositiveInt = 1
    groups: Literal[1] = 1
    activation: str | None = None
    use_bias: bool = True
    depthwise_initializer: Initializer = "glorot_uniform"
    pointwise_initializer: Initializer = "glorot_uniform"
    bias_initializer: Initializer = "zeros"
    depthwise_regularizer: Regularizer = None
    pointwise_regularizer: Regularizer = None
    bias_regularizer: Regularizer = None
    activity_regularizer: Regularizer = None
    depthwise_constraint: Constraint = None
    pointwise_constraint: Constraint = None
    bias_constraint: Constraint = None

    @model_validator(mode="before")
    @classmethod
    def _tf_keras2_kernel_initializer(cls, data: Any) -> Any:
        """tf.keras 2 writes its base class's `kernel_initializer`, which it never uses."""
        if isinstance(data, dict) and "kernel_initializer" in data:
            data = {k: v for k, v in data.items() if k != "kernel_initializer"}
        return data
