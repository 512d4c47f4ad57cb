"""Generate tf.keras 2 (Keras 2 API) reference model JSON for Cornu's tests.

Writes tfkeras2_mlp.json and tfkeras2_functional.json and merges their
entries into expected_summaries.json (keeping the Keras 3 entries).

Produced with:
    python 3.11, tensorflow-cpu 2.15.1 (bundles keras 2.15.0 as tf.keras)
    venv: python3 -m venv /tmp/tfref
          /tmp/tfref/bin/pip install "tensorflow-cpu==2.15.*"

Regenerate (from the repository root):
    /tmp/tfref/bin/python tests/data/keras/generate_tfkeras2.py
"""

import json
import os
from importlib.metadata import version
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow import keras  # noqa: E402
from tensorflow.keras import layers  # noqa: E402

OUT = Path(__file__).resolve().parent


def build_mlp():
    return keras.Sequential(
        [
            layers.Dense(512, activation="relu", input_shape=(784,)),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
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
    "tfkeras2_mlp.json": build_mlp,
    "tfkeras2_functional.json": build_functional,
}


def output_shape(layer):
    """layer.output_shape without the batch dim (as model.summary() shows it).

    InputLayer reports [(None, 16)]; a shared layer whose calls all give the
    same shape reports that shape once.
    """
    shape = layer.output_shape
    if isinstance(shape, list):
        shapes = [list(s[1:]) for s in shape]
        return shapes[0] if len(shapes) == 1 else shapes
    return list(shape[1:])


def summarize(model):
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    rows = []
    for layer in model.layers:
        row = {
            "name": layer.name,
            "class_name": type(layer).__name__,
            "output_shape": output_shape(layer),
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


def main():
    print(f"tensorflow {tf.__version__}, keras {version('keras')}")
    path = OUT / "expected_summaries.json"
    summaries = json.loads(path.read_text()) if path.exists() else {}
    for fname, build in MODELS.items():
        keras.backend.clear_session()  # canonical auto names: dense, dense_1
        model = build()
        (OUT / fname).write_text(json.dumps(json.loads(model.to_json()), indent=2) + "\n")
        print("wrote", fname)
        summaries[fname] = summarize(model)
    path.write_text(json.dumps(summaries, indent=2) + "\n")
    print("updated expected_summaries.json")


if __name__ == "__main__":
    main()
