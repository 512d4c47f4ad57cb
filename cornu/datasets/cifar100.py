"""CIFAR-100 small colour images, as Keras's `keras.datasets.cifar100`."""

from __future__ import annotations

import os

import numpy as np

from cornu.datasets._cifar import load_batch
from cornu.datasets._splits import Splits
from cornu.utils.file_utils import get_file

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
FILE_HASH = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"
#: Keras's name in the cache: the archive is `<DIRNAME>_archive`, extracted into `<DIRNAME>/`.
DIRNAME = "cifar-100-python-target"
LABEL_MODES = ("fine", "coarse")


def load_data(label_mode: str = "fine") -> Splits:
    """50,000 training and 10,000 test 32x32 colour images of 100 classes in 20
    superclasses, as Keras's `keras.datasets.cifar100.load_data`:
    `(x_train, y_train), (x_test, y_test)`.

    `x_*`: uint8 `(samples, 32, 32, 3)` (channels last, whatever a `keras.json` says),
    pixel values 0 to 255; `y_*`: int64 `(samples, 1)` (Keras keeps the labels' own type
    here, unlike CIFAR-10's uint8), the class 0 to 99 with `label_mode="fine"` or the
    superclass 0 to 19 with `"coarse"`.

    The archive (about 170 MB, checked by sha256) is extracted again on every call, as Keras
    does. Raises ValueError for another `label_mode`, `cornu.utils.file_utils.DownloadError`
    when the archive is not cached and cannot be downloaded, `pickle.UnpicklingError` for
    a batch that names anything but numpy's array reconstruction.
    """
    if label_mode not in LABEL_MODES:
        raise ValueError(
            f'`label_mode` must be one of `"fine"`, `"coarse"`. Received: label_mode={label_mode}.'
        )
    path = get_file(fname=DIRNAME, origin=ORIGIN, extract=True, file_hash=FILE_HASH)
    path = os.path.join(path, "cifar-100-python")
    x_train, labels_train = load_batch(os.path.join(path, "train"), f"{label_mode}_labels")
    x_test, labels_test = load_batch(os.path.join(path, "test"), f"{label_mode}_labels")

    y_train = np.reshape(labels_train, (len(labels_train), 1))
    y_test = np.reshape(labels_test, (len(labels_test), 1))
    return (x_train.transpose(0, 2, 3, 1), y_train), (x_test.transpose(0, 2, 3, 1), y_test)
