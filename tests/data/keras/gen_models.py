"""Keras 3 reference data: Model JSON from Keras 3 (`keras3_*.json`) and the summaries Keras prints for them
(`expected_summaries.json`).

Run by generate.py (which gives the venv and versions), or alone:
    KERAS_BACKEND=torch /tmp/kerasref/bin/python tests/data/keras/gen_models.py
"""

import json

from keras_ref import OUT, keras, layers, np, shape_wo_batch, write_json


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


if __name__ == "__main__":
    gen_models()
