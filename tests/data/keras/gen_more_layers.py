"""Generate more_layers_outputs.json: Keras 3's outputs for Masking and the other core,
activation, noise, normalization and attention layers, and RNN with cells, with given
weights.

Every number here was computed by real Keras. `cases` are single layers: Keras's own
arguments (which Cornu's specs share), the inputs and their masks, the weights set with
`layer.set_weights` under their Keras names and in Keras's layouts, Keras's output
shape, parameter counts and weight list, the output(s) and the output mask. Layers
that only act while training also record what Keras's training mode gives (`training`:
the distinct values, or the mean and standard deviation, of the noisy output). `models`
are small models as `model.to_json()` writes them, with their weights in
`get_weights()` order, inputs and outputs: Masking's mask reaching LSTM, GRU, SimpleRNN
and pooling over time, and ActivityRegularization's loss.

Produced with python 3.11, keras 3.15.1 (torch backend), torch 2.13.0+cpu, numpy 2.4.6
(the project's .venv). Regenerate (from the repository root):
    KERAS_BACKEND=torch .venv/bin/python tests/data/keras/gen_more_layers.py
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

OUT = Path(__file__).resolve().parent / "more_layers_outputs.json"
rng = np.random.default_rng(20261130)
keras.utils.set_random_seed(7)


def data(*shape, scale=1.0, shift=0.0):
    """Inputs and weights rounded to 3 decimals, so the JSON holds them exactly."""
    return np.round(rng.normal(shift, scale, shape), 3).astype("float32")


def listed(x):
    """Outputs rounded to 1e-7, far below the tests' 1e-5 tolerance."""
    return np.round(keras.ops.convert_to_numpy(x).astype("float64"), 7).tolist()


def steps_mask(steps, lengths):
    return np.arange(steps)[None, :] < np.asarray(lengths)[:, None]


def masked(tensor, mask):
    t = keras.ops.convert_to_tensor(tensor)
    if mask is not None:
        set_keras_mask(t, keras.ops.convert_to_tensor(mask))
    return t


def mask_of(x):
    mask = get_keras_mask(x)
    return None if mask is None else keras.ops.convert_to_numpy(mask).tolist()


def summary(layer):
    """Keras's parameter counts and weight list: `[name, shape, trainable]` in order."""
    weights = [[w.path.split("/", 1)[1], list(w.shape), w.trainable] for w in layer.weights]
    trainable = sum(int(np.prod(w.shape)) for w in layer.trainable_weights)
    return {"params": layer.count_params(), "trainable_params": trainable, "weight_list": weights}


def set_random_weights(layer, scale=0.5):
    values = [data(*tuple(w.shape), scale=scale) for w in layer.weights]
    layer.set_weights(values)
    return {w.path.split("/", 1)[1]: v.tolist() for w, v in zip(layer.weights, values, strict=True)}


def single(kind, args, x, mask=None, weights=True, training=None):
    """One layer called as `layer(x)` (x may carry a mask, as after a Masking layer)."""
    layer = getattr(layers, kind)(**args)
    layer.build(x.shape)
    given = set_random_weights(layer) if weights else {}
    out = layer(masked(x, mask))
    case = {
        "layer": {"type": kind, **args},
        "inputs": [x.tolist()],
        "masks": [None if mask is None else mask.tolist()],
        "weights": given,
        "output_shape": list(out.shape[1:]),
        **summary(layer),
        "outputs": [listed(out)],
        "output_masks": [mask_of(out)],
    }
    if training is not None:
        case["training"] = training(layer)
    return case


def attention(kind, args, inputs, masks, call=None, listed_call=True):
    """Attention layers as Keras's graph calls them: `layer([q, v(, k)])` for Attention
    and AdditiveAttention, `layer(q, v(, k))` for GroupQueryAttention."""
    call = call or {}
    layer = getattr(layers, kind)(**args)
    tensors = [masked(x, m) for x, m in zip(inputs, masks, strict=True)]
    if len(inputs) >= 2 and inputs[0] is inputs[1]:
        tensors[1] = tensors[0]  # self-attention: one tensor, one mask
    if listed_call:
        layer.build([t.shape for t in tensors])
    else:
        layer.build(*[t.shape for t in tensors])
    given = set_random_weights(layer)
    out = layer(tensors, **call) if listed_call else layer(*tensors, **call)
    outs = list(out) if isinstance(out, tuple) else [out]
    return {
        "layer": {"type": kind, **args, **call},
        "inputs": [x.tolist() for x in inputs],
        "masks": [None if m is None else m.tolist() for m in masks],
        "weights": given,
        "output_shape": [list(o.shape[1:]) for o in outs] if len(outs) > 1 else list(out.shape[1:]),
        **summary(layer),
        "outputs": [listed(o) for o in outs],
        "output_masks": [mask_of(o) for o in outs],
    }


def distinct_training_values(x):
    def run(layer):
        out = keras.ops.convert_to_numpy(layer(x, training=True))
        values = np.unique(np.round(out, 6))
        return {
            "input": x.tolist(),
            "values": values.tolist(),
            "kept": float(np.mean(out == out.max())),
        }

    return run


def training_moments(x):
    def run(layer):
        out = keras.ops.convert_to_numpy(layer(x, training=True)).astype("float64")
        return {
            "input_value": float(x.flat[0]),
            "shape": list(x.shape),
            "mean": out.mean(),
            "std": out.std(),
        }

    return run


def cases():
    seq = data(3, 5, 4)
    seq[0, 3] = 0.0  # a masked step inside the sequence
    seq[1, 3:] = 0.0  # padding at the end
    seq[2, :2] = 0.0  # padding at the front
    seq[2, 4, :2] = 0.0  # some zero features: not masked
    yield "masking_zero", single("Masking", {}, seq, weights=False)
    minus = data(2, 4, 3)
    minus[0, 1] = -1.0
    minus[1, 2:] = -1.0
    yield "masking_value", single("Masking", {"mask_value": -1.0}, minus, weights=False)
    seq_mask = steps_mask(5, [5, 3, 1])
    yield "identity_masked", single("Identity", {}, seq, seq_mask, weights=False)

    yield "elu", single("ELU", {}, data(3, 6, scale=2.0), weights=False)
    yield (
        "elu_alpha",
        single("ELU", {"alpha": 0.5}, data(3, 5, 4, scale=2.0), seq_mask, weights=False),
    )
    yield "prelu", single("PReLU", {}, data(3, 5, 4, scale=2.0))
    yield (
        "prelu_shared_1",
        single("PReLU", {"shared_axes": [1]}, data(3, 5, 4, scale=2.0), seq_mask),
    )
    yield "prelu_shared_12", single("PReLU", {"shared_axes": [1, 2]}, data(2, 3, 3, 4, scale=2.0))

    yield (
        "activity_regularization",
        single("ActivityRegularization", {"l1": 0.01, "l2": 0.02}, seq, seq_mask, weights=False),
    )
    half = np.full((4, 2000), 0.5, dtype="float32")
    yield (
        "alpha_dropout",
        single(
            "AlphaDropout",
            {"rate": 0.2},
            data(3, 5),
            weights=False,
            training=distinct_training_values(half),
        ),
    )
    yield (
        "gaussian_dropout",
        single(
            "GaussianDropout",
            {"rate": 0.3},
            data(3, 5, 4),
            seq_mask,
            weights=False,
            training=training_moments(np.ones((8, 4000), dtype="float32")),
        ),
    )
    ones = np.ones((4, 2, 3, 2, 50), dtype="float32")
    yield (
        "spatial_dropout3d",
        single(
            "SpatialDropout3D",
            {"rate": 0.4},
            data(2, 2, 3, 2, 3),
            weights=False,
            training=distinct_training_values(ones),
        ),
    )

    with_zero_row = data(3, 5, 4)
    with_zero_row[1, 2] = 0.0
    yield "unit_norm", single("UnitNormalization", {}, with_zero_row, seq_mask, weights=False)
    yield (
        "unit_norm_axes",
        single("UnitNormalization", {"axis": [1, 2]}, data(3, 5, 4), weights=False),
    )
    yield "unit_norm_axis1", single("UnitNormalization", {"axis": 1}, data(3, 5, 4), weights=False)

    yield (
        "group_norm",
        single("GroupNormalization", {"groups": 2}, data(3, 5, 4, scale=2.0, shift=1.0)),
    )
    yield (
        "group_norm_instance",
        single("GroupNormalization", {"groups": -1, "epsilon": 0.01}, data(2, 3, 3, 4, shift=-1.0)),
    )
    yield (
        "group_norm_one_group_flat",
        single("GroupNormalization", {"groups": 1}, data(4, 6, scale=3.0)),
    )
    yield (
        "group_norm_axis1",
        single(
            "GroupNormalization",
            {"groups": 3, "axis": 1, "center": False},
            data(2, 6, 5, shift=0.5),
        ),
    )
    yield (
        "group_norm_no_scale",
        single(
            "GroupNormalization", {"groups": 4, "scale": False}, data(2, 4, 8), seq_mask[:2, :4]
        ),
    )

    yield "rms_norm", single("RMSNormalization", {}, data(3, 5, 4, shift=0.5))
    yield (
        "rms_norm_two_axes",
        single("RMSNormalization", {"axis": [-2, -1], "epsilon": 1e-3}, data(2, 3, 4)),
    )

    q, v, k = data(3, 5, 4), data(3, 7, 4), data(3, 7, 4)
    v6 = data(3, 7, 6)
    value_mask = steps_mask(7, [7, 4, 2])
    none2 = [None, None]
    yield "attention_dot", attention("Attention", {}, [q, v], none2)
    yield "attention_key", attention("Attention", {}, [q, v6, k], [None] * 3)
    yield "attention_scale", attention("Attention", {"use_scale": True}, [q, v], none2)
    yield "attention_concat", attention("Attention", {"score_mode": "concat"}, [q, v], none2)
    yield (
        "attention_concat_scale",
        attention("Attention", {"score_mode": "concat", "use_scale": True}, [q, v6, k], [None] * 3),
    )
    yield "attention_causal", attention("Attention", {}, [q, q], none2, {"use_causal_mask": True})
    yield "attention_masked", attention("Attention", {}, [q, v], [seq_mask, value_mask])
    yield (
        "attention_masked_causal",
        attention(
            "Attention",
            {"use_scale": True},
            [q, q],
            [seq_mask, seq_mask],
            {"use_causal_mask": True},
        ),
    )
    yield (
        "attention_scores",
        attention(
            "Attention", {}, [q, v], [seq_mask, value_mask], {"return_attention_scores": True}
        ),
    )
    yield "attention_dropout_inference", attention("Attention", {"dropout": 0.4}, [q, v], none2)
    yield "additive_attention", attention("AdditiveAttention", {}, [q, v], none2)
    yield (
        "additive_attention_no_scale",
        attention("AdditiveAttention", {"use_scale": False}, [q, v6, k], [None] * 3),
    )
    yield (
        "additive_attention_masked_causal",
        attention("AdditiveAttention", {}, [q, q], [seq_mask, seq_mask], {"use_causal_mask": True}),
    )
    yield (
        "additive_attention_scores",
        attention(
            "AdditiveAttention", {}, [q, v], [None, value_mask], {"return_attention_scores": True}
        ),
    )

    q8, v8, k8 = data(3, 5, 8), data(3, 7, 8), data(3, 7, 6)
    gqa = {"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2}
    yield "gqa_self", attention("GroupQueryAttention", gqa, [q8, q8], none2, listed_call=False)
    yield (
        "gqa_cross_key",
        attention("GroupQueryAttention", gqa, [q8, v8, k8], [None] * 3, listed_call=False),
    )
    yield (
        "gqa_causal",
        attention(
            "GroupQueryAttention",
            gqa,
            [q8, q8],
            none2,
            {"use_causal_mask": True},
            listed_call=False,
        ),
    )
    yield (
        "gqa_masked_no_bias",
        attention(
            "GroupQueryAttention",
            {**gqa, "num_key_value_heads": 1, "use_bias": False},
            [q8, v8],
            [seq_mask, value_mask],
            listed_call=False,
        ),
    )
    yield (
        "gqa_masked_causal",
        attention(
            "GroupQueryAttention",
            gqa,
            [q8, q8],
            [seq_mask, seq_mask],
            {"use_causal_mask": True},
            listed_call=False,
        ),
    )

    yield (
        "gqa_sliding_window",
        attention(
            "GroupQueryAttention", {**gqa, "sliding_window": 2}, [q8, q8], none2, listed_call=False
        ),
    )
    yield (
        "gqa_sliding_window_causal_masked",
        attention(
            "GroupQueryAttention",
            {**gqa, "sliding_window": 3},
            [q8, q8],
            [seq_mask, seq_mask],
            {"use_causal_mask": True},
            listed_call=False,
        ),
    )
    yield (
        "gqa_gate",
        attention(
            "GroupQueryAttention", {**gqa, "use_gate": True}, [q8, v8], none2, listed_call=False
        ),
    )
    yield (
        "gqa_dropout_inference_masked",
        attention(
            "GroupQueryAttention",
            {**gqa, "dropout": 0.3},
            [q8, v8],
            [seq_mask, value_mask],
            listed_call=False,
        ),
    )
    yield (
        "gqa_scores_causal",
        attention(
            "GroupQueryAttention",
            gqa,
            [q8, v8],
            [seq_mask, None],
            {"return_attention_scores": True, "use_causal_mask": True},
            listed_call=False,
        ),
    )

    yield (
        "einsum_dense_matrix",
        single(
            "EinsumDense",
            {"equation": "ab,bc->ac", "output_shape": 4, "bias_axes": "c"},
            data(3, 5),
        ),
    )
    yield (
        "einsum_dense_seq",
        single(
            "EinsumDense",
            {
                "equation": "abc,cd->abd",
                "output_shape": [None, 6],
                "bias_axes": "d",
                "activation": "relu",
            },
            data(3, 5, 4),
            seq_mask,
        ),
    )
    yield (
        "einsum_dense_heads",
        single(
            "EinsumDense",
            {"equation": "abc,cde->abde", "output_shape": [None, 3, 2], "bias_axes": "de"},
            data(3, 5, 4),
        ),
    )
    yield (
        "einsum_dense_bias_on_middle",
        single(
            "EinsumDense",
            {"equation": "abc,cde->abde", "output_shape": [5, 3, 2], "bias_axes": "d"},
            data(3, 5, 4),
        ),
    )
    yield (
        "einsum_dense_no_bias",
        single(
            "EinsumDense", {"equation": "abc,cd->abd", "output_shape": [None, 2]}, data(3, 5, 4)
        ),
    )
    yield (
        "einsum_dense_contract_two",
        single(
            "EinsumDense",
            {"equation": "abcd,cde->abe", "output_shape": [None, 3], "bias_axes": "e"},
            data(2, 3, 4, 5),
        ),
    )
    yield (
        "einsum_dense_left_ellipsis",
        single(
            "EinsumDense",
            {"equation": "...b,bc->...c", "output_shape": 3, "bias_axes": "c"},
            data(2, 3, 4, 5),
        ),
    )
    yield (
        "einsum_dense_right_ellipsis",
        single(
            "EinsumDense",
            {"equation": "ab...,bc->ac...", "output_shape": 3, "bias_axes": "c"},
            data(2, 4, 5),
        ),
    )


def keras_cell(spec):
    """A Keras cell (or list of cells, or StackedRNNCells) from Cornu's spec form."""
    if isinstance(spec, list):
        return [keras_cell(c) for c in spec]
    args = {k: v for k, v in spec.items() if k != "type"}
    if spec["type"] == "StackedRNNCells":
        args["cells"] = keras_cell(args["cells"])
    return getattr(layers, spec["type"])(**args)


def rnn(args, x, mask=None):
    """Keras's RNN layer with cells; its weights keep Keras's paths below the layer
    (`lstm_cell/kernel`, `stacked_rnn_cells/gru_cell/kernel`): the cells are named, so
    the paths do not depend on Keras's global name counters."""
    layer = layers.RNN(**{**args, "cell": keras_cell(args["cell"])})
    layer.build(x.shape)
    given = set_random_weights(layer)
    out = layer(masked(x, mask))
    outs = list(out) if isinstance(out, list | tuple) else [out]
    flat = []
    for o in outs:  # a stack's states come nested per cell: flatten them, as its JSON does
        flat += list(o) if isinstance(o, list | tuple) else [o]
    return {
        "layer": {"type": "RNN", **args},
        "inputs": [x.tolist()],
        "masks": [None if mask is None else mask.tolist()],
        "weights": given,
        "output_shape": [list(o.shape[1:]) for o in flat]
        if len(flat) > 1
        else list(flat[0].shape[1:]),
        **summary(layer),
        "outputs": [listed(o) for o in flat],
        "output_masks": [mask_of(o) for o in flat],
    }


def rnn_cases():
    seq = data(3, 5, 4)
    seq_mask = steps_mask(5, [5, 3, 1])
    holes = np.array(
        [[True, False, True, True, False], [False, True, True, False, True], [False] * 5]
    )
    lstm = {"type": "LSTMCell", "units": 3, "name": "lstm_cell"}
    gru = {"type": "GRUCell", "units": 3, "name": "gru_cell"}
    simple = {"type": "SimpleRNNCell", "units": 2, "name": "simple_rnn_cell"}
    yield "rnn_lstm_cell", rnn({"cell": lstm}, seq)
    yield (
        "rnn_gru_cell_sequences_masked",
        rnn({"cell": gru, "return_sequences": True}, seq, seq_mask),
    )
    yield (
        "rnn_gru_cell_reset_before",
        rnn({"cell": {**gru, "reset_after": False}, "return_sequences": True}, seq, holes),
    )
    yield (
        "rnn_simple_cell_backwards_state",
        rnn(
            {"cell": {**simple, "activation": "relu"}, "go_backwards": True, "return_state": True},
            seq,
            holes,
        ),
    )
    yield (
        "rnn_cell_list_states",
        rnn(
            {"cell": [gru, {**lstm, "units": 2}], "return_sequences": True, "return_state": True},
            seq,
            seq_mask,
        ),
    )
    yield (
        "rnn_stacked_cells_zero_output",
        rnn(
            {
                "cell": {
                    "type": "StackedRNNCells",
                    "name": "stacked_rnn_cells",
                    "cells": [{**lstm, "units": 2}, {**lstm, "name": "lstm_cell_1"}],
                },
                "return_sequences": True,
                "zero_output_for_mask": True,
            },
            seq,
            holes,
        ),
    )
    yield (
        "rnn_stacked_backwards_last",
        rnn(
            {"cell": [simple, gru], "go_backwards": True, "zero_output_for_mask": True},
            seq,
            seq_mask,
        ),
    )


def model_case(model, x):
    weights = [data(*tuple(w.shape), scale=0.5) for w in model.weights]
    model.set_weights(weights)
    out = model(x)
    return {
        "model_json": model.to_json(),
        "weights": [[w.path, v.tolist()] for w, v in zip(model.weights, weights, strict=True)],
        "inputs": [x.tolist()],
        "outputs": [listed(o) for o in (out if isinstance(out, list) else [out])],
        "losses": [float(keras.ops.convert_to_numpy(loss)) for loss in model.losses],
    }


def padded(batch, steps, features, lengths, pre=False, holes=()):
    """Sequences padded with zero steps at the end (or front), plus zero steps `holes`."""
    x = data(batch, steps, features)
    for i, n in enumerate(lengths):
        if pre:
            x[i, : steps - n] = 0.0
        else:
            x[i, n:] = 0.0
    for i, t in holes:
        x[i, t] = 0.0
    return x


def attention_model():
    """Masking's mask through Attention (causal, with its scores as a second output),
    AdditiveAttention, GroupQueryAttention and EinsumDense, as a functional model."""
    x = keras.Input((5, 4), name="x")
    m = layers.Masking(name="mask")(x)
    attended, scores = layers.Attention(use_scale=True, name="attention")(
        [m, m], use_causal_mask=True, return_attention_scores=True
    )
    additive = layers.AdditiveAttention(name="additive")([attended, m])
    grouped = layers.GroupQueryAttention(2, 4, 2, name="gqa")(additive, m)
    head = layers.EinsumDense("abc,cd->abd", (None, 3), bias_axes="d", name="head")(grouped)
    return keras.Model(x, [head, scores])


def models():
    x = padded(3, 6, 3, [6, 4, 1], holes=[(0, 2)])
    yield (
        "masking_lstm",
        model_case(keras.Sequential([keras.Input((6, 3)), layers.Masking(), layers.LSTM(4)]), x),
    )
    yield (
        "masking_lstm_sequences_pooled",
        model_case(
            keras.Sequential(
                [
                    keras.Input((6, 3)),
                    layers.Masking(),
                    layers.LSTM(4, return_sequences=True),
                    layers.GlobalAveragePooling1D(),
                ]
            ),
            x,
        ),
    )
    pre = padded(3, 5, 2, [5, 3, 2], pre=True)
    yield (
        "masking_gru_simple_rnn",
        model_case(
            keras.Sequential(
                [
                    keras.Input((5, 2)),
                    layers.Masking(),
                    layers.GRU(3, return_sequences=True),
                    layers.SimpleRNN(2),
                ]
            ),
            pre,
        ),
    )
    minus = data(2, 4, 3)
    minus[0, 1:3] = -1.0
    minus[1, 3] = -1.0
    yield (
        "masking_dense_max_pool",
        model_case(
            keras.Sequential(
                [
                    keras.Input((4, 3)),
                    layers.Masking(-1.0),
                    layers.Dense(5),
                    layers.GlobalMaxPooling1D(),
                ]
            ),
            minus,
        ),
    )
    yield (
        "masking_lstm_sequences",
        model_case(
            keras.Sequential(
                [keras.Input((6, 3)), layers.Masking(), layers.LSTM(2, return_sequences=True)]
            ),
            x,
        ),
    )
    yield "attention_functional", model_case(attention_model(), padded(3, 5, 4, [5, 3, 2]))
    yield (
        "rnn_cells_tf_keras_form",
        model_case(
            keras.Sequential(
                [
                    keras.Input((6, 3)),
                    layers.Masking(),
                    layers.RNN([layers.LSTMCell(4), layers.GRUCell(2)], return_sequences=True),
                    layers.RNN(layers.SimpleRNNCell(3)),
                ]
            ),
            x,
        ),
    )
    yield (
        "activity_regularization",
        model_case(
            keras.Sequential(
                [
                    keras.Input((4,)),
                    layers.Dense(3),
                    layers.ActivityRegularization(l1=0.05, l2=0.1),
                ]
            ),
            data(5, 4),
        ),
    )


def main():
    payload = {
        "keras_version": keras.__version__,
        "cases": {**dict(cases()), **dict(rnn_cases())},
        "models": dict(models()),
    }
    OUT.write_text(json.dumps(payload, separators=(",", ":")) + "\n")
    print("wrote", OUT, OUT.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
