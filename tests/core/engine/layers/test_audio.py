"""MelSpectrogram and STFTSpectrogram against real Keras 3.15 (torch backend): shapes (also
with the time axis unknown), parameter counts, weight names and trainable flags, the
DFT kernels Keras's `build` makes, and outputs for the same inputs and weights
(`audio_outputs.json`, written by `tests/data/keras/gen_audio.py`).

Tolerance: 1e-5 relative and 1e-5 absolute for every output. The decibel outputs
(MelSpectrogram with `power_to_db`) reach about ±100, so 1e-5 relative allows 1e-3 dB
there, while a float32 rounding of the power moves its dB by 10 / ln(10) * 6e-8 ≈ 3e-7 dB:
the relative bound is the one that fits a value given on a log scale, and still catches a
wrong reference, filter or floor (each moves values by tenths of a dB or more). Measured:
the STFT outputs agree exactly, the dB outputs within 4e-6 dB. Angles
are compared modulo 2π (a zero imaginary part's sign picks π or -π).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from cornu.core.engine.layers import Layer, ShapeError
from cornu.core.engine.layers.audio import scipy_window
from cornu.core.engine.layers.base import UNKNOWN_SIZES
from cornu.core.spec.layers import parse_layer
from cornu.core.spec.layers.audio import STFT_WINDOWS
from tests.core.engine.layers.keras_reference import build_one

DATA = Path(__file__).parents[3] / "data" / "keras" / "audio_outputs.json"
CASES: dict[str, Any] = json.loads(DATA.read_text())["cases"]


def case_layer(case_id: str) -> tuple[Layer, torch.Tensor]:
    case = CASES[case_id]
    x = torch.tensor(case["input"], dtype=torch.float32)
    layer = build_one(case["layer"], tuple(x.shape[1:]))
    with torch.no_grad():
        for name, value in case.get("set_weights", {}).items():
            layer.keras_weights()[name].copy_(torch.tensor(value))
    return layer, x


def close(actual: torch.Tensor, values: Any) -> None:
    torch.testing.assert_close(
        actual, torch.tensor(values, dtype=torch.float32), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("case_id", list(CASES))
def test_shapes_counts_and_weights_match_keras(case_id: str) -> None:
    case = CASES[case_id]
    layer, _ = case_layer(case_id)
    assert list(layer.output_shape) == case["output_shape"]  # what Keras computed
    total = case["params"]
    trainable = sum(
        math.prod(np.shape(v)) for k, v in case["initial_weights"].items() if case["weights"][k]
    )
    assert layer.count_params() == (total, trainable)
    assert [(w.name, w.trainable) for w in layer.weights_info] == list(case["weights"].items())


@pytest.mark.parametrize("case_id", list(CASES))
def test_an_unknown_time_length_stays_unknown(case_id: str) -> None:
    """Built with each placeholder size for the unknown time axis, as a summary builds:
    the output's time axis differs (None), the others are Keras's."""
    case = CASES[case_id]
    given = list(np.shape(case["input"])[1:])
    time_axis = 1 if case["layer"].get("data_format") == "channels_first" else 0
    shapes = []
    for size in UNKNOWN_SIZES:
        given[time_axis] = size
        shapes.append(build_one(case["layer"], tuple(given)).output_shape)
    assert [a if a == b else None for a, b in zip(*shapes, strict=True)] == case[
        "unknown_output_shape"
    ]


@pytest.mark.parametrize("case_id", [k for k in CASES if CASES[k]["initial_weights"]])
def test_the_dft_kernels_are_the_ones_keras_builds(case_id: str) -> None:
    layer = build_one(CASES[case_id]["layer"], tuple(np.shape(CASES[case_id]["input"])[1:]))
    ours = layer.keras_weights()
    for name, values in CASES[case_id]["initial_weights"].items():
        torch.testing.assert_close(
            ours[name], torch.tensor(values, dtype=torch.float32), rtol=1e-5, atol=1e-6
        )


@pytest.mark.parametrize("case_id", list(CASES))
def test_outputs_match_keras(case_id: str) -> None:
    layer, x = case_layer(case_id)
    with torch.no_grad():
        out = layer.eval()(x)
    assert out.dtype == torch.float32
    expected = CASES[case_id]["output"]
    if CASES[case_id]["layer"].get("mode") == "angle":
        turn = torch.remainder(out - torch.tensor(expected) + math.pi, 2 * math.pi) - math.pi
        close(turn, np.zeros(np.shape(expected)))
    else:
        close(out, expected)


def test_keras_miscounts_the_frames_where_the_stride_divides_samples_plus_one() -> None:
    """Cornu's shape is the one Keras's stft gives, not its `compute_output_shape`."""
    case = CASES["mel_frames_keras_miscounts"]
    layer, _ = case_layer("mel_frames_keras_miscounts")
    assert list(layer.output_shape) == case["output_shape"]
    assert case["keras_output_shape"][-1] == case["output_shape"][-1] + 1


def test_top_db_floors_at_the_maximum_of_the_whole_batch() -> None:
    """The quiet second sample (1e-3 of the first's amplitude, 60 dB down) lies wholly
    below the loud one's maximum - top_db, so Keras floors all of it there; alone, its
    own maximum would set the floor and leave its values apart."""
    layer, x = case_layer("mel_top_db_over_the_batch")
    out = layer(x)
    torch.testing.assert_close(out[1], torch.full_like(out[1], out.max().item() - 30.0))
    alone = layer(x[1:])
    assert alone.max() - alone.min() > 1.0


@pytest.mark.parametrize("name", STFT_WINDOWS)
@pytest.mark.parametrize("periodic", [False, True])
def test_windows_are_scipys(name: str, periodic: bool) -> None:
    from scipy.signal import get_window

    for length in (1, 2, 5, 8, 9, 16, 17):
        np.testing.assert_allclose(
            scipy_window(name, length, periodic).numpy(),
            get_window(name, length, fftbins=periodic),
            atol=1e-12,
        )


def test_the_kernels_train_unless_frozen() -> None:
    spec = {"type": "STFTSpectrogram", "frame_length": 8, "mode": "magnitude"}
    layer = build_one(spec, (20, 1))
    layer(torch.rand(2, 20, 1)).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in layer.parameters())
    frozen = build_one({**spec, "trainable": False}, (20, 1))
    assert not any(p.requires_grad for p in frozen.parameters())
    assert frozen.count_params() == (2 * 8 * 5, 0)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "STFTSpectrogram", "frame_length": 8, "frame_step": 9}, "frame_step"),
        ({"type": "STFTSpectrogram", "frame_length": 8, "fft_length": 4}, "fft_length"),
        ({"type": "STFTSpectrogram", "window": "kaiser"}, "valid windows"),
        ({"type": "STFTSpectrogram", "frame_length": 4, "window": [1, 1, 1]}, "frame_length=4"),
        ({"type": "STFTSpectrogram", "mode": "power"}, "mode"),
        ({"type": "STFTSpectrogram", "padding": "causal"}, "padding"),
        ({"type": "MelSpectrogram", "fft_length": 64, "sequence_length": 128}, "fft_length"),
        ({"type": "MelSpectrogram", "window": "blackman"}, "window"),
        ({"type": "MelSpectrogram", "fft_length": 8, "window": [1.0] * 4}, "sequence_length=8"),
    ],
)
def test_bad_arguments_are_refused_with_their_name(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_layer(spec)


def test_the_resolved_defaults_are_keras_config() -> None:
    s = parse_layer({"type": "MelSpectrogram", "fft_length": 512, "sampling_rate": 22050})
    assert (s.sequence_length, s.max_freq) == (512, 11025)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("spec", "shape"),
    [
        ({"type": "MelSpectrogram", "fft_length": 64}, (32,)),  # reflection needs 33
        ({"type": "STFTSpectrogram", "frame_length": 16}, (15, 2)),
        ({"type": "STFTSpectrogram", "frame_length": 16}, (16,)),
        ({"type": "MelSpectrogram"}, (100, 1)),
    ],
)
def test_inputs_it_cannot_take_are_refused(spec: dict[str, Any], shape: tuple[int, ...]) -> None:
    with pytest.raises(ShapeError):
        build_one(spec, shape)
