"""Fashion-MNIST clothing images, as Keras's `keras.datasets.fashion_mnist`."""

from __future__ import annotations

import gzip
import os

import numpy as np

from cornu.datasets._splits import Splits
from cornu.utils.file_utils import get_file

BASE_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
#: Labels then images, training then test; Keras gives no hash for them and checks none.
FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
CACHE_SUBDIR = os.path.join("datasets", "fashion-mnist")


def load_data() -> Splits:
    """60,000 training and 10,000 test 28x28 grayscale images of 10 kinds of clothing, as
    Keras's `keras.datasets.fashion_mnist.load_data`: `(x_train, y_train), (x_test, y_test)`.

    `x_*`: uint8 `(samples, 28, 28)`, pixel values 0 to 255; `y_*`: uint8 `(samples,)`,
    0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker,
    8 Bag, 9 Ankle boot. As in Keras the arrays are read-only views of the files' bytes
    (copy one to change it in place). The four gzipped idx files are cached in
    `~/.keras/datasets/fashion-mnist/`.

    Raises `cornu.utils.file_utils.DownloadError` when a file is not cached and cannot be
    downloaded.
    """
    paths = [get_file(name, origin=BASE_ORIGIN + name, cache_subdir=CACHE_SUBDIR) for name in FILES]
    y_train = _idx(paths[0], offset=8)
    x_train = _idx(paths[1], offset=16).reshape(len(y_train), 28, 28)
    y_test = _idx(paths[2], offset=8)
    x_test = _idx(paths[3], offset=16).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)


def _idx(path: str, offset: int) -> np.ndarray:
    """The uint8 values of a gzipped idx file after its header of `offset` bytes."""
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)
