"""Keras's audio layers: MelSpectrogram and STFTSpectrogram.

Arguments, names and defaults as in Keras 3.15 (`keras/src/layers/preprocessing/
mel_spectrogram.py`, `stft_spectrogram.py`). MelSpectrogram resolves `sequence_length`
and `max_freq` in its constructor and writes the resolved values in its config; so does
this spec. STFTSpectrogram keeps `frame_step` and `fft_length` open (Keras writes None).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PositiveFloat,
    PositiveInt,
    model_validator,
)
from pydantic_core import PydanticCustomError

from cornu.core.spec.layers.base import LayerSpec, register

# scipy.signal.get_window's windows that need no parameter, which Cornu computes itself
# (scipy is no runtime dependency): the name Keras's STFT initializer hands to scipy.
STFT_WINDOWS = (
    "barthann",
    "bartlett",
    "blackman",
    "blackmanharris",
    "bohman",
    "boxcar",
    "cosine",
    "flattop",
    "hamming",
    "hann",
    "nuttall",
    "parzen",
    "triang",
)


def _window_values(value: Any) -> Any:
    """A window given as an array: a list, or Keras's serialized numpy array."""
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        value = (value.get("config") or {}).get("value")
    if isinstance(value, tuple):
        value = list(value)
    return value


def _stft_window(value: Any) -> Any:
    value = _window_values(value)
    if isinstance(value, str) and value not in STFT_WINDOWS:
        raise PydanticCustomError(
            "stft_window",
            "window '{value}' is not one Cornu computes; valid windows: {valid}, None, or "
            "the window's values as a list of frame_length numbers",
            {"value": value, "valid": ", ".join(STFT_WINDOWS)},
        )
    return value


Window = list[float] | None


def _check_window_length(window: Window | str, length: int, argument: str) -> None:
    """Keras: "The shape of `window` must be equal to [<argument>]"."""
    if isinstance(window, list) and len(window) != length:
        raise PydanticCustomError(
            "window_length",
            "window has {n} values; it must have {argument}={length}",
            {"n": len(window), "argument": argument, "length": length},
        )


@register
class MelSpectrogram(LayerSpec):
    """Raw audio `(batch, samples)` to a Mel spectrogram `(batch, num_mel_bins, frames)`:
    a centred STFT (reflect padding), `|STFT| ** mag_exp`, HTK mel filters over
    `[min_freq, max_freq]`, and with `power_to_db` decibels relative to `ref_power`,
    floored at the batch's maximum minus `top_db` (Keras takes that maximum over the
    whole batch)."""

    type: Literal["MelSpectrogram"] = "MelSpectrogram"
    fft_length: PositiveInt = 2048
    sequence_stride: PositiveInt = 512
    sequence_length: PositiveInt | None = Field(default=None, description="None: fft_length")
    window: Annotated[Literal["hann", "hamming"] | Window, BeforeValidator(_window_values)] = "hann"
    sampling_rate: PositiveInt | PositiveFloat = 16000
    num_mel_bins: PositiveInt = 128
    min_freq: float = 20.0
    max_freq: PositiveFloat | None = Field(default=None, description="None: sampling_rate / 2")
    power_to_db: bool = True
    top_db: float = 80.0
    mag_exp: float = 2.0
    min_power: PositiveFloat = 1e-10
    ref_power: float = 1.0

    @model_validator(mode="after")
    def _resolve(self) -> MelSpectrogram:
        # Keras's constructor: `sequence_length or fft_length`, `max_freq or
        # int(sampling_rate / 2)`, both written resolved in its config.
        if self.sequence_length is None:
            object.__setattr__(self, "sequence_length", self.fft_length)
        if self.max_freq is None:
            object.__setattr__(self, "max_freq", float(int(self.sampling_rate / 2)))
        if self.fft_length < self.frame_length:
            raise PydanticCustomError(
                "fft_length",
                "fft_length ({fft}) must be at least sequence_length ({length})",
                {"fft": self.fft_length, "length": self.frame_length},
            )
        _check_window_length(self.window, self.frame_length, "sequence_length")
        return self

    @property
    def frame_length(self) -> int:
        """`sequence_length`, resolved."""
        return self.sequence_length or self.fft_length


@register
class STFTSpectrogram(LayerSpec):
    """Signals `(batch, time, channels)` (`(batch, channels, time)` channels-first) to
    spectrograms by convolution with DFT kernels: the weights `real_kernel` and
    `imag_kernel` (each `(frame_length, 1, fft_length // 2 + 1)`, trainable unless
    `trainable` is false; "real" mode has only the first, "imag" only the second)."""

    type: Literal["STFTSpectrogram"] = "STFTSpectrogram"
    mode: Literal["log", "magnitude", "psd", "real", "imag", "angle", "stft"] = "log"
    frame_length: PositiveInt = 256
    frame_step: PositiveInt | None = Field(default=None, description="None: frame_length // 2")
    fft_length: PositiveInt | None = Field(
        default=None, description="None: the smallest power of two >= frame_length"
    )
    window: Annotated[str | Window, BeforeValidator(_stft_window)] = "hann"
    periodic: bool = False
    scaling: Literal["density", "spectrum"] | None = "density"
    padding: Literal["valid", "same"] = "valid"
    expand_dims: bool = False
    data_format: Literal["channels_last", "channels_first"] | None = None

    @model_validator(mode="after")
    def _check(self) -> STFTSpectrogram:
        if self.frame_step is not None and self.frame_step > self.frame_length:
            raise PydanticCustomError(
                "frame_step",
                "frame_step ({step}) must be a positive integer not greater than "
                "frame_length ({length})",
                {"step": self.frame_step, "length": self.frame_length},
            )
        if self.frame_step is None and self.frame_length < 2:
            raise PydanticCustomError(
                "frame_step",
                "frame_length 1 needs a frame_step (its default, frame_length // 2, is 0)",
            )
        if self.fft_length is not None and self.fft_length < self.frame_length:
            raise PydanticCustomError(
                "fft_length",
                "fft_length ({fft}) must be at least frame_length ({length})",
                {"fft": self.fft_length, "length": self.frame_length},
            )
        _check_window_length(self.window, self.frame_length, "frame_length")
        return self

    @property
    def step(self) -> int:
        """Keras's `_frame_step`."""
        return self.frame_step or self.frame_length // 2

    @property
    def fft_size(self) -> int:
        """Keras's `_fft_length`: `fft_length`, or the next power of two of frame_length."""
        return self.fft_length or 1 << (self.frame_length - 1).bit_length()

    @property
    def channels_first(self) -> bool:
        return self.data_format == "channels_first"

    @property
    def kernels(self) -> list[str]:
        """The weights Keras's `build` makes, in its order."""
        return [
            *["real_kernel"] * (self.mode != "imag"),
            *["imag_kernel"] * (self.mode != "real"),
        ]
