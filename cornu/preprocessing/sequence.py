"""Keras 2's sequence preprocessing (`keras.preprocessing.sequence`, kept by Keras 3 under
`keras.src.legacy.preprocessing.sequence`): `pad_sequences`, `TimeseriesGenerator`,
`skipgrams`, `make_sampling_table`."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from cornu.utils.py_dataset import PyDataset
from cornu.utils.sequence_utils import pad_sequences


class TimeseriesGenerator(PyDataset):
    """Batches of windows over a series with the target that follows each, as Keras's
    `keras.preprocessing.sequence.TimeseriesGenerator`.

    For each row `r` from `start_index + length` to `end_index` (every `stride`-th), the
    sample is `data[r - length : r : sampling_rate]` and its target `targets[r]`. With
    `shuffle`, each batch takes `batch_size` rows drawn at random (with replacement, from
    numpy's global generator) instead.

    Args:
        data: the series, `(steps, ...)`.
        targets: one target per step, `(steps, ...)`.
        length: steps of history per sample.
        sampling_rate: steps between the samples within a window.
        stride: steps between successive windows.
        start_index, end_index: the rows used (default: all, `end_index = len(data) - 1`).
        shuffle: draw the rows at random.
        reverse: give each window's steps in reverse order.
        batch_size: windows per batch.

    Raises:
        ValueError: `data` and `targets` of different lengths, or `start_index + length`
            past `end_index`.
    """

    def __init__(
        self,
        data: Any,
        targets: Any,
        length: int,
        sampling_rate: int = 1,
        stride: int = 1,
        start_index: int = 0,
        end_index: int | None = None,
        shuffle: bool = False,
        reverse: bool = False,
        batch_size: int = 128,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if len(data) != len(targets):
            raise ValueError(
                "Data and targets have to be of same length. Data length is "
                f"{len(data)} while target length is {len(targets)}"
            )
        self.data, self.targets = data, targets
        self.length, self.sampling_rate, self.stride = length, sampling_rate, stride
        self.start_index = start_index + length
        self.end_index = len(data) - 1 if end_index is None else end_index
        self.shuffle, self.reverse, self.batch_size = shuffle, reverse, batch_size
        if self.start_index > self.end_index:
            raise ValueError(
                f"`start_index+length={self.start_index} > end_index={self.end_index}` is "
                "disallowed, as no part of the sequence would be left to be used as current step."
            )

    def __len__(self) -> int:
        window = self.batch_size * self.stride
        return (self.end_index - self.start_index + window) // window

    def _rows(self, index: int) -> np.ndarray:
        if self.shuffle:
            return np.random.randint(self.start_index, self.end_index + 1, size=self.batch_size)
        first = self.start_index + self.batch_size * self.stride * index
        last = min(first + self.batch_size * self.stride, self.end_index + 1)
        return np.arange(first, last, self.stride)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch `index`: samples `(batch, length // sampling_rate, ...)` and targets."""
        rows = self._rows(index)
        samples = np.array([self.data[r - self.length : r : self.sampling_rate] for r in rows])
        targets = np.array([self.targets[r] for r in rows])
        if self.reverse:
            return samples[:, ::-1, ...], targets
        return samples, targets

    def as_arrays(self) -> tuple[np.ndarray, np.ndarray, None] | None:
        """Every window and target at once (batches in order), or None when shuffling
        (each batch is then a fresh random draw)."""
        if self.shuffle:
            return None
        batches = [self[i] for i in range(len(self))]
        return (
            np.concatenate([b[0] for b in batches]),
            np.concatenate([b[1] for b in batches]),
            None,
        )

    def get_config(self) -> dict[str, Any]:
        """The generator's arguments, with `data` and `targets` as JSON strings.

        Raises:
            TypeError: `data` or `targets` cannot be written as JSON.
        """
        config: dict[str, Any] = {}
        for name in ("data", "targets"):
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                value = value.tolist()
            try:
                config[name] = json.dumps(value)
            except TypeError as exc:
                label = "Data" if name == "data" else "Targets"
                raise TypeError(f"{label} not JSON Serializable: {value}") from exc
        return {
            **config,
            "length": self.length,
            "sampling_rate": self.sampling_rate,
            "stride": self.stride,
            "start_index": self.start_index,
            "end_index": self.end_index,
            "shuffle": self.shuffle,
            "reverse": self.reverse,
            "batch_size": self.batch_size,
        }

    def to_json(self, **kwargs: Any) -> str:
        """`{"class_name": "TimeseriesGenerator", "config": get_config()}` as JSON."""
        return json.dumps(
            {"class_name": type(self).__name__, "config": self.get_config()}, **kwargs
        )


def make_sampling_table(size: int, sampling_factor: float = 1e-5) -> np.ndarray:
    """The probability of keeping each word rank in `skipgrams`, as Keras's
    `keras.preprocessing.sequence.make_sampling_table`: Zipf's law estimates the word
    frequencies `f`, and `p = min(1, sqrt(sampling_factor / f))` (word2vec's rule).

    Returns:
        float64 `(size,)`; entry `i` for the i-th most common word.
    """
    gamma = 0.577
    rank = np.arange(size)
    rank[0] = 1
    inv_fq = rank * (np.log(rank) + gamma) + 0.5 - 1.0 / (12.0 * rank)
    f = sampling_factor * inv_fq
    return np.minimum(1.0, f / np.sqrt(f))


def skipgrams(
    sequence: Sequence[int],
    vocabulary_size: int,
    window_size: int = 4,
    negative_samples: float = 1.0,
    shuffle: bool = True,
    categorical: bool = False,
    sampling_table: ArrayLike | None = None,
    seed: int | None = None,
) -> tuple[list[list[int]], list[Any]]:
    """Word pairs for word2vec, as Keras's `keras.preprocessing.sequence.skipgrams`.

    Each word (index 0 is skipped) pairs with the words within `window_size` of it
    (label 1); `negative_samples` times as many pairs get a random word (label 0). The
    randomness is Python's `random` module's, drawn as Keras draws it; with `shuffle`,
    both lists are shuffled by `random.Random(seed)`.

    Args:
        sequence: word indices (1 to `vocabulary_size - 1`; 0 is padding).
        sampling_table: `sampling_table[i]`: the probability of keeping word `i`.
        categorical: labels `[0, 1]` / `[1, 0]` instead of 1 / 0.

    Returns:
        `(couples, labels)`: `[[word, context], …]` and their labels.
    """
    table = None if sampling_table is None else np.asarray(sampling_table)
    couples: list[list[int]] = []
    labels: list[Any] = []
    for i, wi in enumerate(sequence):
        if not wi:
            continue
        if table is not None and table[wi] < random.random():
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j != i and sequence[j]:
                couples.append([wi, sequence[j]])
                labels.append([0, 1] if categorical else 1)
    if negative_samples > 0:
        count = int(len(labels) * negative_samples)
        words = [c[0] for c in couples]
        random.shuffle(words)
        couples += [
            [words[i % len(words)], random.randint(1, vocabulary_size - 1)] for i in range(count)
        ]
        labels += [[1, 0] if categorical else 0 for _ in range(count)]
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(10e6))
        random.Random(seed).shuffle(couples)
        random.Random(seed).shuffle(labels)
    return couples, labels


__all__ = ["TimeseriesGenerator", "make_sampling_table", "pad_sequences", "skipgrams"]
