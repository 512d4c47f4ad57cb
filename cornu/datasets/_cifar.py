"""One CIFAR batch file (a pickled dict from Python 2), read without running code."""

from __future__ import annotations

import pickle

import numpy as np

from cornu.datasets._unpickle import load_pickle


def load_batch(fpath: str, label_key: str = "labels") -> tuple[np.ndarray, list[int]]:
    """The batch's images, uint8 `(samples, 3, 32, 32)` (channels first, as stored), and
    its labels under `label_key` (a list of int), as Keras's `cifar.load_batch`."""
    batch = load_pickle(fpath, encoding="bytes")
    if not isinstance(batch, dict):
        raise pickle.UnpicklingError(f"{fpath}: expected a CIFAR batch (a dict)")
    fields = {key.decode("utf8"): value for key, value in batch.items()}
    data = fields["data"]
    return data.reshape(data.shape[0], 3, 32, 32), fields[label_key]
