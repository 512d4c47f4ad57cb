"""Generate reversible_spectral_outputs.json: Keras 3's ReversibleEmbedding and
SpectralNormalization, with fixed weights and inputs.

- `models`: small functional models, each with its `to_json()`, its weights by Keras's
  variable path in `get_weights()` order, its inputs and `predict` outputs:
  `tied_lm` (ids → ReversibleEmbedding → SpectralNormalization(Dense) → the same
  embedding called with `reverse=True` and a `logit_soft_cap`: a tied-embedding language
  model) and `untied` (hidden states → an untied ReversibleEmbedding in reverse, then
  forwards on ids in a second input). `tied_lm` also records `train_steps`: three
  `model(ids, training=True)` calls, each output and the weights after it (the spectral
  normalization assigns the kernel and `vector_u` at each), then `predict` (inference:
  no assignment); and `fit`: from the starting weights again, `fit(ids, targets,
  batch_size=4, epochs=3, shuffle=False)` with SGD(0.1) and sparse categorical
  cross-entropy on the logits: the epochs' losses and the weights after.
- `spectral`: SpectralNormalization over Dense, Conv2D and Embedding alone, each from
  fixed weights (and `vector_u`): three training calls (output, kernel and `vector_u`
  after each), then an inference call.

Produced with python 3.11, keras 3.15.1 (torch backend), torch 2.13.0+cpu, numpy 2.4.6.
Regenerate (from the repository root):
    KERAS_BACKEND=torch .venv/bin/python tests/data/keras/gen_reversible_spectral.py
"""

import json
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parent / "reversible_spectral_outputs.json"
VOCAB, DIM, STEPS, SAMPLES = 11, 4, 6, 8


def weights(model):
    return {v.path: np.asarray(v.numpy()).tolist() for v in model.weights}


def set_random(model, rng):
    """Every weight drawn at random (`vector_u` too), so that nothing rests on Keras's
    initializers."""
    model.set_weights([rng.normal(0, 0.5, size=w.shape).astype("float32") for w in model.weights])


def tied_lm(rng):
    ids = keras.Input((STEPS,), dtype="int32", name="ids")
    emb = keras.layers.ReversibleEmbedding(VOCAB, DIM, logit_soft_cap=3.0, name="emb")
    hidden = emb(ids)
    dense = keras.layers.Dense(DIM, activation="tanh", name="mix")
    hidden = keras.layers.SpectralNormalization(dense, power_iterations=2, name="sn")(hidden)
    logits = emb(hidden, reverse=True)
    model = keras.Model(ids, logits, name="tied_lm")
    set_random(model, rng)
    x = rng.integers(0, VOCAB, size=(SAMPLES, STEPS)).astype("int32")
    start = weights(model)
    case = {"json": json.loads(model.to_json()), "weights": start, "inputs": [x.tolist()]}
    case["outputs"] = [np.asarray(model.predict(x, verbose=0)).tolist()]
    steps = []
    for _ in range(3):
        y = model(x, training=True)
        steps.append({"output": np.asarray(y.detach().cpu()).tolist(), "weights": weights(model)})
    case["train_steps"] = steps
    case["after_training_predict"] = np.asarray(model.predict(x, verbose=0)).tolist()
    model.set_weights([np.asarray(w, dtype="float32") for w in start.values()])
    targets = rng.integers(0, VOCAB, size=(SAMPLES, STEPS)).astype("int32")
    model.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = model.fit(x, targets, batch_size=4, epochs=3, shuffle=False, verbose=0)
    case["fit"] = {
        "targets": targets.tolist(),
        "loss": [float(v) for v in history.history["loss"]],
        "weights": weights(model),
    }
    return case


def untied(rng):
    hidden = keras.Input((3, DIM), name="hidden")
    ids = keras.Input((3,), dtype="int32", name="ids")
    emb = keras.layers.ReversibleEmbedding(VOCAB, DIM, tie_weights=False, name="emb")
    logits = emb(hidden, reverse=True)
    embedded = emb(ids)
    model = keras.Model([hidden, ids], [logits, embedded], name="untied")
    set_random(model, rng)
    x = [
        rng.normal(size=(SAMPLES, 3, DIM)).astype("float32"),
        rng.integers(0, VOCAB, size=(SAMPLES, 3)).astype("int32"),
    ]
    out = model.predict(x, verbose=0)
    return {
        "json": json.loads(model.to_json()),
        "weights": weights(model),
        "inputs": [a.tolist() for a in x],
        "outputs": [np.asarray(o).tolist() for o in out],
    }


SPECTRAL = {
    "dense": (lambda: keras.layers.Dense(3, name="inner"), (5,), 1),
    "conv2d": (lambda: keras.layers.Conv2D(3, 2, name="inner"), (5, 5, 2), 3),
    "embedding": (lambda: keras.layers.Embedding(7, 3, name="inner"), (4,), 1),
}


def spectral(name, rng):
    make, shape, iterations = SPECTRAL[name]
    layer = keras.layers.SpectralNormalization(make(), power_iterations=iterations, name="sn")
    if name == "embedding":
        x = rng.integers(0, 7, size=(3, *shape)).astype("float32")  # float ids (Keras casts)
    else:
        x = rng.normal(size=(3, *shape)).astype("float32")
    layer.build((None, *shape))
    layer.set_weights([rng.normal(0, 0.5, size=w.shape).astype("float32") for w in layer.weights])
    case = {
        "layer": {"class_name": make().__class__.__name__, "config": make().get_config()},
        "power_iterations": iterations,
        "weights": {v.path: np.asarray(v.numpy()).tolist() for v in layer.weights},
        "input": x.tolist(),
        "steps": [],
    }
    for _ in range(3):
        y = layer(x, training=True)
        case["steps"].append(
            {
                "output": np.asarray(y.detach().cpu()).tolist(),
                "kernel": np.asarray(layer.kernel.numpy()).tolist(),
                "vector_u": np.asarray(layer.vector_u.numpy()).tolist(),
            }
        )
    case["inference"] = np.asarray(layer(x, training=False).detach().cpu()).tolist()
    return case


def main():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    out = {
        "keras_version": keras.__version__,
        "models": {"tied_lm": tied_lm(rng), "untied": untied(rng)},
        "spectral": {name: spectral(name, rng) for name in SPECTRAL},
    }
    OUT.write_text(json.dumps(out) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
