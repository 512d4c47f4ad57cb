"""Convolutional LSTMs: ConvLSTM1D, ConvLSTM2D, ConvLSTM3D (`keras/src/layers/rnn/conv_lstm.py`).

An LSTM whose input and recurrent transformations are convolutions: each step's input
is a `(steps, channels)`, `(height, width, channels)` or `(depth, height, width,
channels)` frame, and its state a frame of `filters` channels. Arguments carry Keras 3's
names and defaults, those of its convolutions and of its `RNN` base (`rnn.OverSequences`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import PositiveInt, model_validator

from cornu.core.spec.layers.base import register
from cornu.core.spec.layers.convolutional import (
    DataFormat,
    PaddingMode,
    Window1D,
    Window2D,
    Window3D,
    check_strides_and_dilation,
)
from cornu.core.spec.layers.rnn import OverSequences, RecurrentStep


class ConvLSTM(RecurrentStep, OverSequences):
    """What ConvLSTM1D/2D/3D share (not a layer by itself)."""

    filters: PositiveInt
    kernel_size: tuple[PositiveInt, ...]
    strides: tuple[PositiveInt, ...]
    padding: PaddingMode = "valid"
    data_format: DataFormat = None
    dilation_rate: tuple[PositiveInt, ...]
    recurrent_activation: str | None = "sigmoid"
    unit_forget_bias: bool = True

    @model_validator(mode="after")
    def _check(self) -> ConvLSTM:
        check_strides_and_dilation(self.strides, self.dilation_rate)
        return self


@register
class ConvLSTM1D(Window1D, ConvLSTM):
    """A ConvLSTM over sequences of `(steps, channels)` frames."""

    type: Literal["ConvLSTM1D"] = "ConvLSTM1D"


@register
class ConvLSTM2D(Window2D, ConvLSTM):
    """A ConvLSTM over sequences of `(height, width, channels)` images."""

    type: Literal["ConvLSTM2D"] = "ConvLSTM2D"


@register
class ConvLSTM3D(Window3D, ConvLSTM):
    """A ConvLSTM over sequences of `(depth, height, width, channels)` volumes."""

    type: Literal["ConvLSTM3D"] = "ConvLSTM3D"
