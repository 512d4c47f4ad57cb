"""Keras 3 reference data: keras.metrics results and names, and History keys for metric identifiers
(`metrics.json`).

Run by generate.py (which gives the venv and versions), or alone:
    KERAS_BACKEND=torch /tmp/kerasref/bin/python tests/data/keras/gen_metrics.py
"""

from gen_models import build_functional
from keras_ref import BACKEND, KERAS_VERSION, keras, np, write_json
from keras_ref import layers as L

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


if __name__ == "__main__":
    gen_metrics()
