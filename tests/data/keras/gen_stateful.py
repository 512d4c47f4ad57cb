"""Generate stateful_outputs.json: Keras 3's stateful=True recurrent layers, batch by batch.

Each case is a small model `Input(shape=(STEPS, FEATURES), batch_size=BATCH)` → a
`stateful=True` recurrent layer → Dense(1), with fixed weights (by Keras name, in Keras's
layouts) and SAMPLES = 3·BATCH samples, so that one call runs three batches. Recorded, in
this order on the same model (each step sees the states the previous one left):

- `predict_1`: `predict(x, batch_size=BATCH)` from zero states (the carry across batches);
- `predict_2`: the same call again (the states carry from one predict to the next);
- `predict_reset`: after `layer.reset_state()` (the same as `predict_1`);
- `fit_loss`: after another reset, `fit(x, y, batch_size=BATCH, epochs=EPOCHS,
  shuffle=False)` with SGD(0.1) and mse: the epochs' losses (history);
- `predict_after_fit`: `predict` right after fit (the states fit left, the weights it
  trained).

LSTM and GRU are built with `use_cudnn=False`: with the default ("auto") Keras 3.15.1's
torch backend fails on the first training batch of a stateful LSTM/GRU ("one of the
variables needed for gradient computation has been modified by an inplace operation"),
its fused path reading the state variables that the layer then assigns in place. The
step loop it runs instead computes the same layer.

Produced with python 3.11, keras 3.15.1 (torch backend), torch 2.13.0+cpu, numpy 2.4.6.
Regenerate (from the repository root):
    KERAS_BACKEND=torch .venv/bin/python tests/data/keras/gen_stateful.py
"""

import json
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parent / "stateful_outputs.json"
BATCH, STEPS, FEATURES, UNITS, EPOCHS = 2, 4, 3, 3, 2
SAMPLES = 3 * BATCH


def recurrent(kind: str) -> keras.layers.Layer:
    extra = {} if kind == "SimpleRNN" else {"use_cudnn": False}
    return getattr(keras.layers, kind)(UNITS, stateful=True, **extra)


CASES = {
    "simple_rnn": lambda: recurrent("SimpleRNN"),
    "lstm": lambda: recurrent("LSTM"),
    "gru": lambda: recurrent("GRU"),
    "bidirectional_lstm": lambda: keras.layers.Bidirectional(recurrent("LSTM")),
}


def recurrent_layers(layer):
    if isinstance(layer, keras.layers.Bidirectional):
        return [layer.forward_layer, layer.backward_layer]
    return [layer]


def run(name, make, rng):
    inputs = keras.Input(shape=(STEPS, FEATURES), batch_size=BATCH)
    layer = make()
    model = keras.Model(inputs, keras.layers.Dense(1)(layer(inputs)))
    weights = {}
    for w in model.weights:
        value = rng.uniform(-0.6, 0.6, size=w.shape).astype("float32")
        w.assign(value)
    for w in model.weights:  # Keras's names without the cell (`lstm/kernel`), as Cornu's
        key = "/".join(p for p in w.path.split("/") if not p.endswith("_cell"))
        weights[key] = np.asarray(w.numpy()).tolist()
    x = rng.normal(size=(SAMPLES, STEPS, FEATURES)).astype("float32")
    y = rng.normal(size=(SAMPLES, 1)).astype("float32")

    def reset():
        for r in recurrent_layers(layer):
            r.reset_state()

    out = {"model": json.loads(model.to_json()), "weights": weights}
    out |= {"x": x.tolist(), "y": y.tolist(), "layer": layer.name}
    out["predict_1"] = model.predict(x, batch_size=BATCH, verbose=0).tolist()
    out["predict_2"] = model.predict(x, batch_size=BATCH, verbose=0).tolist()
    reset()
    out["predict_reset"] = model.predict(x, batch_size=BATCH, verbose=0).tolist()
    reset()
    model.compile(keras.optimizers.SGD(0.1), "mse")
    history = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
    out["fit_loss"] = history.history["loss"]
    out["predict_after_fit"] = model.predict(x, batch_size=BATCH, verbose=0).tolist()
    return out


def main():
    rng = np.random.default_rng(0)
    cases = {name: run(name, make, rng) for name, make in CASES.items()}
    meta = {"keras": keras.__version__, "backend": keras.backend.backend(), "batch": BATCH}
    OUT.write_text(json.dumps({"meta": meta, "cases": cases}, indent=1) + "\n")


if __name__ == "__main__":
    main()
