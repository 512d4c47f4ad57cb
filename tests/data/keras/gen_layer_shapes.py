"""Keras 3 reference data: Single-layer cases: output shapes, parameter counts and weight layouts
(`layer_shapes.json`).

Run by generate.py (which gives the venv and versions), or alone:
    KERAS_BACKEND=torch /tmp/kerasref/bin/python tests/data/keras/gen_layer_shapes.py
"""

from keras_ref import BACKEND, KERAS_VERSION, keras, layers, np, shape_wo_batch, write_json

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


if __name__ == "__main__":
    gen_layers()
