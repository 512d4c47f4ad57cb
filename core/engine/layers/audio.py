"""Keras's audio layers, as Keras's torch backend computes them: MelSpectrogram
(`torch.stft` and HTK mel filters, `keras/src/layers/preprocessing/mel_spectrogram.py`)
and STFTSpectrogram (a strided convolution with DFT kernels made by Keras's `STFT`
initializer, `keras/src/initializers/constant_initializers.py`).

MelSpectrogram takes `(batch, samples)`; STFTSpectrogram `(batch, time, channels)`, or
`(batch, channels, time)` with `data_format="channels_first"`. A time axis of unknown
size (None) stays unknown.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from cornu.core.engine.layers.base import UNKNOWN_SIZES, Layer, Shape, ShapeError, register
from cornu.core.engine.layers.convolutional import same_padding
from cornu.core.spec.layers import audio as spec

_KERAS_EPSILON = 1e-7  # keras.backend.epsilon()
_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def _unknown_if_short(size: int, needed: int, layer: str, why: str) -> int | None:
    """None when `size` is long enough; else `size` itself when it is a placeholder for
    an unknown size (Keras builds with None: any length may come); else a ShapeError."""
    if size >= needed:
        return None
    if size in UNKNOWN_SIZES:
        return size
    raise ShapeError(f"{layer}: {size} samples are too few; {why} needs at least {needed}")


# -- windows (scipy.signal.windows, computed in float64 as scipy does) -----------------

_COSINE_SUMS = {
    "boxcar": (1.0,),
    "hann": (0.5, 0.5),
    "hamming": (0.54, 0.46),
    "blackman": (0.42, 0.50, 0.08),
    "nuttall": (0.3635819, 0.4891775, 0.1365995, 0.0106411),
    "blackmanharris": (0.35875, 0.48829, 0.14128, 0.01168),
    "flattop": (0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368),
}


def _symmetric(name: str, m: int) -> Tensor:
    """scipy's symmetric window of `m` points (`m >= 2`)."""
    f64 = torch.float64
    n = torch.arange(m, dtype=f64)
    if name in _COSINE_SUMS:  # scipy's general_cosine
        fac = torch.linspace(-math.pi, math.pi, m, dtype=f64)
        return sum(
            (a * torch.cos(k * fac) for k, a in enumerate(_COSINE_SUMS[name])),
            torch.zeros(m, dtype=f64),
        )
    if name == "triang":
        k = torch.arange(1, (m + 1) // 2 + 1, dtype=f64)
        if m % 2 == 0:
            half = (2 * k - 1.0) / m
            return torch.cat([half, half.flip(0)])
        half = 2 * k / (m + 1.0)
        return torch.cat([half, half[:-1].flip(0)])
    if name == "bartlett":
        return torch.where(n <= (m - 1) / 2.0, 2.0 * n / (m - 1), 2.0 - 2.0 * n / (m - 1))
    if name == "bohman":
        fac = torch.linspace(-1, 1, m, dtype=f64)[1:-1].abs()
        inner = (1 - fac) * torch.cos(math.pi * fac) + 1.0 / math.pi * torch.sin(math.pi * fac)
        return torch.cat([torch.zeros(1, dtype=f64), inner, torch.zeros(1, dtype=f64)])
    if name == "parzen":
        x = torch.arange(-(m - 1) / 2.0, (m - 1) / 2.0 + 0.5, 1.0, dtype=f64)
        outer = x[x < -(m - 1) / 4.0]
        middle = x[x.abs() <= (m - 1) / 4.0]
        wa = 2 * (1 - outer.abs() / (m / 2.0)) ** 3
        wb = 1 - 6 * (middle.abs() / (m / 2.0)) ** 2 + 6 * (middle.abs() / (m / 2.0)) ** 3
        return torch.cat([wa, wb, wa.flip(0)])
    if name == "cosine":
        return torch.sin(math.pi / m * (n + 0.5))
    if name == "barthann":
        fac = (n / (m - 1) - 0.5).abs()
        return 0.62 - 0.48 * fac + 0.38 * torch.cos(2 * math.pi * fac)
    raise ValueError(f"unknown window {name!r}")


def scipy_window(name: str, length: int, periodic: bool) -> Tensor:
    """`scipy.signal.get_window(name, length, fftbins=periodic)` in float64: a periodic
    window is the symmetric one of `length + 1` points without its last."""
    if length == 1:
        return torch.ones(1, dtype=torch.float64)
    return _symmetric(name, length + 1)[:-1] if periodic else _symmetric(name, length)


def stft_kernel(side: str, s: spec.STFTSpectrogram) -> Tensor:
    """Keras's `STFT` initializer for a `(frame_length, 1, fft_length // 2 + 1)` kernel,
    in float32 and in its order of operations (so the numbers are Keras's own)."""
    frame_length, bins = s.frame_length, s.fft_size // 2 + 1
    f32 = torch.float32
    scaling: Tensor | float = 1.0
    win = None
    if s.window is not None:
        if isinstance(s.window, str):
            win = scipy_window(s.window, frame_length, s.periodic).to(f32)
        else:
            win = torch.tensor(s.window, dtype=f32)
        win = win.reshape(frame_length, 1, 1)
        if s.scaling == "density":
            scaling = torch.sqrt(torch.sum(torch.square(win)))
        elif s.scaling == "spectrum":
            scaling = torch.sum(torch.abs(win))
    # Keras divides by (bins - 1) * 2: an odd fft_length's kernels are those of the even one below.
    freq = torch.arange(bins, dtype=f32).reshape(1, 1, bins) / ((bins - 1) * 2)
    time = torch.arange(frame_length, dtype=f32).reshape(frame_length, 1, 1)
    args = (-2 * time) * freq * torch.arccos(torch.tensor(-1, dtype=f32))
    kernel = torch.cos(args) if side == "real" else torch.sin(args)
    if win is not None:
        kernel = kernel * win / scaling
    return kernel


@register
class STFTSpectrogram(Layer):
    """Each channel's frames convolved with the real and imaginary DFT kernels (Keras's
    `_apply_conv`), then the `mode`'s output, laid out as Keras's `_adjust_shapes`."""

    spec_type = spec.STFTSpectrogram

    def __init__(self, s: spec.STFTSpectrogram, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        shape = (s.frame_length, 1, s.fft_size // 2 + 1)
        for side, name in (("real", "real_kernel"), ("imag", "imag_kernel")):
            if name in s.kernels:
                weight = self.add_weight(name, shape, "zeros")
                with torch.no_grad():
                    weight.copy_(stft_kernel(side, s))

    @classmethod
    def compute_output_shape(cls, s: spec.STFTSpectrogram, input_shape: Shape) -> Shape:
        if len(input_shape) != 2:
            axes = "(channels, time)" if s.channels_first else "(time, channels)"
            raise ShapeError(f"STFTSpectrogram takes signals of shape {axes}, not {input_shape}")
        channels, time = input_shape if s.channels_first else input_shape[::-1]
        frames = cls.frames(s, time)
        bins = (s.fft_size // 2 + 1) * (2 if s.mode == "stft" else 1)
        if s.expand_dims:
            return (channels, frames, bins) if s.channels_first else (frames, bins, channels)
        return (channels * bins, frames) if s.channels_first else (frames, channels * bins)

    @staticmethod
    def frames(s: spec.STFTSpectrogram, time: int) -> int:
        """Keras's `compute_conv_output_shape` along time (a "same" output is ceil(time / step))."""
        if s.padding == "same":
            return math.ceil(time / s.step)
        short = _unknown_if_short(time, s.frame_length, "STFTSpectrogram", "padding='valid'")
        return short if short is not None else (time - s.frame_length) // s.step + 1

    def _conv(self, signals: Tensor, kernel: Tensor) -> Tensor:
        """`(batch * channels, 1, time)` to `(batch * channels, bins, frames)`."""
        if self.spec.padding == "same":
            signals = F.pad(
                signals, same_padding(signals.shape[-1], self.spec.frame_length, self.spec.step)
            )
        weight = kernel.to(signals.dtype).permute(2, 1, 0)  # Keras's (k, in, out) as torch's
        return F.conv1d(signals, weight, stride=self.spec.step)

    def _mode(self, parts: dict[str, Tensor]) -> Tensor:
        """Keras's `call` after the convolutions: `(batch * channels, bins, frames)`."""
        mode = self.spec.mode
        if mode in ("real", "imag"):
            return parts[f"{mode}_kernel"]
        real, imag = parts["real_kernel"], parts["imag_kernel"]
        if mode == "angle":
            return torch.atan2(imag, real)
        if mode == "stft":
            return torch.cat([real, imag], dim=1)
        power = real.square() + imag.square()
        if mode == "psd":  # the bins between DC and the last count twice
            return power + F.pad(power[:, 1:-1], (0, 0, 1, 1))
        magnitude = torch.sqrt(torch.clamp(power, min=_KERAS_EPSILON))
        if mode == "magnitude":
            return magnitude
        return torch.log(torch.clamp(magnitude, min=_KERAS_EPSILON))

    def forward(self, x: Tensor) -> Tensor:
        s = self.spec
        batch = x.shape[0]
        signals = x if s.channels_first else x.transpose(1, 2)
        channels = signals.shape[1]
        signals = signals.reshape(-1, 1, signals.shape[-1])
        out = self._mode({name: self._conv(signals, getattr(self, name)) for name in s.kernels})
        out = out.reshape(batch, channels, *out.shape[1:])  # (batch, channels, bins, frames)
        if s.expand_dims:
            return out.permute(0, 3, 2, 1) if not s.channels_first else out.transpose(2, 3)
        out = out.reshape(batch, -1, out.shape[-1])  # (batch, channels * bins, frames)
        return out if s.channels_first else out.transpose(1, 2)


@register
class MelSpectrogram(Layer):
    """Keras's `_spectrogram`, `_melscale` and `_dbscale` on `(batch, samples)`, giving
    `(batch, num_mel_bins, frames)`."""

    spec_type = spec.MelSpectrogram

    def __init__(self, s: spec.MelSpectrogram, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.register_buffer("window", self._window(s), persistent=False)
        self.register_buffer("mel_matrix", mel_weight_matrix(s), persistent=False)

    @staticmethod
    def _window(s: spec.MelSpectrogram) -> Tensor:
        """Keras's torch `stft` window: periodic Hann or Hamming, ones for None, or given."""
        length = s.frame_length
        if s.window == "hann":
            return torch.hann_window(length, periodic=True)
        if s.window == "hamming":
            return torch.hamming_window(length, periodic=True)
        if s.window is None:
            return torch.ones(length)
        return torch.tensor(s.window, dtype=torch.float32)

    @classmethod
    def compute_output_shape(cls, s: spec.MelSpectrogram, input_shape: Shape) -> Shape:
        if len(input_shape) != 1:
            raise ShapeError(
                f"MelSpectrogram takes audio of shape (samples,) per sample, not {input_shape}"
            )
        (samples,) = input_shape
        # torch.stft's centring pads fft_length // 2 on each side by reflection, which
        # needs more samples than that.
        short = _unknown_if_short(
            samples, s.fft_length // 2 + 1, "MelSpectrogram", f"fft_length={s.fft_length}"
        )
        if short is not None:
            return (s.num_mel_bins, short)
        # What torch.stft gives; Keras's compute_output_shape says (samples + stride + 1)
        # // stride, one more frame than it computes when stride divides samples + 1 (or,
        # for an odd fft_length, samples).
        padded = samples + 2 * (s.fft_length // 2)
        return (s.num_mel_bins, 1 + (padded - s.fft_length) // s.sequence_stride)

    def forward(self, x: Tensor) -> Tensor:
        s = self.spec
        stft = torch.stft(
            x.float(),
            n_fft=s.fft_length,
            hop_length=s.sequence_stride,
            win_length=s.frame_length,
            window=self.get_buffer("window"),
            center=True,
            return_complex=True,
        ).transpose(-2, -1)  # (batch, frames, bins)
        spec_ = torch.sqrt(stft.real.square() + stft.imag.square()) ** s.mag_exp
        out = torch.tensordot(spec_, self.get_buffer("mel_matrix"), dims=1)
        if s.power_to_db:
            out = 10.0 * torch.log10(torch.clamp(out, min=s.min_power))
            ref = torch.tensor(abs(s.ref_power), dtype=out.dtype, device=out.device)
            out = out - 10.0 * torch.log10(torch.clamp(ref, min=s.min_power))
            # Keras floors at the maximum of the whole batch, not of each sample.
            out = torch.maximum(out, out.max() - s.top_db)
        return out.transpose(-1, -2)


def _hertz_to_mel(frequencies: Tensor) -> Tensor:
    return _MEL_HIGH_FREQUENCY_Q * torch.log(1.0 + frequencies / _MEL_BREAK_FREQUENCY_HERTZ)


def _linspace(start: Tensor, stop: Tensor, num: int) -> Tensor:
    """Keras's torch `linspace` for tensor ends: `start + arange(num) / (num - 1) * (stop -
    start)`, not `torch.linspace`."""
    steps = torch.arange(num, dtype=torch.float32) / (num - 1)
    return start[None] + steps * (stop - start)[None]


def mel_weight_matrix(s: spec.MelSpectrogram) -> Tensor:
    """Keras's `linear_to_mel_weight_matrix` `(fft_length // 2 + 1, num_mel_bins)`: HTK
    triangles with peak 1, linear in mels, the DC bin zeroed; float32 as Keras."""
    f32 = torch.float32
    bins, mels = s.fft_length // 2 + 1, s.num_mel_bins
    zero = torch.tensor(0.0, dtype=f32)
    nyquist = torch.tensor(float(s.sampling_rate), dtype=f32) / 2.0
    linear = _linspace(zero, nyquist, bins)[1:]
    bins_mel = _hertz_to_mel(linear).unsqueeze(1)
    assert s.max_freq is not None  # resolved by the spec
    lower_hz = torch.tensor(s.min_freq, dtype=f32)
    upper_hz = torch.tensor(s.max_freq, dtype=f32)
    edges = _linspace(_hertz_to_mel(lower_hz), _hertz_to_mel(upper_hz), mels + 2)
    lower, center, upper = (edges[i : i + mels].reshape(1, mels) for i in range(3))
    lower_slopes = (bins_mel - lower) / (center - lower)
    upper_slopes = (upper - bins_mel) / (upper - center)
    weights = torch.maximum(zero, torch.minimum(lower_slopes, upper_slopes))
    return F.pad(weights, (0, 0, 1, 0))
