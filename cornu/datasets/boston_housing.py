"""Boston house prices, as Keras's `keras.datasets.boston_housing`."""

from __future__ import annotations

import numpy as np

from cornu.datasets._splits import Splits, check_test_split, shuffle_split
from cornu.utils.file_utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz"
FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path: str = "boston_housing.npz", test_split: float = 0.2, seed: int = 113) -> Splits:
    """506 Boston suburbs of the 1970s, 13 attributes each, and their median house value,
    as Keras's `keras.datasets.boston_housing.load_data`:
    `(x_train, y_train), (x_test, y_test)`.

    `x_*`: float64 `(samples, 13)`; `y_*`: float64 `(samples,)`, the median value in
    thousands of dollars (about 5 to 50). Shuffled with `np.random.RandomState(seed)`, then
    the first `int(506 * (1 - test_split))` samples (404 by default) train and the rest
    test. Keras warns that the data set has an ethical problem (its attribute "B"); it is
    best kept for illustrating such problems.

    Raises ValueError unless 0 <= test_split < 1, `cornu.utils.file_utils.DownloadError`
    when the file is not cached and cannot be downloaded.
    """
    check_test_split(test_split)
    path = get_file(path, origin=ORIGIN, file_hash=FILE_HASH)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    return shuffle_split(x, y, test_split, seed)
