"""Generate conv_pooling_reshaping_more_outputs.json: Keras 3's outputs for the 1-D and
3-D convolutions, transposed, depthwise and separable convolutions, 3-D and adaptive
pooling, 1-D/3-D upsampling, padding and cropping, and ConvLSTM1D/2D/3D, with given
weights.

Each case has the form of gen_conv_pooling_reshaping.py's (whose `case` function this
script uses): the layer (Keras's argument names, which Cornu's specs share), its input
shape (batch excluded), a tiny input, the weights set with `layer.set_weights` in Keras's
layouts under their Keras names, and Keras's output shape, parameter counts, serialized
config and output. A ConvLSTM case's mask (batch, timesteps) is passed to the layer's
call (a Masking layer would mask per position, not per step), and with
`return_state=True` its final states are kept beside the output (`states`).

The JAX backend computes the reference, as for gen_conv_pooling_reshaping.py (it computes
what TensorFlow computes). Run a second time under Keras's torch backend, the script
checks that backend's outputs against the file: they agree on every case but those in
`TORCH_BACKEND_DIFFERS` (its AveragePooling averages uneven "same" padding in).

Produced with python 3.11, keras 3.15.1 (JAX backend, jax 0.10.2), numpy 2.4.6, then
checked with keras 3.15.1 on torch 2.13.0+cpu (the project's .venv). Regenerate (from the
repository root):
    python3 -m venv /tmp/kerasref-conv
    /tmp/kerasref-conv/bin/pip install keras==3.15.1 jax numpy==2.4.6
    KERAS_BACKEND=jax /tmp/kerasref-conv/bin/python tests/data/keras/gen_conv_pooling_reshaping_more.py
    KERAS_BACKEND=torch .venv/bin/python tests/data/keras/gen_conv_pooling_reshaping_more.py
"""

import json
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from gen_conv_pooling_reshaping import BATCH, case, rounded  # noqa: E402

OUT = Path(__file__).resolve().parent / "conv_pooling_reshaping_more_outputs.json"

# id: (layer type, arguments, input shape without the batch).
CASES = {
    "conv3d_valid_relu": (
        "Conv3D",
        {"filters": 3, "kernel_size": 2, "activation": "relu"},
        (3, 4, 3, 2),
    ),
    "conv3d_same_s2": (
        "Conv3D",
        {"filters": 2, "kernel_size": (3, 2, 3), "strides": 2, "padding": "same"},
        (4, 5, 3, 2),
    ),
    "conv3d_dilated_same": (
        "Conv3D",
        {"filters": 2, "kernel_size": 2, "dilation_rate": (1, 2, 2), "padding": "same"},
        (3, 4, 4, 1),
    ),
    "conv3d_groups": (
        "Conv3D",
        {"filters": 4, "kernel_size": (1, 2, 2), "groups": 2, "use_bias": False},
        (2, 3, 3, 4),
    ),
    "conv1dT_same_s2": (
        "Conv1DTranspose",
        {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"},
        (5, 2),
    ),
    "conv1dT_valid_output_padding": (
        "Conv1DTranspose",
        {"filters": 2, "kernel_size": 3, "strides": 3, "output_padding": 2},
        (4, 2),
    ),
    "conv1dT_same_k4_s2": (
        "Conv1DTranspose",
        {"filters": 2, "kernel_size": 4, "strides": 2, "padding": "same", "activation": "tanh"},
        (4, 3),
    ),
    "conv1dT_dilated_same": (
        "Conv1DTranspose",
        {"filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "same"},
        (6, 2),
    ),
    "conv3dT_same_s2": (
        "Conv3DTranspose",
        {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"},
        (2, 3, 2, 2),
    ),
    "conv3dT_valid": (
        "Conv3DTranspose",
        {"filters": 2, "kernel_size": (2, 3, 2), "strides": (2, 1, 3)},
        (2, 2, 3, 1),
    ),
    "conv3dT_same_output_padding": (
        "Conv3DTranspose",
        {
            "filters": 1,
            "kernel_size": 2,
            "strides": (2, 3, 2),
            "padding": "same",
            "output_padding": (1, 2, 0),
        },
        (2, 2, 2, 2),
    ),
    "dw1d_valid_dm2": ("DepthwiseConv1D", {"kernel_size": 3, "depth_multiplier": 2}, (6, 3)),
    "dw1d_same_s2": (
        "DepthwiseConv1D",
        {"kernel_size": 4, "strides": 2, "padding": "same", "activation": "relu"},
        (7, 2),
    ),
    "dw2d_same_s2_dm2": (
        "DepthwiseConv2D",
        {"kernel_size": 3, "strides": 2, "padding": "same", "depth_multiplier": 2},
        (5, 6, 2),
    ),
    "dw2d_dilated": (
        "DepthwiseConv2D",
        {"kernel_size": (2, 3), "dilation_rate": 2, "use_bias": False},
        (5, 6, 3),
    ),
    "sep1d_valid": ("SeparableConv1D", {"filters": 3, "kernel_size": 3}, (6, 2)),
    "sep1d_dm2_same_s2": (
        "SeparableConv1D",
        {
            "filters": 2,
            "kernel_size": 3,
            "depth_multiplier": 2,
            "strides": 2,
            "padding": "same",
            "activation": "tanh",
        },
        (8, 3),
    ),
    "sep1d_dilated_same": (
        "SeparableConv1D",
        {"filters": 2, "kernel_size": 2, "dilation_rate": 3, "padding": "same"},
        (7, 2),
    ),
    "maxpool3d_valid": ("MaxPooling3D", {"pool_size": 2}, (3, 4, 5, 2)),
    "maxpool3d_same_s2": (
        "MaxPooling3D",
        {"pool_size": (3, 2, 3), "strides": 2, "padding": "same"},
        (4, 5, 5, 1),
    ),
    "avgpool3d_valid": ("AveragePooling3D", {"pool_size": (2, 1, 2)}, (4, 3, 4, 2)),
    "avgpool3d_same_s2": (
        "AveragePooling3D",
        {"pool_size": 3, "strides": 2, "padding": "same"},
        (4, 5, 4, 1),
    ),
    "avgpool3d_same_s1": (
        "AveragePooling3D",
        {"pool_size": 3, "strides": 1, "padding": "same"},
        (3, 3, 4, 1),
    ),
    "gmax3d": ("GlobalMaxPooling3D", {}, (2, 3, 2, 2)),
    "gmax3d_keepdims": ("GlobalMaxPooling3D", {"keepdims": True}, (2, 3, 2, 2)),
    "gavg3d": ("GlobalAveragePooling3D", {}, (2, 3, 2, 2)),
    "gavg3d_keepdims": ("GlobalAveragePooling3D", {"keepdims": True}, (2, 3, 2, 2)),
    "adavg1d": ("AdaptiveAveragePooling1D", {"output_size": 3}, (7, 2)),
    "adavg1d_up": ("AdaptiveAveragePooling1D", {"output_size": 5}, (3, 2)),
    "adavg2d": ("AdaptiveAveragePooling2D", {"output_size": (2, 3)}, (5, 7, 2)),
    "adavg3d": ("AdaptiveAveragePooling3D", {"output_size": 2}, (3, 5, 4, 1)),
    "admax1d": ("AdaptiveMaxPooling1D", {"output_size": 4}, (10, 2)),
    "admax2d": ("AdaptiveMaxPooling2D", {"output_size": 3}, (7, 5, 2)),
    "admax3d": ("AdaptiveMaxPooling3D", {"output_size": (2, 1, 3)}, (4, 3, 5, 1)),
    "up1d": ("UpSampling1D", {"size": 3}, (4, 2)),
    "up3d": ("UpSampling3D", {"size": (2, 1, 3)}, (2, 3, 2, 2)),
    "zpad1d_asym": ("ZeroPadding1D", {"padding": (2, 1)}, (3, 2)),
    "zpad3d_mixed": ("ZeroPadding3D", {"padding": (1, (0, 2), (2, 1))}, (2, 2, 3, 1)),
    "crop1d": ("Cropping1D", {"cropping": (1, 2)}, (6, 2)),
    "crop3d": ("Cropping3D", {"cropping": ((1, 0), (0, 2), 1)}, (3, 4, 5, 1)),
}

# id: (layer type, arguments, input shape without the batch[, mask]). Masked cases unroll:
# Keras's JAX scan cannot broadcast a step's mask over a frame (its loop can); `unroll`
# changes nothing else. No case sets `zero_output_for_mask`: JAX's unrolled loop ignores
# it (the torch backend zeros masked steps' outputs; the tests check that property).
RECURRENT_CASES = {
    "convlstm1d_valid": ("ConvLSTM1D", {"filters": 2, "kernel_size": 3}, (4, 6, 2)),
    "convlstm1d_same_sequences_backwards": (
        "ConvLSTM1D",
        {
            "filters": 2,
            "kernel_size": 2,  # even: the recurrent "same" padding is uneven
            "padding": "same",
            "return_sequences": True,
            "go_backwards": True,
        },
        (3, 5, 2),
    ),
    "convlstm1d_mask": (
        "ConvLSTM1D",
        {"filters": 2, "kernel_size": 3, "return_sequences": True, "unroll": True},
        (4, 5, 2),
        [[1, 1, 0, 1], [0, 1, 1, 0]],
    ),
    "convlstm1d_mask_last": (
        "ConvLSTM1D",
        {"filters": 1, "kernel_size": 2, "unroll": True},
        (3, 4, 2),
        [[1, 1, 0], [1, 0, 0]],
    ),
    "convlstm2d_valid": ("ConvLSTM2D", {"filters": 2, "kernel_size": 3}, (3, 5, 5, 2)),
    "convlstm2d_same_s2_hard_sigmoid": (
        "ConvLSTM2D",
        {
            "filters": 3,
            "kernel_size": (3, 2),
            "strides": 2,
            "padding": "same",
            "recurrent_activation": "hard_sigmoid",
            "return_sequences": True,
        },
        (2, 5, 4, 1),
    ),
    "convlstm2d_dilated_no_bias": (
        "ConvLSTM2D",
        {"filters": 2, "kernel_size": 2, "dilation_rate": 2, "use_bias": False},
        (2, 5, 5, 2),
    ),
    "convlstm2d_state": (
        "ConvLSTM2D",
        {"filters": 2, "kernel_size": 2, "padding": "same", "return_state": True},
        (3, 3, 4, 1),
    ),
    "convlstm3d_same": (
        "ConvLSTM3D",
        {"filters": 2, "kernel_size": 2, "padding": "same", "return_sequences": True},
        (2, 2, 3, 3, 1),
    ),
}

# Keras's torch backend includes uneven "same" padding in an average (as noted for
# AveragePooling2D in gen_conv_pooling_reshaping.py).
TORCH_BACKEND_DIFFERS = {"avgpool3d_same_s2"}


def recurrent_case(rng, kind, args, shape, mask=None):
    """A ConvLSTM case: `case`'s keys, the mask given to the call, the final states."""
    layer = getattr(keras.layers, kind)(**args)
    x = np.round(rng.uniform(-2, 2, (BATCH, *shape)), 3).astype("float32")
    layer.build((BATCH, *shape))
    weights = [np.round(rng.uniform(-1, 1, w.shape), 3).astype("float32") for w in layer.weights]
    layer.set_weights(weights)
    given = {} if mask is None else {"mask": np.asarray(mask, dtype=bool)}
    outputs = layer(x, **given)
    y, *states = [keras.ops.convert_to_numpy(o) for o in tree_list(outputs)]
    output_shape = layer.compute_output_shape((BATCH, *shape))
    if args.get("return_state"):
        output_shape = output_shape[0]
    return {
        "layer": {"type": kind, **args},
        "keras3_config": keras.layers.serialize(layer),
        "input_shape": list(shape),
        "output_shape": list(output_shape[1:]),
        "params": int(layer.count_params()),
        "trainable_params": int(sum(np.prod(w.shape) for w in layer.trainable_weights)),
        "weights": {
            w.path.split("/")[-1]: {"shape": list(v.shape), "values": rounded(v)}
            for w, v in zip(layer.weights, weights, strict=True)
        },
        "mask": mask,
        "x": rounded(x),
        "y": rounded(y),
        "states": [rounded(state) for state in states],
    }


def tree_list(outputs):
    return list(outputs) if isinstance(outputs, list | tuple) else [outputs]


def all_cases(rng):
    cases = {name: case(rng, *spec) for name, spec in CASES.items()}
    return cases | {name: recurrent_case(rng, *spec) for name, spec in RECURRENT_CASES.items()}


def check_torch_backend(data):
    """Keras's torch backend against the JAX reference, where the two agree."""
    import torch

    with torch.no_grad():  # outputs that need no grad convert to numpy
        cases = all_cases(np.random.default_rng(0))
    for name, ours in cases.items():
        theirs = data["cases"][name]
        same = all(
            np.allclose(ours[key], theirs[key], atol=1e-5) for key in ("y", "states") if key in ours
        )
        assert same != (name in TORCH_BACKEND_DIFFERS), f"torch backend on {name}: same={same}"
    print(f"keras's torch backend agrees on {len(cases) - len(TORCH_BACKEND_DIFFERS)} cases")


def main():
    if keras.backend.backend() == "torch":
        check_torch_backend(json.loads(OUT.read_text()))
        return
    data = {
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "batch": BATCH,
        "note": "x, y and weight values are flat, row-major; weights in Keras's layout.",
        "cases": all_cases(np.random.default_rng(0)),
    }
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {OUT.name}: {len(data['cases'])} cases, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
