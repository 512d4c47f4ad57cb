"""Keras 3 reference data: keras.losses values for fixed inputs, plain, weighted and per sample (`losses.json`).

Run by generate.py (which gives the venv and versions), or alone:
    KERAS_BACKEND=torch /tmp/kerasref/bin/python tests/data/keras/gen_losses.py
"""

from keras_ref import BACKEND, KERAS_VERSION, keras, np, to_list, write_json

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


if __name__ == "__main__":
    gen_losses()
