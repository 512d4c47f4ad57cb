"""`keras.utils.timeseries_dataset_from_array`, giving an `ArrayDataset` whose windows are
cut from the series when a batch is read (Keras gives a `tf.data.Dataset`).

Given to `fit`, `evaluate` or `predict` of a remote model as it was made (no `map`,
`batch`, … since), it goes to the service as a `TimeseriesSource`: the series and the
targets are uploaded once, and the worker cuts the windows, in the same order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from cornu.utils import dataset_ops as ops
from cornu.utils.array_dataset import ArrayDataset, check_batch_size


class WindowColumn(ops.LazyColumn):
    """Window `i` is `series[positions[i] + k * sampling_rate]` for `k < sequence_length`."""

    def __init__(
        self, series: np.ndarray, positions: np.ndarray, sequence_length: int, sampling_rate: int
    ) -> None:
        self.series, self.positions = series, positions
        self.offsets = np.arange(sequence_length, dtype=np.int64) * sampling_rate

    def __len__(self) -> int:
        return len(self.positions)

    def rows(self, index: np.ndarray) -> np.ndarray:
        starts = self.positions[index].astype(np.int64)
        return self.series[starts[:, None] + self.offsets[None, :]]


class TimeseriesDataset(ArrayDataset):
    """The windows of `timeseries_dataset_from_array`, which also know how they were made."""

    _made: tuple[ops.Node, dict[str, Any], np.ndarray, np.ndarray | None]

    def source(self, upload: Callable[[np.ndarray, str], str]) -> dict[str, Any] | None:
        """The job contract's `TimeseriesSource` for these windows, the series and targets
        uploaded by `upload(array, label)` (its dataset id); None when the dataset was
        changed since it was made (then its batches are what the service must take)."""
        made = getattr(self, "_made", None)
        if made is None or made[0] is not self._node or made[1]["batch_size"] is None:
            return None
        _, arguments, series, targets = made
        found = {"type": "timeseries", "data": upload(series, "timeseries data"), **arguments}
        if targets is not None:
            found["targets"] = upload(targets, "timeseries targets")
        return {k: v for k, v in found.items() if v is not None}


def _check(data_length: int, name: str, value: int, *, low: int = 0) -> None:
    if value <= low:
        raise ValueError(f"`{name}` must be higher than {low}. Received: {name}={value}")
    if value >= data_length:
        raise ValueError(
            f"`{name}` must be lower than the length of the data. Received: {name}={value}, "
            f"for data of length {data_length}"
        )


def timeseries_dataset_from_array(
    data: ArrayLike,
    targets: ArrayLike | None,
    sequence_length: int,
    sequence_stride: int = 1,
    sampling_rate: int = 1,
    batch_size: int | None = 128,
    shuffle: bool = False,
    seed: int | None = None,
    start_index: int | None = None,
    end_index: int | None = None,
    format: str = "tf",
) -> TimeseriesDataset:
    """Sliding windows over a series, as Keras's
    `keras.utils.timeseries_dataset_from_array`.

    Window `i` starts at `start_index + p_i`, where `p_i = i * sequence_stride` for the
    `p_i < end_index - start_index - (sequence_length - 1) * sampling_rate` (and, with
    targets, `< len(targets)`), and takes every `sampling_rate`-th step, `sequence_length`
    of them. Its target is `targets[start_index + p_i]`. With `shuffle`, the windows come in
    the order `numpy.random.RandomState(seed).shuffle` gives the starts (as Keras), and in
    a new order each later epoch.

    Args:
        data: the series, `(steps, ...)`; the windows keep its dtype.
        targets: one target per step, `(steps, ...)`, or None (windows alone).
        sequence_length: steps per window.
        sequence_stride: steps between the starts of successive windows.
        sampling_rate: steps between the samples within a window.
        batch_size: windows per batch, or None for single windows.
        shuffle: shuffle the windows.
        seed: the shuffle's seed.
        start_index: the first step used (default 0).
        end_index: the step before which windows must end (default `len(data)`).
        format: "tf" or "grain" (an `ArrayDataset` either way).

    Returns:
        An `ArrayDataset` of `(batch, sequence_length, ...)` windows, with their targets
        `(batch, ...)` when `targets` is given.

    Raises:
        ValueError: an index, stride or rate outside the data (naming it and the value).
    """
    series = np.asarray(data)
    length = len(series)
    if start_index:
        if start_index < 0:
            raise ValueError(
                f"`start_index` must be 0 or greater. Received: start_index={start_index}"
            )
        if start_index >= length:
            raise ValueError(
                "`start_index` must be lower than the length of the data. Received: "
                f"start_index={start_index}, for data of length {length}"
            )
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(
                "`end_index` must be higher than `start_index`. Received: "
                f"start_index={start_index}, and end_index={end_index} "
            )
        if end_index >= length:
            raise ValueError(
                "`end_index` must be lower than the length of the data. Received: "
                f"end_index={end_index}, for data of length {length}"
            )
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    _check(length, "sampling_rate", sampling_rate)
    _check(length, "sequence_stride", sequence_stride)
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    check_batch_size(batch_size)
    start = start_index or 0
    end = length if end_index is None else end_index
    count = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        count = min(count, len(np.asarray(targets)))
    dtype = "int32" if count < 2147483647 else "int64"
    positions = np.arange(0, count, sequence_stride, dtype=dtype)
    if shuffle:
        if seed is None:
            seed = int(np.random.randint(1_000_000))
        np.random.RandomState(seed).shuffle(positions)
    windows = WindowColumn(series[start:end], positions, sequence_length, sampling_rate)
    element: Any = windows
    target_steps = None if targets is None else np.asarray(targets)
    if target_steps is not None:
        element = (windows, target_steps[start:end][positions])
    node = ops.Source(element, batch_size, shuffle, seed)
    dataset = TimeseriesDataset.__new__(TimeseriesDataset)
    dataset._init(node)
    arguments = {"sequence_length": sequence_length, "sequence_stride": sequence_stride,
                 "sampling_rate": sampling_rate, "batch_size": batch_size, "shuffle": shuffle,
                 "seed": seed, "start_index": start_index, "end_index": end_index}  # fmt: skip
    dataset._made = (node, arguments, series, target_steps)
    return dataset


__all__ = ["TimeseriesDataset", "timeseries_dataset_from_array"]
