"""MNIST handwritten digits, as Keras's `keras.datasets.mnist`."""

from __future__ import annotations

import numpy as np

from cornu.datasets._splits import Splits
from cornu.utils.file_utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path: str = "mnist.npz") -> Splits:
    """60,000 training and 10,000 test 28x28 grayscale digits, as Keras's
    `keras.datasets.mnist.load_data`: `(x_train, y_train), (x_test, y_test)`.

    `x_*`: uint8 `(samples, 28, 28)`, pixel values 0 to 255; `y_*`: uint8 `(samples,)`,
    the digit 0 to 9. `path` is the file's name in Keras's cache (`~/.keras/datasets`),
    downloaded from `ORIGIN` when missing or when its sha256 is not `FILE_HASH`.

    Raises `cornu.utils.file_utils.DownloadError` when the file is not cached and cannot
    be downloaded, ValueError when the download does not match its hash.
    """
    path = get_file(fname=path, origin=ORIGIN, file_hash=FILE_HASH)
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
