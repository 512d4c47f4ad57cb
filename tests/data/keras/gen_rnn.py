"""Generate rnn_outputs.json: Keras 3's outputs for recurrent layers with given weights.

Every output here was computed by real Keras. Each case is a stack of layers (given with
Keras's own argument names, which Cornu's specs share), a tiny input, the weights set
with `layer.set_weights` (Keras's layouts and gate orders) under their Keras variable
paths, and the outputs (several for `return_state` or `merge_mode=None`). `model` is a
Sequential of these layers as `model.to_json()` writes it, with Keras's summary.

Produced with python 3.11, keras 3.15.1 (torch backend), torch 2.13.0+cpu, numpy 2.4.6.
Regenerate (from the repository root):
    KERAS_BACKEND=torch /tmp/kerasref/bin/python tests/data/keras/gen_rnn.py
"""

import json
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parent / "rnn_outputs.json"
BATCH, STEPS, FEATURES, UNITS, VOCAB = 3, 5, 4, 3, 10

# Ids with 0 as padding: padded at the front, at the back, and with holes (the last
# sample has no valid step at all).
IDS = {
    "pre": [[0, 0, 3, 4, 5], [0, 1, 2, 3, 4], [0, 0, 0, 0, 7]],
    "post": [[3, 4, 5, 0, 0], [1, 2, 3, 4, 9], [7, 0, 0, 0, 0]],
    "holes": [[3, 0, 5, 0, 2], [0, 1, 0, 0, 4], [0, 0, 0, 0, 0]],
}
EMBEDDING = {"type": "Embedding", "input_dim": VOCAB, "output_dim": FEATURES, "mask_zero": True}


def lstm(**kw):
    return {"type": "LSTM", "units": UNITS, **kw}


def gru(**kw):
    return {"type": "GRU", "units": UNITS, **kw}


def simple(**kw):
    return {"type": "SimpleRNN", "units": UNITS, **kw}


def bidirectional(layer, **kw):
    return {"type": "Bidirectional", "layer": layer, **kw}


SEQ = {"return_sequences": True}
# name: (layers, "floats" or a key of IDS)
CASES = {
    "simple_rnn_seq": ([simple(**SEQ)], "floats"),
    "simple_rnn_relu": ([simple(activation="relu")], "floats"),
    "simple_rnn_back": ([simple(go_backwards=True)], "floats"),
    "lstm": ([lstm()], "floats"),
    "lstm_seq_state": ([lstm(**SEQ, return_state=True)], "floats"),
    "lstm_no_bias_back": ([lstm(**SEQ, use_bias=False, go_backwards=True)], "floats"),
    "lstm_relu_seq": ([lstm(**SEQ, activation="relu")], "floats"),
    "gru_seq_state": ([gru(**SEQ, return_state=True)], "floats"),
    "gru_reset_before_seq": ([gru(**SEQ, reset_after=False)], "floats"),
    "gru_back": ([gru(**SEQ, go_backwards=True)], "floats"),
    "bi_lstm_concat": ([bidirectional(lstm(**SEQ))], "floats"),
    "bi_gru_none_state": ([bidirectional(gru(return_state=True), merge_mode=None)], "floats"),
    "time_distributed_dense": (
        [{"type": "TimeDistributed", "layer": {"type": "Dense", "units": 2, "activation": "tanh"}}],
        "floats",
    ),
    "emb_lstm_pre_seq": ([EMBEDDING, lstm(**SEQ)], "pre"),
    "emb_lstm_pre_last": ([EMBEDDING, lstm()], "pre"),
    "emb_lstm_post_seq": ([EMBEDDING, lstm(**SEQ)], "post"),
    "emb_lstm_post_last": ([EMBEDDING, lstm()], "post"),
    "emb_lstm_holes_seq": ([EMBEDDING, lstm(**SEQ)], "holes"),
    "emb_lstm_holes_last": ([EMBEDDING, lstm()], "holes"),
    "emb_lstm_holes_state": ([EMBEDDING, lstm(**SEQ, return_state=True)], "holes"),
    "emb_lstm_holes_back": ([EMBEDDING, lstm(**SEQ, go_backwards=True)], "holes"),
    "emb_lstm_holes_zero_output": ([EMBEDDING, lstm(**SEQ, zero_output_for_mask=True)], "holes"),
    "emb_lstm_relu_holes": ([EMBEDDING, lstm(**SEQ, activation="relu")], "holes"),
    "emb_gru_holes_seq": ([EMBEDDING, gru(**SEQ)], "holes"),
    "emb_gru_reset_before_holes": ([EMBEDDING, gru(**SEQ, reset_after=False)], "holes"),
    "emb_simple_rnn_holes_last": ([EMBEDDING, simple()], "holes"),
    "emb_bi_lstm_concat_holes": ([EMBEDDING, bidirectional(lstm(**SEQ))], "holes"),
    "emb_bi_gru_sum_holes": ([EMBEDDING, bidirectional(gru(**SEQ), merge_mode="sum")], "holes"),
    "emb_bi_lstm_last_holes": ([EMBEDDING, bidirectional(lstm())], "holes"),
}


def make(config):
    config = dict(config)
    kind = config.pop("type")
    if "layer" in config:
        config["layer"] = make(config["layer"])
    return getattr(keras.layers, kind)(**config)


def short(values):
    """float32 values as the shortest decimals that read back exactly."""
    return np.vectorize(lambda v: float(f"{v:.9g}"), otypes=[object])(
        np.asarray(values, np.float32)
    ).tolist()


def run(layers_config, input_kind, rng):
    keras.utils.clear_session()  # default layer names start afresh: lstm, forward_lstm, …
    if input_kind == "floats":
        x = rng.uniform(-1, 1, (BATCH, STEPS, FEATURES)).astype(np.float32)
        inputs = keras.Input((STEPS, FEATURES))
    else:
        x = np.array(IDS[input_kind], dtype=np.int64)
        inputs = keras.Input((STEPS,), dtype="int64")
    layers = [make(c) for c in layers_config]
    y = inputs
    for layer in layers:
        y = layer(y)
    model = keras.Model(inputs, y)
    weights = []
    for layer in layers:
        values = [rng.uniform(-0.6, 0.6, v.shape).astype(np.float32) for v in layer.weights]
        layer.set_weights(values)
        weights.append(
            {"paths": [v.path for v in layer.weights], "values": [short(v) for v in values]}
        )
    outputs = model(x)
    outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
    return {
        "layers": layers_config,
        "input": x.tolist() if input_kind != "floats" else short(x),
        "weights": weights,
        "outputs": [short(keras.ops.convert_to_numpy(o)) for o in outputs],
    }


def wrappers_model():
    """`model.to_json()` of a Sequential of every layer here, and Keras's summary of it."""
    keras.utils.clear_session()
    model = keras.Sequential(
        [
            keras.Input((STEPS, FEATURES)),
            make(bidirectional(lstm(**SEQ), merge_mode="ave")),
            make(gru(**SEQ, reset_after=False, go_backwards=True)),
            make({"type": "TimeDistributed", "layer": {"type": "Dense", "units": 2}}),
            make(simple(dropout=0.2, recurrent_dropout=0.1)),
        ]
    )
    summary = [
        [layer.name, list(layer.output.shape[1:]), layer.count_params()] for layer in model.layers
    ]
    return {"json": model.to_json(), "summary": summary}


def main():
    rng = np.random.default_rng(20240611)
    cases = {name: run(layers, kind, rng) for name, (layers, kind) in CASES.items()}
    data = {
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "cases": cases,
        "model": wrappers_model(),
    }
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KB, {len(cases)} cases)")


if __name__ == "__main__":
    main()
