"""Generate conv_pooling_reshaping_outputs.json: Keras 3's outputs for convolution,
pooling and reshaping layers with given weights.

Every number here was computed by real Keras. Each case is one layer (Keras's own
argument names, which Cornu's specs share), its input shape (batch excluded), a tiny
input, the weights set with `layer.set_weights` in Keras's layouts under their Keras
names, an optional mask, and Keras's output shape, parameter counts and output.

The JAX backend is used because it computes what TensorFlow computes: Keras's torch
backend includes the padding in AveragePooling2D's "same" averages when the padding is
uneven, so it is not the reference for that layer. Run a second time under tf.keras 2,
the script checks that TensorFlow's outputs are the same (they are, for every case) and
adds each layer's tf.keras 2 config (`tfkeras2_config`) beside Keras 3's
(`keras3_config`), for the importer's tests.

Produced with python 3.11, keras 3.15.1 (JAX backend, jax 0.10.2), numpy 2.4.6, then
tensorflow-cpu 2.15.1 (keras 2.15.0). Regenerate (from the repository root):
    python3 -m venv /tmp/kerasref-conv
    /tmp/kerasref-conv/bin/pip install torch==2.13.0
    /tmp/kerasref-conv/bin/pip install keras jax
    KERAS_BACKEND=jax /tmp/kerasref-conv/bin/python tests/data/keras/gen_conv_pooling_reshaping.py
    /tmp/tfref/bin/python tests/data/keras/gen_conv_pooling_reshaping.py
(the tf.keras 2 venv is described in generate_tfkeras2.py).
"""

import json
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parent / "conv_pooling_reshaping_outputs.json"
BATCH = 2

# id: (layer type, arguments, input shape without the batch[, mask[, largest input]]).
# A mask comes from a Masking layer before the layer, as in a Keras model: the masked
# steps of the input are zeros.
CASES = {
    "conv2d_valid_relu": (
        "Conv2D",
        {"filters": 3, "kernel_size": 3, "activation": "relu"},
        (5, 6, 2),
    ),
    "conv2d_same_s2": (
        "Conv2D",
        {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"},
        (6, 7, 2),
    ),
    "conv2d_same_k4_s3": (
        "Conv2D",
        {"filters": 2, "kernel_size": (4, 2), "strides": 3, "padding": "same"},
        (7, 5, 2),
    ),
    "conv2d_dilated": ("Conv2D", {"filters": 2, "kernel_size": 3, "dilation_rate": 2}, (7, 6, 2)),
    "conv2d_dilated_same": (
        "Conv2D",
        {"filters": 2, "kernel_size": 2, "dilation_rate": 2, "padding": "same"},
        (5, 5, 2),
    ),
    "conv2d_groups": (
        "Conv2D",
        {"filters": 4, "kernel_size": 3, "groups": 2, "use_bias": False},
        (5, 5, 4),
    ),
    "conv2d_softmax": (
        "Conv2D",
        {"filters": 3, "kernel_size": 1, "activation": "softmax"},
        (3, 3, 2),
    ),
    "conv1d_valid": ("Conv1D", {"filters": 3, "kernel_size": 3}, (7, 2)),
    "conv1d_causal": (
        "Conv1D",
        {"filters": 3, "kernel_size": 3, "padding": "causal", "dilation_rate": 2},
        (8, 2),
    ),
    "conv1d_same_s2": (
        "Conv1D",
        {"filters": 2, "kernel_size": 4, "strides": 2, "padding": "same"},
        (9, 3),
    ),
    "convT_same_s2": (
        "Conv2DTranspose",
        {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"},
        (4, 5, 2),
    ),
    "convT_same_k4_s2": (
        "Conv2DTranspose",
        {"filters": 2, "kernel_size": 4, "strides": 2, "padding": "same"},
        (3, 3, 2),
    ),
    "convT_valid": (
        "Conv2DTranspose",
        {"filters": 2, "kernel_size": (3, 4), "strides": (2, 1)},
        (3, 4, 2),
    ),
    "convT_valid_stride_over_kernel": (
        "Conv2DTranspose",
        {"filters": 2, "kernel_size": 2, "strides": 3},
        (3, 3, 1),
    ),
    "convT_valid_output_padding": (
        "Conv2DTranspose",
        {"filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 1},
        (3, 3, 2),
    ),
    "convT_same_output_padding": (
        "Conv2DTranspose",
        {"filters": 2, "kernel_size": 3, "strides": 3, "padding": "same", "output_padding": (1, 2)},
        (3, 3, 2),
    ),
    "convT_dilated_same": (
        "Conv2DTranspose",
        {"filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "same"},
        (4, 4, 2),
    ),
    "sep_valid": ("SeparableConv2D", {"filters": 3, "kernel_size": 3}, (5, 5, 2)),
    "sep_dm2_same_s2": (
        "SeparableConv2D",
        {
            "filters": 3,
            "kernel_size": 3,
            "depth_multiplier": 2,
            "strides": 2,
            "padding": "same",
            "activation": "tanh",
        },
        (6, 5, 2),
    ),
    "maxpool2d_valid": ("MaxPooling2D", {"pool_size": 2}, (5, 4, 2)),
    "maxpool2d_same_s2": (
        "MaxPooling2D",
        {"pool_size": 3, "strides": 2, "padding": "same"},
        (6, 7, 2),
    ),
    "maxpool1d_same": ("MaxPooling1D", {"pool_size": 2, "strides": 1, "padding": "same"}, (5, 2)),
    "avgpool2d_valid": ("AveragePooling2D", {"pool_size": (2, 3)}, (4, 6, 2)),
    "avgpool2d_same_s2": (
        "AveragePooling2D",
        {"pool_size": 3, "strides": 2, "padding": "same"},
        (6, 7, 2),
    ),
    "avgpool2d_same_s1": (
        "AveragePooling2D",
        {"pool_size": 3, "strides": 1, "padding": "same"},
        (4, 4, 1),
    ),
    "avgpool1d_same": (
        "AveragePooling1D",
        {"pool_size": 2, "strides": 1, "padding": "same"},
        (5, 2),
    ),
    "gavg1d": ("GlobalAveragePooling1D", {}, (4, 3)),
    "gavg1d_mask": ("GlobalAveragePooling1D", {}, (4, 3), [[1, 1, 0, 0], [0, 1, 1, 1]]),
    "gavg1d_mask_keepdims": (
        "GlobalAveragePooling1D",
        {"keepdims": True},
        (4, 3),
        [[1, 0, 1, 0], [1, 1, 1, 1]],
    ),
    # Keras's GlobalMaxPooling1D ignores the mask: all-negative steps show it.
    "gmax1d_mask": ("GlobalMaxPooling1D", {}, (4, 3), [[1, 1, 0, 0], [0, 1, 1, 1]], -1.0),
    "gmax2d": ("GlobalMaxPooling2D", {}, (3, 4, 2)),
    "gavg2d_keepdims": ("GlobalAveragePooling2D", {"keepdims": True}, (3, 4, 2)),
    "up2d_nearest": ("UpSampling2D", {"size": (2, 3)}, (3, 4, 2)),
    "up2d_bilinear": ("UpSampling2D", {"size": (2, 3), "interpolation": "bilinear"}, (3, 4, 2)),
    "reshape_neg": ("Reshape", {"target_shape": (-1, 2)}, (3, 4)),
    "permute_2d": ("Permute", {"dims": (2, 1)}, (3, 4)),
    "permute_3d": ("Permute", {"dims": (3, 1, 2)}, (2, 3, 4)),
    "repeat": ("RepeatVector", {"n": 3}, (4,)),
    "zpad_asym": ("ZeroPadding2D", {"padding": ((1, 2), (0, 3))}, (2, 3, 2)),
    "crop_asym": ("Cropping2D", {"cropping": ((1, 0), (2, 1))}, (4, 5, 2)),
    "flatten": ("Flatten", {}, (2, 3, 2)),
}


KERAS2 = keras.__version__.startswith("2.")


def rounded(a):
    """Plain floats at float32 precision, short enough to keep the file small."""
    return [float(f"{v:.7g}") for v in np.asarray(a, dtype=np.float32).ravel()]


def weight_name(variable):
    """`kernel` from Keras 3's path `conv2d/kernel` or tf.keras 2's name `conv2d/kernel:0`."""
    return (variable.name if KERAS2 else variable.path).split("/")[-1].split(":")[0]


def run(rng, kind, args, shape, mask=None, high=2.0):
    """The layer built on `shape`, given random weights and a random input; its output."""
    layer = getattr(keras.layers, kind)(**args)
    x = np.round(rng.uniform(-2, high, (BATCH, *shape)), 3).astype("float32")
    layer.build((BATCH, *shape))
    weights = [np.round(rng.uniform(-1, 1, w.shape), 3).astype("float32") for w in layer.weights]
    layer.set_weights(weights)
    if mask is None:
        y = layer(x)
    else:
        x = x * np.asarray(mask, dtype="float32")[..., None]
        y = layer(keras.layers.Masking(0.0)(x))
    return layer, x, weights, np.asarray(y)


def case(rng, kind, args, shape, mask=None, high=2.0):
    layer, x, weights, y = run(rng, kind, args, shape, mask, high)
    return {
        "layer": {"type": kind, **args},
        "keras3_config": keras.layers.serialize(layer),
        "input_shape": list(shape),
        "output_shape": list(layer.compute_output_shape((BATCH, *shape))[1:]),
        "params": int(layer.count_params()),
        "trainable_params": int(sum(np.prod(w.shape) for w in layer.trainable_weights)),
        "weights": {
            weight_name(w): {"shape": list(v.shape), "values": rounded(v)}
            for w, v in zip(layer.weights, weights, strict=True)
        },
        "mask": mask,
        "x": rounded(x),
        "y": rounded(y),
    }


def add_tf_keras2(data):
    """tf.keras 2's configs of the same layers, after checking its outputs are Keras 3's."""
    rng = np.random.default_rng(0)
    for name, spec in CASES.items():
        layer, _, _, y = run(rng, *spec)
        expected = data["cases"][name]["y"]
        assert np.allclose(rounded(y), expected, atol=1e-5), f"tf.keras 2 differs on {name}"
        data["cases"][name]["tfkeras2_config"] = keras.layers.serialize(layer)
    data["tfkeras2_version"] = keras.__version__


def main():
    if KERAS2:
        data = json.loads(OUT.read_text())
        add_tf_keras2(data)
    else:
        rng = np.random.default_rng(0)
        cases = {name: case(rng, *spec) for name, spec in CASES.items()}
        data = {
            "keras_version": keras.__version__,
            "backend": keras.backend.backend(),
            "batch": BATCH,
            "note": "x, y and weight values are flat, row-major; weights in Keras's layout.",
            "cases": cases,
        }
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {OUT.name}: {len(data['cases'])} cases, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
