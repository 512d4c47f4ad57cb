"""IMDB movie reviews labelled by sentiment, as Keras's `keras.datasets.imdb`."""

from __future__ import annotations

from typing import Any

import numpy as np

from cornu.datasets._sequences import (
    index_words,
    limit_vocabulary,
    read_word_index,
    remove_long_seq,
)
from cornu.datasets._splits import Splits
from cornu.datasets._unpickle import load_npz
from cornu.utils.file_utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz"
FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_ORIGIN = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb_word_index.json"
)
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"  # md5, as Keras gives it


def load_data(
    path: str = "imdb.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int | None = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
    **kwargs: Any,
) -> Splits:
    """25,000 training and 25,000 test movie reviews as lists of word indices, labelled
    1 (positive) or 0 (negative), as Keras's `keras.datasets.imdb.load_data`:
    `(x_train, y_train), (x_test, y_test)`.

    `x_*`: an object array `(samples,)` of lists of int (a 2-D object array when every
    kept review has the same length, as in Keras); `y_*`: int64 `(samples,)`. Each split
    is shuffled with `np.random.RandomState(seed)` (training first, then test, from the
    same generator). A word of rank r (1 = most frequent) is `r + index_from`, each review
    starts with `start_char` (None: no start mark), and words outside
    `skip_top <= index < num_words` become `oov_char` (None: they are dropped). With
    `maxlen`, reviews of `maxlen` words or more (counting `start_char`) are dropped, not
    truncated. Other keyword arguments are accepted and ignored, as in Keras 3.

    Raises ValueError when `maxlen` leaves no review in a split,
    `cornu.utils.file_utils.DownloadError` when `imdb.npz` is not cached and cannot be
    downloaded, `pickle.UnpicklingError` for a file that names anything but numpy's array
    reconstruction.
    """
    f = load_npz(get_file(fname=path, origin=ORIGIN, file_hash=FILE_HASH))
    x_train, x_test = f["x_train"], f["x_test"]
    # Arrays, then lists once `maxlen` filters them, as in Keras.
    labels_train: np.ndarray | list[Any] = f["y_train"]
    labels_test: np.ndarray | list[Any] = f["y_test"]

    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]

    train = index_words(x_train, start_char, index_from)
    test = index_words(x_test, start_char, index_from)
    if maxlen:
        train, labels_train = remove_long_seq(maxlen, train, labels_train)
        test, labels_test = remove_long_seq(maxlen, test, labels_test)
        if not train or not test:
            raise ValueError(
                f"After filtering for sequences shorter than maxlen={maxlen}, no sequence "
                "was kept. Increase maxlen."
            )

    xs = limit_vocabulary(train + test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    idx = len(train)
    return (
        (np.array(xs[:idx], dtype="object"), labels[:idx]),
        (np.array(xs[idx:], dtype="object"), labels[idx:]),
    )


def get_word_index(path: str = "imdb_word_index.json") -> dict[str, int]:
    """Each word's rank in the reviews (1 = most frequent), as Keras's
    `keras.datasets.imdb.get_word_index`. In `load_data`'s output a word of rank r is
    `r + index_from` (3 by default).

    Raises `cornu.utils.file_utils.DownloadError` when the file is not cached and cannot
    be downloaded.
    """
    return read_word_index(path, WORD_INDEX_ORIGIN, WORD_INDEX_HASH)
