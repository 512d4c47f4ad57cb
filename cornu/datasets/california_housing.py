"""California house values by census block group, as Keras's
`keras.datasets.california_housing`."""

from __future__ import annotations

import numpy as np

from cornu.datasets._splits import Splits, check_test_split, shuffle_split
from cornu.utils.file_utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/california_housing.npz"
FILE_HASH = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"
#: The `"small"` version: the file's first this many samples.
SMALL_SAMPLES = 600


def load_data(
    version: str = "large",
    path: str = "california_housing.npz",
    test_split: float = 0.2,
    seed: int = 113,
) -> Splits:
    """20,640 California block groups of the 1990 census, 8 features each, and their median
    house value, as Keras's `keras.datasets.california_housing.load_data`:
    `(x_train, y_train), (x_test, y_test)`.

    `x_*`: float32 `(samples, 8)`: median income, house age, average rooms, average
    bedrooms, population, average occupancy, latitude, longitude; `y_*`: float32
    `(samples,)`, the median house value in dollars. `version="small"` keeps the file's
    first 600 samples. Shuffled with `np.random.RandomState(seed)`, then the first
    `int(n * (1 - test_split))` samples train and the rest test.

    Raises ValueError unless 0 <= test_split < 1, or for a `version` other than `"small"`
    and `"large"` (checked after the download, as in Keras),
    `cornu.utils.file_utils.DownloadError` when the file is not cached and cannot be
    downloaded.
    """
    check_test_split(test_split)
    path = get_file(path, origin=ORIGIN, file_hash=FILE_HASH)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:SMALL_SAMPLES], y[:SMALL_SAMPLES]
    elif version != "large":
        raise ValueError(
            f"Argument `version` must be one of 'small', 'large'. Received: version={version}"
        )
    return shuffle_split(x, y, test_split, seed)
