"""Convolution layers: Conv1D/2D/3D, Conv1D/2D/3DTranspose, DepthwiseConv1D/2D and
SeparableConv1D/2D.

Arguments carry Keras 3's names and defaults; `kernel_size=3` means `(3, 3)` in 2-D and
`(3, 3, 3)` in 3-D. tf.keras 2 writes `groups: 1` into every conv layer's config, and a
SeparableConv2D's unused `kernel_initializer`: both are accepted so that its models import.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    NonNegativeInt,
    PositiveInt,
    model_validator,
)
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


def _repeat(n: int) -> BeforeValidator:
    """Keras's `standardize_tuple`: one int stands for the same value on each of `n` axes."""

    def convert(value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return (value,) * n
        return value

    return BeforeValidator(convert)


IntTriple = Annotated[tuple[PositiveInt, PositiveInt, PositiveInt], _repeat(3)]
"""Keras's `kernel_size=3` or `(3, 3, 5)` in 3-D."""
OutputPadding1D = Annotated[tuple[NonNegativeInt] | None, _repeat(1)]
OutputPadding2D = Annotated[tuple[NonNegativeInt, NonNegativeInt] | None, _repeat(2)]
OutputPadding3D = Annotated[
    tuple[NonNegativeInt, NonNegativeInt, NonNegativeInt] | None, _repeat(3)
]


def check_strides_and_dilation(strides: tuple[int, ...], dilation: tuple[int, ...]) -> None:
    """Keras's convolutions refuse strides and dilation both above 1 (`base_conv.py`)."""
    if max(strides) > 1 and max(dilation) > 1:
        raise PydanticCustomError(
            "strides_and_dilation",
            "strides {strides} and dilation_rate {dilation} cannot both exceed 1 "
            "(Keras refuses it); use one or the other",
            {"strides": list(strides), "dilation": list(dilation)},
        )


class Window1D(BaseModel):
    """A 1-D convolution's window: `kernel_size`, `strides` and `dilation_rate`, each one
    int or a 1-tuple (Keras's `standardize_tuple`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kernel_size: IntOne
    strides: IntOne = (1,)
    dilation_rate: IntOne = (1,)


class Window2D(BaseModel):
    """A 2-D convolution's window: one int for both axes, or a pair, each."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kernel_size: IntPair
    strides: IntPair = (1, 1)
    dilation_rate: IntPair = (1, 1)


class Window3D(BaseModel):
    """A 3-D convolution's window: one int for the three axes, or a triple, each."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kernel_size: IntTriple
    strides: IntTriple = (1, 1, 1)
    dilation_rate: IntTriple = (1, 1, 1)


class Conv(Regularized):
    """What Conv1D/2D/3D share: filters, a kernel, strides, dilation, groups
    (`keras/src/layers/convolutional/base_conv.py`)."""

    filters: PositiveInt
    kernel_size: tuple[PositiveInt, ...]
    strides: tuple[PositiveInt, ...]
    padding: str
    dilation_rate: tuple[PositiveInt, ...]
    data_format: DataFormat = None
    groups: PositiveInt = 1
    activation: str | None = None
    use_bias: bool = True

    @model_validator(mode="after")
    def _check(self) -> Conv:
        if self.filters % self.groups:
            raise PydanticCustomError(
                "groups",
                "filters ({filters}) must be divisible by groups ({groups})",
                {"filters": self.filters, "groups": self.groups},
            )
        check_strides_and_dilation(self.strides, self.dilation_rate)
        return self


@register
class Conv1D(Window1D, Conv):
    """1-D convolution over `(steps, channels)`; `padding="causal"` pads on the left only."""

    type: Literal["Conv1D"] = "Conv1D"
    padding: CausalPaddingMode = "valid"


@register
class Conv2D(Window2D, Conv):
    """2-D convolution over `(height, width, channels)` images."""

    type: Literal["Conv2D"] = "Conv2D"
    padding: PaddingMode = "valid"


@register
class Conv3D(Window3D, Conv):
    """3-D convolution over `(depth, height, width, channels)` volumes."""

    type: Literal["Conv3D"] = "Conv3D"
    padding: PaddingMode = "valid"


class ConvTranspose(Regularized):
    """What Conv1D/2D/3DTranspose share (`base_conv_transpose.py`): the transpose
    (gradient) of a convolution, which upsamples.

    `output_padding` (each less than its stride) adds steps/rows/columns at the end.
    Keras's transposed convolutions have no `groups`; tf.keras 2 writes `groups: 1`.
    """

    filters: PositiveInt
    kernel_size: tuple[PositiveInt, ...]
    strides: tuple[PositiveInt, ...]
    padding: PaddingMode = "valid"
    output_padding: tuple[NonNegativeInt, ...] | None = None
    data_format: DataFormat = None
    dilation_rate: tuple[PositiveInt, ...]
    groups: Literal[1] = 1
    activation: str | None = None
    use_bias: bool = True

    @model_validator(mode="after")
    def _check(self) -> ConvTranspose:
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
class Conv1DTranspose(Window1D, ConvTranspose):
    """The transpose of Conv1D: upsamples `(steps, channels)` sequences."""

    type: Literal["Conv1DTranspose"] = "Conv1DTranspose"
    output_padding: OutputPadding1D = None


@register
class Conv2DTranspose(Window2D, ConvTranspose):
    """The transpose of Conv2D: upsamples `(height, width, channels)` images."""

    type: Literal["Conv2DTranspose"] = "Conv2DTranspose"
    output_padding: OutputPadding2D = None


@register
class Conv3DTranspose(Window3D, ConvTranspose):
    """The transpose of Conv3D: upsamples `(depth, height, width, channels)` volumes."""

    type: Literal["Conv3DTranspose"] = "Conv3DTranspose"
    output_padding: OutputPadding3D = None


class DepthwiseConv(LayerSpec):
    """What depthwise and separable convolutions share (`base_depthwise_conv.py`): each
    input channel convolved with its own `depth_multiplier` kernels, channels kept apart.

    The depthwise kernel has its own initializer, regularizer and constraint
    (`depthwise_*`), as in Keras.
    """

    kernel_size: tuple[PositiveInt, ...]
    strides: tuple[PositiveInt, ...]
    padding: PaddingMode = "valid"
    depth_multiplier: PositiveInt = 1
    data_format: DataFormat = None
    dilation_rate: tuple[PositiveInt, ...]
    activation: str | None = None
    use_bias: bool = True
    depthwise_initializer: Initializer = "glorot_uniform"
    bias_initializer: Initializer = "zeros"
    depthwise_regularizer: Regularizer = None
    bias_regularizer: Regularizer = None
    activity_regularizer: Regularizer = None
    depthwise_constraint: Constraint = None
    bias_constraint: Constraint = None


@register
class DepthwiseConv1D(Window1D, DepthwiseConv):
    """Depthwise convolution over `(steps, channels)`: `channels * depth_multiplier` out."""

    type: Literal["DepthwiseConv1D"] = "DepthwiseConv1D"


@register
class DepthwiseConv2D(Window2D, DepthwiseConv):
    """Depthwise convolution over `(height, width, channels)` images."""

    type: Literal["DepthwiseConv2D"] = "DepthwiseConv2D"


class SeparableConv(DepthwiseConv):
    """A depthwise convolution then a pointwise (size-1) one to `filters` channels
    (`base_separable_conv.py`); weights `depthwise_kernel`, `pointwise_kernel`, `bias`."""

    filters: PositiveInt
    groups: Literal[1] = 1
    pointwise_initializer: Initializer = "glorot_uniform"
    pointwise_regularizer: Regularizer = None
    pointwise_constraint: Constraint = None

    @model_validator(mode="before")
    @classmethod
    def _tf_keras2_kernel_initializer(cls, data: Any) -> Any:
        """tf.keras 2 writes its base class's `kernel_initializer`, which it never uses."""
        if isinstance(data, dict) and "kernel_initializer" in data:
            data = {k: v for k, v in data.items() if k != "kernel_initializer"}
        return data


@register
class SeparableConv1D(Window1D, SeparableConv):
    """Separable convolution over `(steps, channels)` sequences."""

    type: Literal["SeparableConv1D"] = "SeparableConv1D"


@register
class SeparableConv2D(Window2D, SeparableConv):
    """Separable convolution over `(height, width, channels)` images."""

    type: Literal["SeparableConv2D"] = "SeparableConv2D"
