"""Keras 3 reference outputs of `keras.utils.timeseries_dataset_from_array`.

Each case in timeseries_outputs.json holds the arguments, the series and targets
(the targets as Keras receives them, and as an offset into `targets_base`), and every
batch of two iterations (epochs) of the dataset: windows and targets. The series'
values are `10 * step + feature`, so a window tells which steps it took.

Keras 3.15 builds this dataset with tf.data (format="tf", the default), so this script
runs in a scratch venv with tensorflow-cpu (2.21.0), keras 3.15.1 and numpy 2.4.6:
    KERAS_BACKEND=tensorflow /path/to/venv/bin/python tests/data/keras/gen_timeseries.py
"""

import json
import os
from typing import Any

import keras
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "timeseries_outputs.json")

STEPS, FEATURES = 60, 3
SERIES = (10 * np.arange(STEPS)[:, None] + np.arange(FEATURES)[None, :]).astype("float32")
BASE_TARGETS = (1000 + np.arange(STEPS)).astype("float32")

CASES: dict[str, dict[str, Any]] = {
    "partial_last_batch": {"sequence_length": 5, "batch_size": 8},
    "rate_and_stride_no_targets": {
        "sequence_length": 10,
        "sampling_rate": 2,
        "sequence_stride": 3,
        "batch_size": 4,
        "targets": None,
    },
    "start_end_and_delay": {
        "sequence_length": 6,
        "sampling_rate": 2,
        "batch_size": 5,
        "start_index": 4,
        "end_index": 40,
        "delay": 12,
    },
    "shuffle_seed": {"sequence_length": 4, "batch_size": 4, "shuffle": True, "seed": 7},
    "shuffle_rate_stride_start": {
        "sequence_length": 5,
        "sampling_rate": 3,
        "sequence_stride": 2,
        "batch_size": 3,
        "shuffle": True,
        "seed": 123,
        "start_index": 2,
        "delay": 4,
    },
    "one_partial_batch": {"sequence_length": 50, "batch_size": 128},
}


def run(case: dict[str, Any]) -> dict[str, Any]:
    args = dict(case)
    delay = args.pop("delay", 0)
    no_targets = "targets" in args and args.pop("targets") is None
    data = SERIES[:-delay] if delay else SERIES
    targets = None if no_targets else BASE_TARGETS[delay:]
    dataset = keras.utils.timeseries_dataset_from_array(data, targets, **args)
    epochs = []
    for _ in range(2):
        batches = []
        for batch in dataset:
            x, y = batch if targets is not None else (batch, None)
            batches.append(
                {"x": np.asarray(x).tolist(), "y": None if y is None else np.asarray(y).tolist()}
            )
        epochs.append(batches)
    return {
        "args": args,
        "series_steps": len(data),
        "targets_offset": None if no_targets else delay,
        "epochs": epochs,
    }


result = {
    "keras_version": keras.__version__,
    "series": SERIES.tolist(),
    "targets_base": BASE_TARGETS.tolist(),
    "cases": {name: run(case) for name, case in CASES.items()},
}
with open(OUT, "w") as f:
    json.dump(result, f)
print("wrote", OUT)
