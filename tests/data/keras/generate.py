"""Generate Keras 3 reference data for Cornu's compatibility tests.

Every number in this folder was produced by real Keras, not derived by hand.

Produced with:
    python 3.11, keras 3.15.1 (torch backend), torch 2.13.0+cpu,
    numpy 2.4.6, scikit-learn 1.9.1
    venv: python3 -m venv /tmp/kerasref
          /tmp/kerasref/bin/pip install torch==2.13.0
          /tmp/kerasref/bin/pip install keras scikit-learn numpy

Regenerate (from the repository root):
    KERAS_BACKEND=torch /tmp/kerasref/bin/python tests/data/keras/generate.py

Pass section names (models, layers, losses, metrics, optimizers, parity) as
arguments to regenerate only some files. The tf.keras 2 files come from
generate_tfkeras2.py.
"""

import json
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

OUT = Path(__file__).resolve().parent
KERAS_VERSION = keras.__version__
BACKEND = keras.backend.backend()
assert BACKEND == "torch", "run with KERAS_BACKEND=torch"

warnings.filterwarnings("ignore")


def write_json(name, obj):
    path = OUT / name
    path.write_text(json.dumps(obj, indent=2) + "\n")
    print("wrote", path.relative_to(OUT.parent.parent.parent))


def to_list(x):
    """Convert a tensor / array / number to plain Python floats."""
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64).tolist()


def shape_wo_batch(shape):
    return list(shape[1:])


# --------------------------------------------------------------------------
# 1 + 2. Model JSON and expected summaries
# --------------------------------------------------------------------------


def build_mlp():
    return keras.Sequential(
        [
            keras.Input(shape=(784,)),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ]
    )


def build_convnet():
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )


def build_embedding_lstm():
    return keras.Sequential(
        [
            keras.Input(shape=(200,)),
            layers.Embedding(10000, 32),
            layers.LSTM(32),
            layers.Dense(1, activation="sigmoid"),
        ]
    )


def build_functional():
    a = keras.Input((16,), name="a")
    b = keras.Input((16,), name="b")
    shared = layers.Dense(8, activation="relu", name="shared")
    xa = shared(a)
    xb = shared(b)
    c = layers.Concatenate(name="concat")([xa, xb])
    out1 = layers.Dense(3, activation="softmax", name="cls")(c)
    out2 = layers.Dense(1, name="reg")(c)
    return keras.Model([a, b], [out1, out2])


MODELS = {
    "keras3_mlp.json": build_mlp,
    "keras3_convnet.json": build_convnet,
    "keras3_embedding_lstm.json": build_embedding_lstm,
    "keras3_functional.json": build_functional,
}


def layer_output_shape(layer):
    """Output shape without batch dim, as Keras's summary() shows it.

    For a layer called several times (shared layer) this is the output of its
    first call, which is what model.summary() prints.
    """
    out = layer.output
    if isinstance(out, (list, tuple)):
        return [shape_wo_batch(t.shape) for t in out]
    return shape_wo_batch(out.shape)


def summarize(model):
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    rows = []
    for layer in model.layers:
        row = {
            "name": layer.name,
            "class_name": type(layer).__name__,
            "output_shape": layer_output_shape(layer),
            "params": int(layer.count_params()),
        }
        if len(layer._inbound_nodes) > 1:
            row["num_calls"] = len(layer._inbound_nodes)
        rows.append(row)
    return {
        "total_params": int(model.count_params()),
        "trainable_params": int(trainable),
        "layers": rows,
    }


def gen_models():
    summaries = {}
    for fname, build in MODELS.items():
        keras.backend.clear_session()  # canonical auto names: dense, dense_1
        model = build()
        (OUT / fname).write_text(json.dumps(json.loads(model.to_json()), indent=2) + "\n")
        print("wrote", fname)
        summaries[fname] = summarize(model)
    # keep tf.keras 2 entries written by generate_tfkeras2.py
    path = OUT / "expected_summaries.json"
    if path.exists():
        old = json.loads(path.read_text())
        for k, v in old.items():
            if k.startswith("tfkeras2_"):
                summaries[k] = v
    write_json("expected_summaries.json", summaries)


# --------------------------------------------------------------------------
# 3. Layer output shapes and parameter counts
# --------------------------------------------------------------------------

L = layers
# (id, class name, kwargs, input shapes, call style)
# call style: "single" -> layer(x); "list" -> layer([x, y]); "qv" -> layer(q, v)
LAYER_CASES = [
    ("dense_seq", "Dense", {"units": 32}, [(10, 8)], "single"),
    ("conv1d", "Conv1D", {"filters": 16, "kernel_size": 3}, [(100, 8)], "single"),
    (
        "conv1d_same_s2",
        "Conv1D",
        {"filters": 16, "kernel_size": 5, "strides": 2, "padding": "same"},
        [(100, 8)],
        "single",
    ),
    (
        "conv1d_causal",
        "Conv1D",
        {"filters": 8, "kernel_size": 3, "padding": "causal", "dilation_rate": 2},
        [(50, 4)],
        "single",
    ),
    ("conv2d", "Conv2D", {"filters": 32, "kernel_size": 3}, [(28, 28, 1)], "single"),
    ("conv2d_b", "Conv2D", {"filters": 64, "kernel_size": 3}, [(13, 13, 32)], "single"),
    (
        "conv2d_same_s2",
        "Conv2D",
        {"filters": 16, "kernel_size": [3, 5], "strides": 2, "padding": "same"},
        [(28, 28, 3)],
        "single",
    ),
    (
        "conv2d_dil",
        "Conv2D",
        {"filters": 8, "kernel_size": 3, "use_bias": False, "dilation_rate": 2},
        [(20, 20, 4)],
        "single",
    ),
    (
        "conv2d_groups",
        "Conv2D",
        {"filters": 8, "kernel_size": 3, "groups": 2},
        [(10, 10, 4)],
        "single",
    ),
    (
        "convT_same",
        "Conv2DTranspose",
        {"filters": 16, "kernel_size": 3, "strides": 2, "padding": "same"},
        [(7, 7, 32)],
        "single",
    ),
    (
        "convT_valid",
        "Conv2DTranspose",
        {"filters": 8, "kernel_size": 4, "strides": 2},
        [(7, 7, 16)],
        "single",
    ),
    (
        "convT_outpad",
        "Conv2DTranspose",
        {"filters": 8, "kernel_size": 3, "strides": 2, "output_padding": 1},
        [(7, 7, 4)],
        "single",
    ),
    ("sep", "SeparableConv2D", {"filters": 32, "kernel_size": 3}, [(28, 28, 16)], "single"),
    (
        "sep_dm",
        "SeparableConv2D",
        {"filters": 16, "kernel_size": 3, "depth_multiplier": 2, "padding": "same", "strides": 2},
        [(15, 15, 8)],
        "single",
    ),
    ("maxpool1d", "MaxPooling1D", {"pool_size": 2}, [(100, 16)], "single"),
    (
        "maxpool1d_same",
        "MaxPooling1D",
        {"pool_size": 3, "strides": 2, "padding": "same"},
        [(99, 8)],
        "single",
    ),
    ("avgpool1d", "AveragePooling1D", {"pool_size": 2}, [(100, 16)], "single"),
    ("maxpool2d", "MaxPooling2D", {"pool_size": 2}, [(26, 26, 32)], "single"),
    (
        "maxpool2d_same",
        "MaxPooling2D",
        {"pool_size": 3, "strides": 2, "padding": "same"},
        [(15, 15, 8)],
        "single",
    ),
    ("avgpool2d", "AveragePooling2D", {"pool_size": [2, 3]}, [(10, 12, 4)], "single"),
    (
        "avgpool2d_same",
        "AveragePooling2D",
        {"pool_size": 3, "strides": 2, "padding": "same"},
        [(15, 15, 8)],
        "single",
    ),
    ("gmax1d", "GlobalMaxPooling1D", {}, [(50, 16)], "single"),
    ("gavg1d", "GlobalAveragePooling1D", {}, [(50, 16)], "single"),
    ("gmax2d", "GlobalMaxPooling2D", {}, [(7, 7, 64)], "single"),
    ("gavg2d_keep", "GlobalAveragePooling2D", {"keepdims": True}, [(7, 7, 64)], "single"),
    ("up2d", "UpSampling2D", {"size": 2}, [(7, 7, 16)], "single"),
    (
        "up2d_bilinear",
        "UpSampling2D",
        {"size": [2, 3], "interpolation": "bilinear"},
        [(5, 5, 3)],
        "single",
    ),
    ("zpad", "ZeroPadding2D", {"padding": 1}, [(28, 28, 1)], "single"),
    ("zpad_asym", "ZeroPadding2D", {"padding": [[1, 2], [3, 4]]}, [(10, 10, 3)], "single"),
    ("crop", "Cropping2D", {"cropping": [[2, 2], [4, 4]]}, [(28, 28, 3)], "single"),
    ("crop1", "Cropping2D", {"cropping": 1}, [(10, 10, 3)], "single"),
    ("bn", "BatchNormalization", {}, [(32,)], "single"),
    ("bn_img", "BatchNormalization", {}, [(8, 8, 16)], "single"),
    ("bn_nocenter", "BatchNormalization", {"center": False}, [(10,)], "single"),
    ("ln", "LayerNormalization", {}, [(10, 32)], "single"),
    ("ln_noscale", "LayerNormalization", {"scale": False}, [(16,)], "single"),
    ("emb", "Embedding", {"input_dim": 10000, "output_dim": 32}, [(200,)], "single"),
    (
        "emb_mask",
        "Embedding",
        {"input_dim": 1000, "output_dim": 64, "mask_zero": True},
        [(10,)],
        "single",
    ),
    ("srnn", "SimpleRNN", {"units": 32}, [(200, 32)], "single"),
    ("srnn_seq", "SimpleRNN", {"units": 16, "return_sequences": True}, [(10, 8)], "single"),
    ("lstm", "LSTM", {"units": 32}, [(200, 32)], "single"),
    ("lstm_seq", "LSTM", {"units": 16, "return_sequences": True}, [(10, 8)], "single"),
    ("lstm_state", "LSTM", {"units": 16, "return_state": True}, [(10, 8)], "single"),
    ("gru", "GRU", {"units": 32}, [(200, 32)], "single"),
    ("gru_nra", "GRU", {"units": 16, "reset_after": False}, [(10, 8)], "single"),
    (
        "gru_back",
        "GRU",
        {"units": 16, "return_sequences": True, "go_backwards": True},
        [(10, 8)],
        "single",
    ),
    ("bi_lstm", "Bidirectional", {"layer": "LSTM(16)"}, [(10, 8)], "single"),
    (
        "bi_lstm_sum",
        "Bidirectional",
        {"layer": "LSTM(16, return_sequences=True)", "merge_mode": "sum"},
        [(10, 8)],
        "single",
    ),
    ("bi_gru", "Bidirectional", {"layer": "GRU(8)"}, [(10, 8)], "single"),
    ("td_dense", "TimeDistributed", {"layer": "Dense(8)"}, [(10, 16)], "single"),
    ("td_conv", "TimeDistributed", {"layer": "Conv2D(4, 3)"}, [(5, 10, 10, 3)], "single"),
    ("sdrop1d", "SpatialDropout1D", {"rate": 0.2}, [(10, 8)], "single"),
    ("sdrop2d", "SpatialDropout2D", {"rate": 0.2}, [(8, 8, 4)], "single"),
    ("gnoise", "GaussianNoise", {"stddev": 0.1}, [(10,)], "single"),
    ("lrelu", "LeakyReLU", {}, [(10,)], "single"),
    ("relu6", "ReLU", {"max_value": 6.0}, [(10,)], "single"),
    ("softmax", "Softmax", {}, [(10,)], "single"),
    ("mha", "MultiHeadAttention", {"num_heads": 2, "key_dim": 16}, [(10, 32), (10, 32)], "qv"),
    (
        "mha_b",
        "MultiHeadAttention",
        {"num_heads": 4, "key_dim": 8, "value_dim": 16, "output_shape": 24},
        [(5, 12), (7, 20)],
        "qv",
    ),
    ("concat", "Concatenate", {}, [(10,), (5,)], "list"),
    ("concat_ax1", "Concatenate", {"axis": 1}, [(3, 4), (5, 4)], "list"),
    ("add", "Add", {}, [(8,), (8,)], "list"),
    ("subtract", "Subtract", {}, [(8,), (8,)], "list"),
    ("multiply", "Multiply", {}, [(8,), (8,)], "list"),
    ("average", "Average", {}, [(8,), (8,)], "list"),
    ("maximum", "Maximum", {}, [(8,), (8,)], "list"),
    ("minimum", "Minimum", {}, [(8,), (8,)], "list"),
    ("dot", "Dot", {"axes": 1}, [(8,), (8,)], "list"),
    ("dot_22", "Dot", {"axes": [2, 2]}, [(3, 4), (5, 4)], "list"),
    ("dot_norm", "Dot", {"axes": 1, "normalize": True}, [(8,), (8,)], "list"),
    ("reshape", "Reshape", {"target_shape": [7, 4]}, [(28,)], "single"),
    ("reshape_neg", "Reshape", {"target_shape": [-1, 2]}, [(3, 4)], "single"),
    ("permute", "Permute", {"dims": [2, 1]}, [(10, 64)], "single"),
    ("repeat", "RepeatVector", {"n": 3}, [(8,)], "single"),
    ("flatten", "Flatten", {}, [(26, 26, 32)], "single"),
]

# Wrapped inner layers, written as strings in the JSON "args" above.
INNER_LAYERS = {
    "LSTM(16)": lambda: L.LSTM(16),
    "LSTM(16, return_sequences=True)": lambda: L.LSTM(16, return_sequences=True),
    "GRU(8)": lambda: L.GRU(8),
    "Dense(8)": lambda: L.Dense(8),
    "Conv2D(4, 3)": lambda: L.Conv2D(4, 3),
}

# Lists in "args" are tuples in the real call (JSON has no tuples).
TUPLE_ARGS = {
    "kernel_size",
    "pool_size",
    "size",
    "padding",
    "cropping",
    "target_shape",
    "dims",
    "axes",
}


def make_layer(class_name, args):
    kwargs = {}
    for k, v in args.items():
        if k == "layer":
            v = INNER_LAYERS[v]()
        elif k in TUPLE_ARGS and isinstance(v, list):
            v = tuple(tuple(e) if isinstance(e, list) else e for e in v)
        kwargs[k] = v
    return getattr(L, class_name)(**kwargs)


def gen_layers():
    records = []
    for case_id, class_name, args, in_shapes, style in LAYER_CASES:
        keras.backend.clear_session()
        rec = {
            "id": case_id,
            "layer": class_name,
            "args": args,
            "input_shapes": [list(s) for s in in_shapes],
        }
        if style == "qv":
            rec["call"] = "layer(query, value)"
        elif style == "list":
            rec["call"] = "layer([x0, x1])"
        try:
            layer = make_layer(class_name, args)
            inputs = [keras.Input(shape=s) for s in in_shapes]
            if style == "single":
                out = layer(inputs[0])
            elif style == "list":
                out = layer(inputs)
            else:
                out = layer(inputs[0], inputs[1])
            if isinstance(out, (list, tuple)):
                rec["output_shape"] = [shape_wo_batch(t.shape) for t in out]
            else:
                rec["output_shape"] = shape_wo_batch(out.shape)
            rec["params"] = int(layer.count_params())
            rec["trainable_params"] = int(
                sum(int(np.prod(w.shape)) for w in layer.trainable_weights)
            )
            rec["weights"] = [
                [w.path, list(w.shape), "trainable" if w.trainable else "non_trainable"]
                for w in layer.weights
            ]
        except Exception as e:  # record, do not hide, Keras's own error
            rec["error"] = f"{type(e).__name__}: {e}"
        records.append(rec)
    write_json(
        "layer_shapes.json",
        {
            "keras_version": KERAS_VERSION,
            "backend": BACKEND,
            "note": "Shapes exclude the batch dim. Lists in args are tuples in the Python call. "
            "weights: [path, shape, trainable?] in layer.weights order.",
            "cases": records,
        },
    )


# --------------------------------------------------------------------------
# 4. Losses
# --------------------------------------------------------------------------

LOSS_INPUTS = {
    "y_true_cat": [[0, 1, 0], [1, 0, 0]],
    "y_pred_cat": [[0.1, 0.8, 0.1], [0.5, 0.3, 0.2]],
    "y_true_bin": [[1], [0], [1]],
    "y_pred_bin": [[0.9], [0.3], [0.4]],
    "y_pred_bin_logits": [[2.0], [-1.0], [0.5]],
    "y_true_reg": [[1.0, 2.0], [3.0, -1.0]],
    "y_pred_reg": [[1.5, 1.0], [2.0, 0.5]],
    "y_true_reg_pos": [[1.0, 2.0], [3.0, 1.0]],
    "y_pred_reg_pos": [[1.5, 1.0], [2.0, 0.5]],
    "y_true_sparse": [1, 0],
    "logits_cat": [[1.0, 2.0, 0.5], [0.2, -1.0, 0.3]],
    "sample_weight_2": [0.5, 2.0],
    "sample_weight_3": [0.5, 2.0, 1.0],
}


def ctc_inputs():
    logits = np.random.default_rng(0).normal(size=(2, 6, 5))
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs = e / e.sum(axis=-1, keepdims=True)
    return logits, probs


# (key, loss class, kwargs, y_true input, y_pred input)
LOSS_CASES = [
    ("MeanSquaredError", "MeanSquaredError", {}, "y_true_reg", "y_pred_reg"),
    ("MeanAbsoluteError", "MeanAbsoluteError", {}, "y_true_reg", "y_pred_reg"),
    ("MeanAbsolutePercentageError", "MeanAbsolutePercentageError", {}, "y_true_reg", "y_pred_reg"),
    (
        "MeanSquaredLogarithmicError",
        "MeanSquaredLogarithmicError",
        {},
        "y_true_reg_pos",
        "y_pred_reg_pos",
    ),
    ("CosineSimilarity", "CosineSimilarity", {}, "y_true_reg", "y_pred_reg"),
    ("Huber", "Huber", {}, "y_true_reg", "y_pred_reg"),
    ("Huber[delta=0.5]", "Huber", {"delta": 0.5}, "y_true_reg", "y_pred_reg"),
    ("LogCosh", "LogCosh", {}, "y_true_reg", "y_pred_reg"),
    ("KLDivergence", "KLDivergence", {}, "y_true_cat", "y_pred_cat"),
    ("Poisson", "Poisson", {}, "y_true_reg_pos", "y_pred_reg_pos"),
    ("Hinge", "Hinge", {}, "y_true_bin", "y_pred_bin"),
    ("SquaredHinge", "SquaredHinge", {}, "y_true_bin", "y_pred_bin"),
    ("CategoricalHinge", "CategoricalHinge", {}, "y_true_cat", "y_pred_cat"),
    ("BinaryCrossentropy", "BinaryCrossentropy", {}, "y_true_bin", "y_pred_bin"),
    (
        "BinaryCrossentropy[from_logits=True]",
        "BinaryCrossentropy",
        {"from_logits": True},
        "y_true_bin",
        "y_pred_bin_logits",
    ),
    (
        "BinaryCrossentropy[label_smoothing=0.1]",
        "BinaryCrossentropy",
        {"label_smoothing": 0.1},
        "y_true_bin",
        "y_pred_bin",
    ),
    ("BinaryFocalCrossentropy", "BinaryFocalCrossentropy", {}, "y_true_bin", "y_pred_bin"),
    (
        "BinaryFocalCrossentropy[apply_class_balancing=True,alpha=0.25]",
        "BinaryFocalCrossentropy",
        {"apply_class_balancing": True, "alpha": 0.25},
        "y_true_bin",
        "y_pred_bin",
    ),
    ("CategoricalCrossentropy", "CategoricalCrossentropy", {}, "y_true_cat", "y_pred_cat"),
    (
        "CategoricalCrossentropy[from_logits=True]",
        "CategoricalCrossentropy",
        {"from_logits": True},
        "y_true_cat",
        "logits_cat",
    ),
    (
        "CategoricalCrossentropy[label_smoothing=0.1]",
        "CategoricalCrossentropy",
        {"label_smoothing": 0.1},
        "y_true_cat",
        "y_pred_cat",
    ),
    (
        "CategoricalFocalCrossentropy",
        "CategoricalFocalCrossentropy",
        {},
        "y_true_cat",
        "y_pred_cat",
    ),
    (
        "SparseCategoricalCrossentropy",
        "SparseCategoricalCrossentropy",
        {},
        "y_true_sparse",
        "y_pred_cat",
    ),
    (
        "SparseCategoricalCrossentropy[from_logits=True]",
        "SparseCategoricalCrossentropy",
        {"from_logits": True},
        "y_true_sparse",
        "logits_cat",
    ),
    (
        "SparseCategoricalCrossentropy[ignore_class=0]",
        "SparseCategoricalCrossentropy",
        {"ignore_class": 0},
        "y_true_sparse",
        "y_pred_cat",
    ),
    ("Dice", "Dice", {}, "y_true_bin", "y_pred_bin"),
    ("Tversky", "Tversky", {}, "y_true_bin", "y_pred_bin"),
    ("CTC[y_pred=ctc_probs]", "CTC", {}, "ctc_y_true", "ctc_probs"),
    ("CTC[y_pred=ctc_logits]", "CTC", {}, "ctc_y_true", "ctc_logits"),
]

INT_INPUTS = {"y_true_sparse", "ctc_y_true"}


def gen_losses():
    inputs = dict(LOSS_INPUTS)
    logits, probs = ctc_inputs()
    inputs["ctc_y_true"] = [[1, 2, 2, 0], [3, 1, 0, 0]]
    inputs["ctc_logits"] = logits.tolist()
    inputs["ctc_probs"] = probs.tolist()

    def tensor(name):
        dtype = "int32" if name in INT_INPUTS else "float32"
        return keras.ops.convert_to_tensor(np.asarray(inputs[name]), dtype=dtype)

    values, cases = {}, {}
    for key, cls_name, kwargs, yt, yp in LOSS_CASES:
        y_true, y_pred = tensor(yt), tensor(yp)
        n = int(y_true.shape[0])
        sw_name = "sample_weight_3" if n == 3 else "sample_weight_2"
        cases[key] = {"class": cls_name, "kwargs": kwargs, "y_true": yt, "y_pred": yp}
        sw_key = key[:-1] + ",sample_weight]" if key.endswith("]") else key + "[sample_weight]"
        cases[sw_key] = dict(cases[key], sample_weight=sw_name)
        for k, sw in ((key, None), (sw_key, sw_name)):
            loss = getattr(keras.losses, cls_name)(**kwargs)
            try:
                if sw is None:
                    v = loss(y_true, y_pred)
                else:
                    v = loss(y_true, y_pred, sample_weight=tensor(sw))
                values[k] = float(keras.ops.convert_to_numpy(v))
            except Exception as e:
                values[k] = None
                cases[k]["error"] = f"{type(e).__name__}: {e}"
        # unreduced per-sample values, useful for checking the reduction
        loss = getattr(keras.losses, cls_name)(reduction=None, **kwargs)
        try:
            cases[key]["per_sample"] = to_list(loss(y_true, y_pred))
        except Exception as e:
            cases[key]["per_sample_error"] = f"{type(e).__name__}: {e}"

    write_json(
        "losses.json",
        {
            "keras_version": KERAS_VERSION,
            "backend": BACKEND,
            "notes": [
                "Default reduction 'sum_over_batch_size': sum(per_sample * sample_weight) / "
                "number of elements (NOT / sum of weights).",
                "CTC: y_true is (batch, max_len) int labels; 0 is the blank AND the padding "
                "index (label_length = count of non-zero entries), so real classes are "
                "1..num_classes-1 and labels must be left-aligned. y_pred is expected to be "
                "LOGITS: Keras applies log_softmax itself. CTC[y_pred=ctc_probs] feeds the "
                "softmax probabilities anyway (log_softmax is then applied to probabilities); "
                "CTC[y_pred=ctc_logits] is the intended usage. ctc_logits = "
                "numpy.random.default_rng(0).normal(size=(2, 6, 5)), ctc_probs = softmax(ctc_logits).",
                "SparseCategoricalCrossentropy ignore_class=0: the ignored sample gets loss 0 AND is "
                "removed from the denominator (mask), so the mean is over the 1 remaining sample.",
                "Dice/Tversky (axis=None) reduce over the whole batch to one scalar; with "
                "sample_weight Keras broadcasts that scalar against the weights and then "
                "divides by the batch size (so value * sum(w) / n).",
                "cases[key].per_sample: the same loss built with reduction=None.",
                "Loss inputs are float32 (int32 for y_true_sparse and ctc_y_true).",
            ],
            "inputs": inputs,
            "cases": cases,
            "values": values,
        },
    )


# --------------------------------------------------------------------------
# 5. Metrics and history key names
# --------------------------------------------------------------------------

METRIC_INPUTS = {
    "y_true_b": [0, 0, 1, 1, 1, 0, 1, 0],
    "y_pred_b": [0.1, 0.6, 0.35, 0.8, 0.7, 0.2, 0.4, 0.9],
    # 4 samples x 4 classes: s0 top-1 right, s1 top-2 right, s2 label ranked 3rd, s3 top-1 right
    "y_true_c": [[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]],
    "y_true_c_sparse": [2, 1, 0, 3],
    "y_pred_c": [
        [0.1, 0.2, 0.6, 0.1],
        [0.5, 0.3, 0.15, 0.05],
        [0.2, 0.1, 0.3, 0.4],
        [0.05, 0.15, 0.3, 0.5],
    ],
    "y_true_reg": [[1.0, 2.0], [3.0, -1.0]],
    "y_pred_reg": [[1.5, 1.0], [2.0, 0.5]],
}

# (key, metric class, kwargs, y_true input, y_pred input)
METRIC_CASES = [
    ("BinaryAccuracy", "BinaryAccuracy", {}, "y_true_b", "y_pred_b"),
    ("AUC", "AUC", {}, "y_true_b", "y_pred_b"),
    ("AUC[curve=PR]", "AUC", {"curve": "PR"}, "y_true_b", "y_pred_b"),
    ("Precision", "Precision", {}, "y_true_b", "y_pred_b"),
    ("Recall", "Recall", {}, "y_true_b", "y_pred_b"),
    ("CategoricalAccuracy", "CategoricalAccuracy", {}, "y_true_c", "y_pred_c"),
    ("SparseCategoricalAccuracy", "SparseCategoricalAccuracy", {}, "y_true_c_sparse", "y_pred_c"),
    ("TopKCategoricalAccuracy[k=2]", "TopKCategoricalAccuracy", {"k": 2}, "y_true_c", "y_pred_c"),
    (
        "SparseTopKCategoricalAccuracy[k=2]",
        "SparseTopKCategoricalAccuracy",
        {"k": 2},
        "y_true_c_sparse",
        "y_pred_c",
    ),
    ("MeanAbsoluteError", "MeanAbsoluteError", {}, "y_true_reg", "y_pred_reg"),
    ("MeanSquaredError", "MeanSquaredError", {}, "y_true_reg", "y_pred_reg"),
    ("RootMeanSquaredError", "RootMeanSquaredError", {}, "y_true_reg", "y_pred_reg"),
    ("MeanAbsolutePercentageError", "MeanAbsolutePercentageError", {}, "y_true_reg", "y_pred_reg"),
]


def history_keys_for_identifiers():
    """Which history key (and metric class) each string identifier becomes."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 5)).astype("float32")
    y_bin = (rng.random((16, 1)) > 0.5).astype("float32")
    # 10 classes: top_k_categorical_accuracy defaults to k=5 and fails with fewer classes
    y_cat = np.eye(10, dtype="float32")[rng.integers(0, 10, size=16)]
    setups = {
        "binary": (1, "sigmoid", "binary_crossentropy", y_bin),
        "categorical": (10, "softmax", "categorical_crossentropy", y_cat),
    }
    idents = {
        "binary": ["accuracy", "acc", "mae", "AUC", "Precision"],
        "categorical": ["accuracy", "acc", "mae", "top_k_categorical_accuracy"],
    }
    out = {}
    for setup, (units, act, loss, y) in setups.items():
        out[setup] = {"model": f"Dense({units}, activation='{act}')", "loss": loss, "metrics": {}}
        for ident in idents[setup]:
            keras.backend.clear_session()
            model = keras.Sequential([keras.Input((5,)), L.Dense(units, activation=act)])
            model.compile(optimizer="rmsprop", loss=loss, metrics=[ident])
            hist = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
            resolved = model._compile_metrics.metrics  # the Metric objects Keras built
            out[setup]["metrics"][ident] = {
                "history_keys": list(hist.history.keys()),
                "resolved_class": [type(m).__name__ for m in resolved],
                "resolved_name": [m.name for m in resolved],
            }
    return out


def multi_output_history_keys():
    keras.utils.set_random_seed(0)
    keras.backend.clear_session()
    model = build_functional()
    model.compile(
        optimizer="rmsprop",
        loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
        loss_weights={"cls": 1.0, "reg": 0.5},
        metrics={"cls": ["accuracy"], "reg": ["mae"]},
    )
    rng = np.random.default_rng(0)
    a = rng.normal(size=(32, 16)).astype("float32")
    b = rng.normal(size=(32, 16)).astype("float32")
    y_cls = rng.integers(0, 3, size=(32,))
    y_reg = rng.normal(size=(32, 1)).astype("float32")
    hist = model.fit(
        [a, b],
        {"cls": y_cls, "reg": y_reg},
        epochs=1,
        batch_size=8,
        validation_split=0.25,
        verbose=0,
    )
    return {
        "model": "keras3_functional.json",
        "compile": {
            "loss": {"cls": "sparse_categorical_crossentropy", "reg": "mse"},
            "loss_weights": {"cls": 1.0, "reg": 0.5},
            "metrics": {"cls": ["accuracy"], "reg": ["mae"]},
        },
        "fit": "fit([a, b], {'cls': y_cls, 'reg': y_reg}, epochs=1, batch_size=8, validation_split=0.25); 32 samples",
        "history_keys": list(hist.history.keys()),
    }


def gen_metrics():
    def tensor(name):
        arr = np.asarray(METRIC_INPUTS[name])
        return keras.ops.convert_to_tensor(
            arr, dtype="int32" if name.endswith("sparse") else "float32"
        )

    values, cases = {}, {}
    for key, cls_name, kwargs, yt, yp in METRIC_CASES:
        keras.backend.clear_session()  # canonical auto names ("auc", not "auc_1")
        metric = getattr(keras.metrics, cls_name)(**kwargs)
        metric.update_state(tensor(yt), tensor(yp))
        values[key] = float(keras.ops.convert_to_numpy(metric.result()))
        cases[key] = {
            "class": cls_name,
            "kwargs": kwargs,
            "y_true": yt,
            "y_pred": yp,
            "name": metric.name,
        }
    write_json(
        "metrics.json",
        {
            "keras_version": KERAS_VERSION,
            "backend": BACKEND,
            "notes": [
                "Each metric: fresh instance, one update_state(y_true, y_pred), then result().",
                "Binary metrics use threshold 0.5 (Precision/Recall/BinaryAccuracy); AUC uses "
                "200 thresholds with interpolation 'interpolation' (Keras default).",
                "string_identifiers: history key and resolved Metric class for "
                "compile(metrics=[ident]) after fit(epochs=1); 'mae' etc. keep the string as key.",
            ],
            "inputs": METRIC_INPUTS,
            "cases": cases,
            "values": values,
            "string_identifiers": history_keys_for_identifiers(),
            "multi_output": multi_output_history_keys(),
        },
    )


# --------------------------------------------------------------------------
# 6. Optimizers
# --------------------------------------------------------------------------

S = keras.optimizers.schedules
# (key = the constructor call, exactly; factory)
OPTIMIZER_CASES = [
    ("SGD()", lambda: keras.optimizers.SGD()),
    ("SGD(0.1, momentum=0.9)", lambda: keras.optimizers.SGD(0.1, momentum=0.9)),
    (
        "SGD(0.1, momentum=0.9, nesterov=True)",
        lambda: keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    ),
    ("RMSprop()", lambda: keras.optimizers.RMSprop()),
    (
        "RMSprop(momentum=0.5, centered=True)",
        lambda: keras.optimizers.RMSprop(momentum=0.5, centered=True),
    ),
    ("Adam()", lambda: keras.optimizers.Adam()),
    ("Adam(amsgrad=True)", lambda: keras.optimizers.Adam(amsgrad=True)),
    ("AdamW()", lambda: keras.optimizers.AdamW()),
    ("AdamW(weight_decay=0.1)", lambda: keras.optimizers.AdamW(weight_decay=0.1)),
    ("Adagrad()", lambda: keras.optimizers.Adagrad()),
    ("Adadelta()", lambda: keras.optimizers.Adadelta()),
    ("Adadelta(learning_rate=1.0)", lambda: keras.optimizers.Adadelta(learning_rate=1.0)),
    ("Adamax()", lambda: keras.optimizers.Adamax()),
    ("Nadam()", lambda: keras.optimizers.Nadam()),
    (
        "Adam(learning_rate=ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5))",
        lambda: keras.optimizers.Adam(
            learning_rate=S.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
        ),
    ),
    (
        "SGD(learning_rate=CosineDecay(0.1, decay_steps=4))",
        lambda: keras.optimizers.SGD(learning_rate=S.CosineDecay(0.1, decay_steps=4)),
    ),
    (
        "SGD(learning_rate=PiecewiseConstantDecay([1, 2], [0.1, 0.05, 0.01]))",
        lambda: keras.optimizers.SGD(
            learning_rate=S.PiecewiseConstantDecay([1, 2], [0.1, 0.05, 0.01])
        ),
    ),
    (
        "SGD(learning_rate=InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5))",
        lambda: keras.optimizers.SGD(
            learning_rate=S.InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5)
        ),
    ),
    ("SGD(0.1, clipnorm=0.5)", lambda: keras.optimizers.SGD(0.1, clipnorm=0.5)),
    ("SGD(0.1, clipvalue=0.3)", lambda: keras.optimizers.SGD(0.1, clipvalue=0.3)),
    ("SGD(0.1, global_clipnorm=0.5)", lambda: keras.optimizers.SGD(0.1, global_clipnorm=0.5)),
]


def gen_optimizers():
    v0 = np.array([0.5, -1.2, 3.0, 0.1], dtype="float32")
    grads = np.random.default_rng(1).normal(size=(4, 4)).astype("float32")
    trajectories = {}
    for key, factory in OPTIMIZER_CASES:
        keras.backend.clear_session()
        opt = factory()
        var = keras.Variable(v0, dtype="float32", name="v")
        steps, lrs = [], []
        for t in range(4):
            lrs.append(float(keras.ops.convert_to_numpy(opt.learning_rate)))
            opt.apply_gradients([(keras.ops.convert_to_tensor(grads[t]), var)])
            steps.append(to_list(var.value))
        cfg = opt.get_config()
        trajectories[key] = {
            "after_step": steps,
            "learning_rate_used": lrs,
            "config": json.loads(json.dumps(cfg, default=str)),
        }
    write_json(
        "optimizers.json",
        {
            "keras_version": KERAS_VERSION,
            "backend": BACKEND,
            "notes": [
                "v0 and gradients are float32. Step t applies "
                "optimizer.apply_gradients([(gradients[t], var)]); after_step[t] is var after it.",
                "gradients = numpy.random.default_rng(1).normal(size=(4, 4)) cast to float32.",
                "learning_rate_used[t] = optimizer.learning_rate read just before step t "
                "(schedules are evaluated at optimizer.iterations = t).",
            ],
            "v0": v0.tolist(),
            "gradients": grads.astype(np.float64).tolist(),
            "trajectories": trajectories,
        },
    )


# --------------------------------------------------------------------------
# 7. Parity: accuracy on small scikit-learn datasets
# --------------------------------------------------------------------------


def gen_parity():
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    datasets = {
        "digits": (load_digits, 10, "softmax", "sparse_categorical_crossentropy"),
        "breast_cancer": (load_breast_cancer, 1, "sigmoid", "binary_crossentropy"),
    }
    results = {}
    for name, (loader, units, act, loss) in datasets.items():
        x, y = loader(return_X_y=True)
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=0)
        scaler = StandardScaler().fit(x_tr)
        x_tr = scaler.transform(x_tr).astype("float32")
        x_te = scaler.transform(x_te).astype("float32")
        accs = []
        for seed in range(5):
            keras.backend.clear_session()
            keras.utils.set_random_seed(seed)
            model = keras.Sequential(
                [
                    keras.Input((x.shape[1],)),
                    L.Dense(64, activation="relu"),
                    L.Dense(units, activation=act),
                ]
            )
            model.compile(optimizer=keras.optimizers.RMSprop(), loss=loss, metrics=["accuracy"])
            model.fit(x_tr, y_tr, epochs=50, batch_size=32, verbose=0)
            _, acc = model.evaluate(x_te, y_te, verbose=0)
            accs.append(float(acc))
            print(f"  {name} seed={seed} acc={acc:.4f}")
        results[name] = {
            "n_train": int(len(x_tr)),
            "n_test": int(len(x_te)),
            "model": f"Dense(64, relu) -> Dense({units}, {act})",
            "loss": loss,
            "test_accuracy": accs,
            "mean": float(np.mean(accs)),
        }
    write_json(
        "parity.json",
        {
            "keras_version": KERAS_VERSION,
            "backend": BACKEND,
            "protocol": "train_test_split(test_size=0.2, random_state=0); StandardScaler fit on train; "
            "RMSprop() defaults; epochs=50, batch_size=32 (shuffle=True default); "
            "keras.utils.set_random_seed(seed) for seed in 0..4; metric from model.evaluate on test split.",
            "results": results,
        },
    )


SECTIONS = {
    "models": gen_models,
    "layers": gen_layers,
    "losses": gen_losses,
    "metrics": gen_metrics,
    "optimizers": gen_optimizers,
    "parity": gen_parity,
}

if __name__ == "__main__":
    print(f"keras {KERAS_VERSION}, backend {BACKEND}")
    for section in sys.argv[1:] or list(SECTIONS):
        SECTIONS[section]()
