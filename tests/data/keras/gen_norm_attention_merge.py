"""Keras 3 reference outputs for the normalization, attention and merging layers.

Every expected number in norm_attention_merge_outputs.json was computed by real Keras.
Each case builds a Keras layer from the arguments stored with it, sets its weights to
the stored arrays (under Keras's names and in its layouts, as Cornu's `keras_weights()`
gives them), calls it on the stored inputs and masks, and records the output, the
output mask and, for BatchNormalization, the moving statistics after one training call.
`functional_model` is a small model's `to_json()` with its weights and output, for
Cornu's importer.

Produced with python 3.11, keras 3.15.1 (torch backend), torch 2.13.0+cpu, numpy 2.4.6.
    venv: python3 -m venv /tmp/kerasref
          /tmp/kerasref/bin/pip install torch==2.13.0
          /tmp/kerasref/bin/pip install keras numpy

Regenerate (from the repository root):
    KERAS_BACKEND=torch /tmp/kerasref/bin/python tests/data/keras/gen_norm_attention_merge.py
"""

import json
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402
from keras.src.backend.common.masking import get_keras_mask, set_keras_mask  # noqa: E402

assert keras.backend.backend() == "torch", "run with KERAS_BACKEND=torch"

OUT = Path(__file__).resolve().parent / "norm_attention_merge_outputs.json"
rng = np.random.default_rng(20240611)


def data(*shape, scale=1.0, shift=0.0):
    """Inputs and weights rounded to 3 decimals, so the JSON holds them exactly."""
    return np.round(rng.normal(shift, scale, shape), 3).astype("float32")


def positive(*shape):
    return np.round(rng.uniform(0.5, 2.0, shape), 3).astype("float32")


def listed(x):
    """Outputs rounded to 1e-7, far below the tests' 1e-5 tolerance."""
    return np.round(keras.ops.convert_to_numpy(x).astype("float64"), 7).tolist()


def weight_names(layer):
    """Keras's weight paths without the layer's own name: `query/kernel`, `gamma`, …"""
    return [w.path.split("/", 1)[1] for w in layer.weights]


def random_weights(layer):
    """New weights for every variable of a built layer; variances stay positive."""
    out = {}
    for name, w in zip(weight_names(layer), layer.weights, strict=True):
        shape = tuple(w.shape)
        out[name] = positive(*shape) if name.endswith("variance") else data(*shape, scale=0.5)
    layer.set_weights(list(out.values()))
    return {name: value.tolist() for name, value in out.items()}


def masked(tensor, mask):
    t = keras.ops.convert_to_tensor(tensor)
    if mask is not None:
        set_keras_mask(t, keras.ops.convert_to_tensor(mask))
    return t


def mask_of(x):
    mask = get_keras_mask(x)
    return None if mask is None else keras.ops.convert_to_numpy(mask).tolist()


def batch_norm(args, x, mask=None):
    layer = layers.BatchNormalization(**args)
    layer.build(x.shape)
    weights = random_weights(layer)
    inference = layer(x, training=False)
    training = layer(x, training=True, mask=mask)
    return {
        "layer": {"type": "BatchNormalization", **args},
        "weights": weights,
        "inputs": [x.tolist()],
        "masks": [None if mask is None else mask.tolist()],
        "inference": listed(inference),
        "training": listed(training),
        "moving_mean": listed(layer.moving_mean),
        "moving_variance": listed(layer.moving_variance),
    }


def layer_norm(args, x):
    layer = layers.LayerNormalization(**args)
    layer.build(x.shape)
    weights = random_weights(layer)
    return {
        "layer": {"type": "LayerNormalization", **args},
        "weights": weights,
        "inputs": [x.tolist()],
        "masks": [None],
        "output": listed(layer(x)),
    }


def attention(args, inputs, masks, use_causal_mask=False):
    """MultiHeadAttention called as Cornu's graph calls it: on [query, value(, key)]."""
    layer = layers.MultiHeadAttention(**args)
    tensors = [masked(x, m) for x, m in zip(inputs, masks, strict=True)]
    if len(inputs) == 2 and inputs[0] is inputs[1]:
        tensors[1] = tensors[0]  # self-attention: one tensor, one mask
    layer.build(*[t.shape for t in tensors])
    weights = random_weights(layer)
    out = layer(*tensors, use_causal_mask=use_causal_mask)
    return {
        "layer": {"type": "MultiHeadAttention", **args, "use_causal_mask": use_causal_mask},
        "weights": weights,
        "inputs": [x.tolist() for x in inputs],
        "masks": [None if m is None else m.tolist() for m in masks],
        "output": listed(out),
        "output_mask": mask_of(out),
    }


def merge(kind, args, inputs, masks=None):
    masks = masks or [None] * len(inputs)
    layer = getattr(layers, kind)(**args)
    out = layer([masked(x, m) for x, m in zip(inputs, masks, strict=True)])
    return {
        "layer": {"type": kind, **args},
        "weights": {},
        "inputs": [x.tolist() for x in inputs],
        "masks": [None if m is None else m.tolist() for m in masks],
        "output": listed(out),
        "output_mask": mask_of(out),
    }


def functional_model():
    """A small Keras 3 model for Cornu's importer: Embedding's mask reaches the attention
    (called with use_causal_mask) and the residual Add."""
    tokens = keras.Input((5,), dtype="int32", name="tokens")
    x = layers.Embedding(20, 6, mask_zero=True, name="embed")(tokens)
    attended = layers.MultiHeadAttention(2, 3, name="attention")(x, x, use_causal_mask=True)
    x = layers.Add(name="residual")([x, attended])
    x = layers.LayerNormalization(name="norm")(x)
    model = keras.Model(tokens, layers.Dense(4, name="head")(x))
    weights = {w.path: data(*tuple(w.shape), scale=0.5) for w in model.weights}
    model.set_weights(list(weights.values()))
    ids = np.array([[3, 5, 7, 0, 0], [1, 2, 3, 4, 5], [9, 0, 0, 0, 0]], dtype="int32")
    return {
        "model_json": model.to_json(),
        "weights": {name: value.tolist() for name, value in weights.items()},
        "inputs": [ids.tolist()],
        "output": listed(model(ids)),
    }


def steps_mask(batch, steps, lengths):
    return np.arange(steps)[None, :] < np.asarray(lengths)[:, None]


def cases():
    seq_mask = steps_mask(3, 5, [5, 3, 1])
    yield "bn_dense", batch_norm({}, data(6, 4, scale=2.0, shift=1.0))
    yield (
        "bn_seq_masked",
        batch_norm(
            {"momentum": 0.9, "epsilon": 0.01}, data(3, 5, 4, scale=1.5, shift=-0.5), seq_mask
        ),
    )
    yield "bn_image", batch_norm({"axis": 3, "center": False}, data(2, 3, 3, 4, shift=2.0))
    yield "bn_no_scale", batch_norm({"scale": False, "momentum": 0.5}, data(5, 3))

    yield "ln_last", layer_norm({}, data(3, 5, 4, scale=3.0, shift=1.0))
    yield "ln_two_axes", layer_norm({"axis": [1, 2]}, data(3, 5, 4))
    yield "ln_apart_axes", layer_norm({"axis": [1, 3]}, data(2, 3, 4, 5))
    yield "ln_mixed_sign_axes", layer_norm({"axis": [-1, 1]}, data(2, 3, 4, 5))
    yield "ln_no_center", layer_norm({"center": False, "epsilon": 1e-5}, data(3, 6))
    yield "ln_rms_scaling", layer_norm({"rms_scaling": True}, data(3, 6, shift=0.5))

    q = data(3, 5, 6)
    v = data(3, 7, 4)
    k = data(3, 7, 3)
    yield "mha_self", attention({"num_heads": 2, "key_dim": 3}, [q, q], [None, None])
    yield "mha_causal", attention({"num_heads": 2, "key_dim": 3}, [q, q], [None, None], True)
    yield (
        "mha_cross_key",
        attention(
            {"num_heads": 3, "key_dim": 2, "value_dim": 3, "output_shape": 5},
            [q, v, k],
            [None, None, None],
        ),
    )
    yield (
        "mha_no_bias_2d_output",
        attention(
            {"num_heads": 2, "key_dim": 2, "use_bias": False, "output_shape": [2, 3]},
            [q, v],
            [None, None],
        ),
    )
    value_mask = steps_mask(3, 7, [7, 4, 2])
    yield "mha_masked", attention({"num_heads": 2, "key_dim": 3}, [q, v], [seq_mask, value_mask])
    yield (
        "mha_masked_causal",
        attention({"num_heads": 2, "key_dim": 3}, [q, q], [seq_mask, seq_mask], True),
    )
    yield (
        "mha_dropout_masked",
        attention({"num_heads": 2, "key_dim": 3, "dropout": 0.3}, [q, v], [seq_mask, value_mask]),
    )

    a, b, c = data(3, 4, 3), data(3, 4, 3), data(3, 4, 3)
    mask_a, mask_b = steps_mask(3, 4, [4, 2, 0]), steps_mask(3, 4, [3, 1, 0])
    yield "concatenate", merge("Concatenate", {}, [data(3, 4, 2), data(3, 4, 5)])
    yield (
        "concatenate_axis1_masked",
        merge(
            "Concatenate",
            {"axis": 1},
            [data(3, 2, 4), data(3, 5, 4)],
            [steps_mask(3, 2, [2, 1, 0]), None],
        ),
    )
    for kind in ("Add", "Multiply", "Average", "Maximum", "Minimum"):
        yield kind.lower(), merge(kind, {}, [a, b, c])
    yield "subtract", merge("Subtract", {}, [a, b])
    yield "add_broadcast", merge("Add", {}, [data(3, 1, 3), a])
    yield "add_lower_rank", merge("Add", {}, [data(3, 3), a])
    for kind in ("Multiply", "Maximum", "Minimum", "Add"):
        yield f"{kind.lower()}_masked", merge(kind, {}, [a, b], [mask_a, mask_b])
    yield "maximum_one_masked", merge("Maximum", {}, [a, b, c], [None, mask_b, None])
    yield "multiply_one_masked", merge("Multiply", {}, [a, b], [mask_a, None])
    yield (
        "dot_normalize_22",
        merge("Dot", {"axes": [2, 2], "normalize": True}, [data(3, 4, 5), data(3, 6, 5)]),
    )
    yield "dot_1", merge("Dot", {"axes": 1}, [data(3, 8), data(3, 8)])
    yield "dot_12", merge("Dot", {"axes": [1, 2]}, [data(3, 4, 5), data(3, 6, 4)])
    yield "dot_last", merge("Dot", {"axes": -1}, [data(3, 4, 5), data(3, 6, 5)])


def main():
    payload = {
        "keras_version": keras.__version__,
        "cases": dict(cases()),
        "functional_model": functional_model(),
    }
    OUT.write_text(json.dumps(payload, separators=(",", ":")) + "\n")
    print("wrote", OUT, OUT.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
