"""Keras 3 reference outputs for the audio layers, MelSpectrogram and STFTSpectrogram.

Every expected number in audio_outputs.json was computed by real Keras. Each case holds
the layer's arguments, its input (a batch of 2), Keras's output shape from
`compute_output_shape` (`keras_output_shape`, the batch left out) and with the time axis
unknown (`unknown_output_shape`, from a model on `Input((None, …))`), the shape of what
it computed (`output_shape`), the parameter counts and weights (names, trainable flags
and the values Keras's `build` made, STFTSpectrogram's DFT kernels), and `output`.
`set_weights` cases replace the kernels with other values first, so a layer that
ignored its weights would fail.

Produced with python 3.11, keras 3.15.1 (torch backend), torch 2.13.0+cpu, numpy 2.4.6,
scipy 1.17.1. Regenerate (from the repository root):
    KERAS_BACKEND=torch .venv/bin/python tests/data/keras/gen_audio.py
"""

from keras_ref import keras, layers, np, write_json

rng = np.random.default_rng(20260611)


def signal(*shape, scale=1.0):
    """Inputs rounded to 3 decimals, so the JSON holds them exactly."""
    return np.round(rng.uniform(-scale, scale, shape), 3).astype("float32")


def exact(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype="float64").tolist()


def case(kind, args, x, set_weights=False):
    layer = getattr(layers, kind)(**args)
    layer.build((None, *x.shape[1:]))
    unknown = (None,) if kind == "MelSpectrogram" else (None, x.shape[2])
    if kind == "STFTSpectrogram" and args.get("data_format") == "channels_first":
        unknown = (x.shape[1], None)
    model = keras.Sequential([keras.Input(unknown), getattr(layers, kind)(**args)])
    out = {
        "layer": {"type": kind, **args},
        "input": np.asarray(x, dtype="float64").tolist(),
        "keras_output_shape": list(layer.compute_output_shape((None, *x.shape[1:]))[1:]),
        "unknown_output_shape": list(model.output_shape[1:]),
        "params": layer.count_params(),
        "weights": {w.path.split("/", 1)[1]: w.trainable for w in layer.weights},
        "initial_weights": {w.path.split("/", 1)[1]: exact(w) for w in layer.weights},
    }
    if set_weights:
        given = [np.round(rng.normal(0, 0.3, w.shape), 3).astype("float32") for w in layer.weights]
        layer.set_weights(given)
        out["set_weights"] = {
            w.path.split("/", 1)[1]: g.astype("float64").tolist()
            for w, g in zip(layer.weights, given, strict=True)
        }
    y = layer(x)
    out["output_shape"] = list(y.shape[1:])
    out["output"] = exact(y)
    return out


def stft_cases():
    x = signal(2, 40, 2)
    first = np.ascontiguousarray(x.transpose(0, 2, 1))
    yield "stft_default_log", case("STFTSpectrogram", {"frame_length": 16}, x)
    yield "stft_magnitude_hamming_same", case(
        "STFTSpectrogram",
        {"mode": "magnitude", "frame_length": 12, "frame_step": 5, "window": "hamming",
         "padding": "same"},
        x,
    )  # fmt: skip
    yield "stft_psd_periodic_spectrum", case(
        "STFTSpectrogram",
        {"mode": "psd", "frame_length": 16, "frame_step": 4, "fft_length": 32,
         "periodic": True, "scaling": "spectrum"},
        x,
    )  # fmt: skip
    yield (
        "stft_real_channels_first",
        case(
            "STFTSpectrogram",
            {
                "mode": "real",
                "frame_length": 8,
                "window": "blackman",
                "data_format": "channels_first",
            },
            first,
        ),
    )
    yield "stft_imag_expand_dims", case(
        "STFTSpectrogram",
        {"mode": "imag", "frame_length": 10, "frame_step": 3, "window": "triang",
         "expand_dims": True, "trainable": False},
        x,
    )  # fmt: skip
    yield (
        "stft_angle_no_window",
        case("STFTSpectrogram", {"mode": "angle", "frame_length": 8, "window": None}, x),
    )
    yield "stft_stft_channels_first_expand_same", case(
        "STFTSpectrogram",
        {"mode": "stft", "frame_length": 8, "frame_step": 3, "padding": "same",
         "expand_dims": True, "data_format": "channels_first", "window": "bartlett"},
        first,
    )  # fmt: skip
    yield "stft_listed_window_no_scaling", case(
        "STFTSpectrogram",
        {"mode": "log", "frame_length": 6, "frame_step": 2, "scaling": None,
         "window": [0.1, 0.5, 1.0, 1.0, 0.5, 0.1]},
        x,
    )  # fmt: skip
    yield (
        "stft_odd_fft_length",
        case(
            "STFTSpectrogram",
            {"mode": "magnitude", "frame_length": 12, "fft_length": 17, "window": "flattop"},
            x,
        ),
    )
    for window in ("blackmanharris", "nuttall", "bohman", "parzen", "cosine", "barthann", "boxcar"):
        yield f"stft_window_{window}", case(
            "STFTSpectrogram",
            {"mode": "magnitude", "frame_length": 9, "frame_step": 4, "window": window,
             "periodic": window in ("parzen", "cosine")},
            x,
        )  # fmt: skip
    yield (
        "stft_set_weights_log",
        case("STFTSpectrogram", {"frame_length": 8, "frame_step": 4}, x, set_weights=True),
    )
    yield "stft_set_weights_stft", case(
        "STFTSpectrogram", {"mode": "stft", "frame_length": 8, "expand_dims": True}, x,
        set_weights=True,
    )  # fmt: skip


def mel_cases():
    x = signal(2, 100)
    quiet = x * np.array([[1.0], [1e-3]], dtype="float32")  # the floor is the batch's
    mel = {"fft_length": 64, "sequence_stride": 16, "num_mel_bins": 8, "sampling_rate": 8000}
    yield "mel_small", case("MelSpectrogram", mel, x)
    yield "mel_top_db_over_the_batch", case("MelSpectrogram", {**mel, "top_db": 30.0}, quiet)
    yield (
        "mel_hamming_magnitude",
        case(
            "MelSpectrogram",
            {
                **mel,
                "window": "hamming",
                "sequence_length": 48,
                "mag_exp": 1.0,
                "power_to_db": False,
            },
            x,
        ),
    )
    yield "mel_no_window_band", case(
        "MelSpectrogram",
        {**mel, "window": None, "min_freq": 100.0, "max_freq": 3000.0, "ref_power": 2.0,
         "min_power": 1e-6, "top_db": 20.0},
        x,
    )  # fmt: skip
    yield "mel_listed_window", case(
        "MelSpectrogram",
        {"fft_length": 16, "sequence_stride": 5, "sequence_length": 8, "num_mel_bins": 4,
         "sampling_rate": 4000, "window": [0.2, 0.5, 0.8, 1.0, 1.0, 0.8, 0.5, 0.2]},
        x,
    )  # fmt: skip
    yield "mel_odd_fft_length", case(
        "MelSpectrogram",
        {"fft_length": 63, "sequence_length": 40, "sequence_stride": 16, "num_mel_bins": 6,
         "sampling_rate": 16000, "mag_exp": 3.0},
        x,
    )  # fmt: skip
    # Keras's compute_output_shape says 6 frames here, its stft gives 5: 99 + 1 is a
    # multiple of the stride, where `(samples + stride + 1) // stride` counts one too many.
    yield (
        "mel_frames_keras_miscounts",
        case("MelSpectrogram", {**mel, "sequence_stride": 20}, np.ascontiguousarray(x[:, :99])),
    )
    yield (
        "mel_22050",
        case(
            "MelSpectrogram",
            {"fft_length": 128, "sequence_stride": 32, "num_mel_bins": 20, "sampling_rate": 22050},
            x,
        ),
    )
    yield "mel_defaults", case("MelSpectrogram", {}, signal(2, 2048))


if __name__ == "__main__":
    write_json(
        "audio_outputs.json",
        {"keras": keras.__version__, "cases": dict([*stft_cases(), *mel_cases()])},
    )
