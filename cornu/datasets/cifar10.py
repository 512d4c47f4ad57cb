"""CIFAR-10 small colour images, as Keras's `keras.datasets.cifar10`."""

from __future__ import annotations

import os

import numpy as np

from cornu.datasets._cifar import load_batch
from cornu.datasets._splits import Splits
from cornu.utils.file_utils import get_file

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
FILE_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
#: Keras's name in the cache: the archive is `<DIRNAME>_archive`, extracted into `<DIRNAME>/`.
DIRNAME = "cifar-10-batches-py-target"
#: Keras reads five training batches of exactly this many images.
BATCH_SAMPLES = 10_000


def load_data() -> Splits:
    """50,000 training and 10,000 test 32x32 colour images of 10 classes, as Keras's
    `keras.datasets.cifar10.load_data`: `(x_train, y_train), (x_test, y_test)`.

    `x_*`: uint8 `(samples, 32, 32, 3)` (channels last), pixel values 0 to 255; `y_*`:
    uint8 `(samples, 1)`: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog,
    7 horse, 8 ship, 9 truck. The images are channels last whatever `image_data_format`
    a `keras.json` names: Cornu's layers are channels last.

    The archive (about 170 MB, checked by sha256) is extracted again on every call, as Keras
    does. Raises `cornu.utils.file_utils.DownloadError` when it is not cached and cannot
    be downloaded, `pickle.UnpicklingError` for a batch that names anything but numpy's
    array reconstruction.
    """
    path = get_file(fname=DIRNAME, origin=ORIGIN, extract=True, file_hash=FILE_HASH)
    path = os.path.join(path, "cifar-10-batches-py")
    x_train = np.empty((5 * BATCH_SAMPLES, 3, 32, 32), dtype="uint8")
    y_train = np.empty((5 * BATCH_SAMPLES,), dtype="uint8")
    for i in range(5):
        batch = slice(i * BATCH_SAMPLES, (i + 1) * BATCH_SAMPLES)
        x_train[batch], y_train[batch] = load_batch(os.path.join(path, f"data_batch_{i + 1}"))
    x_test, labels_test = load_batch(os.path.join(path, "test_batch"))

    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(labels_test, (len(labels_test), 1))
    x_train = x_train.transpose(0, 2, 3, 1)
    x_test = x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test.astype(x_train.dtype), y_test.astype(y_train.dtype))
