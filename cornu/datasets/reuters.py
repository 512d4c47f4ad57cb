"""Reuters newswires labelled by topic, as Keras's `keras.datasets.reuters`."""

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

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/reuters.npz"
FILE_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_ORIGIN = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/reuters_word_index.json"
)
WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"  # md5, as Keras gives it

LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing",
    "money-supply", "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass",
    "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum",
    "oilseed", "gold", "tin", "strategic-metal", "livestock", "retail", "ipi",
    "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem",
    "dlr", "gas", "silver", "wpi", "hog", "lead",
)  # fmt: skip


def load_data(
    path: str = "reuters.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    test_split: float = 0.2,
    seed: int | None = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
) -> Splits:
    """11,228 newswires as lists of word indices, labelled with one of 46 topics, as
    Keras's `keras.datasets.reuters.load_data`: `(x_train, y_train), (x_test, y_test)`.

    `x_*`: an object array `(samples,)` of lists of int; `y_*`: int64 `(samples,)`, the
    topic 0 to 45 (`get_label_names()[y]` names it). The newswires are shuffled with
    `np.random.RandomState(seed)`, then the first `int(n * (1 - test_split))` train and
    the rest test. A word of rank r is `r + index_from`, each newswire starts with
    `start_char` (None: no start mark), words outside `skip_top <= index < num_words`
    become `oov_char` (None: dropped), and with `maxlen` newswires of `maxlen` words or
    more (counting `start_char`) are dropped, not truncated. Unlike the housing loaders,
    Keras does not check `test_split` here.

    Raises `cornu.utils.file_utils.DownloadError` when `reuters.npz` is not cached and
    cannot be downloaded, `pickle.UnpicklingError` for a file that names anything but
    numpy's array reconstruction.
    """
    f = load_npz(get_file(fname=path, origin=ORIGIN, file_hash=FILE_HASH))
    indices = np.arange(len(f["x"]))
    np.random.RandomState(seed).shuffle(indices)
    xs = f["x"][indices]
    labels: np.ndarray | list[Any] = f["y"][indices]  # a list once `maxlen` filters it

    sequences = index_words(xs, start_char, index_from)
    if maxlen:
        sequences, labels = remove_long_seq(maxlen, sequences, labels)
    sequences = limit_vocabulary(sequences, num_words, skip_top, oov_char)

    idx = int(len(sequences) * (1 - test_split))
    return (
        (np.array(sequences[:idx], dtype="object"), np.array(labels[:idx])),
        (np.array(sequences[idx:], dtype="object"), np.array(labels[idx:])),
    )


def get_word_index(path: str = "reuters_word_index.json") -> dict[str, int]:
    """Each word's rank in the newswires (1 = most frequent), as Keras's
    `keras.datasets.reuters.get_word_index`. In `load_data`'s output a word of rank r is
    `r + index_from` (3 by default).

    Raises `cornu.utils.file_utils.DownloadError` when the file is not cached and cannot
    be downloaded.
    """
    return read_word_index(path, WORD_INDEX_ORIGIN, WORD_INDEX_HASH)


def get_label_names() -> tuple[str, ...]:
    """The 46 topics' names, indexed by label, as Keras's
    `keras.datasets.reuters.get_label_names`."""
    return LABEL_NAMES
