"""Windows over a series, gathered batch by batch: `keras.utils.timeseries_dataset_from_array`
on the worker without materialising the windows.

`Windows` stands where a batch-first input tensor stands in `trainer.Data`: it answers
`shape`, `device`, `index_select(0, index)` and slices, and gives each batch's windows
as a real tensor gathered from the series (`series[start + k * sampling_rate]`). A job's
`TimeseriesSource` is planned as two datasets of its own (`windows_id`, `targets_id`),
so that every shape check of an array dataset applies to it unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

import numpy as np
import torch
from torch import Tensor

from cornu.core.errors import ErrorItem, SpecError
from cornu.core.spec import DataRef, TimeseriesSource

if TYPE_CHECKING:
    from cornu.core.engine.trainer import Data

Shape = tuple[int, ...]
Loc = tuple[str | int, ...]


class Windows:
    """Window `i` is `series[starts[i] + k * sampling_rate]` for `k < sequence_length`."""

    def __init__(self, series: Tensor, starts: Tensor, sequence_length: int, sampling_rate: int):
        self.series, self.starts = series, starts
        self.offsets = torch.arange(sequence_length, device=series.device) * sampling_rate
        self.shape = torch.Size((len(starts), sequence_length, *series.shape[1:]))

    @property
    def device(self) -> torch.device:
        return self.series.device

    @property
    def dtype(self) -> torch.dtype:
        return self.series.dtype

    def dim(self) -> int:
        return len(self.shape)

    def _gather(self, starts: Tensor) -> Tensor:
        return self.series[starts[:, None] + self.offsets[None, :]]

    def index_select(self, dim: int, index: Tensor) -> Tensor:
        assert dim == 0, "windows are selected along the batch axis"
        return self._gather(self.starts.index_select(0, index))

    def __getitem__(self, rows: slice) -> Tensor:
        return self._gather(self.starts[rows])

    def reordered(self, order: Tensor) -> Windows:
        """The same windows in another order (nothing is gathered)."""
        windows = Windows.__new__(Windows)
        windows.series, windows.offsets, windows.shape = self.series, self.offsets, self.shape
        windows.starts = self.starts.index_select(0, order)
        return windows


def windows_id(key: str) -> str:
    """The planned dataset id of a source's windows (not a valid uploaded dataset id)."""
    return f"{key}:windows"


def targets_id(key: str) -> str:
    return f"{key}:targets"


def expand(
    ref: DataRef | TimeseriesSource, key: str, shapes: Mapping[str, Shape], where: Loc
) -> tuple[DataRef, dict[str, Shape]]:
    """A source as a `DataRef` of planned datasets, with their shapes: windows
    `(count, sequence_length, *features)`, targets `(count, *target_shape)`. SpecError
    for a missing dataset or a series too short for one window (naming the numbers)."""
    if isinstance(ref, DataRef):
        return ref, {}
    missing = [
        ErrorItem((*where, field), f"no dataset {d!r}; upload it first (POST /v1/datasets)")
        for field, d in (("data", ref.data), ("targets", ref.targets))
        if d is not None and d not in shapes
    ]
    if missing:
        raise SpecError(missing)
    series = shapes[ref.data]
    if len(series) < 1:
        raise SpecError(
            f"the series must have a time axis first; dataset {ref.data} has shape {series}",
            (*where, "data"),
        )
    target_shape = shapes[ref.targets] if ref.targets else None
    try:
        count = len(ref.positions(series[0], target_shape[0] if target_shape else None))
    except ValueError as exc:
        raise SpecError(str(exc), where) from None
    found = {windows_id(key): (count, ref.sequence_length, *series[1:])}
    y: str | dict[str, str] = {}
    if target_shape is not None:
        found[targets_id(key)] = (count, *target_shape[1:])
        y = targets_id(key)
    # Built without validation: the planned ids are not ids a client may upload.
    return DataRef.model_construct(x=windows_id(key), y=y, sample_weight=None), found


def epoch_order(source: TimeseriesSource, epoch: int, data: Data) -> Data:
    """`data` (the windows in the first epoch's order) in epoch `epoch`'s order."""
    from cornu.core.engine.trainer import Data

    order = source.epoch_order(epoch, data.samples)
    if order is None:
        return data
    index = torch.from_numpy(order).to(data.x[0].device)
    x = [cast(Windows, w).reordered(index) for w in data.x]
    return Data(
        cast(list[Tensor], x),
        [None if t is None else t.index_select(0, index) for t in data.y],
        None if data.sample_weight is None else data.sample_weight.index_select(0, index),
    )


def starts(source: TimeseriesSource, steps: int, target_steps: int | None) -> np.ndarray:
    """Each window's first step in the series (not relative to start_index), int64."""
    positions = source.positions(steps, target_steps).astype(np.int64)
    return positions + (source.start_index or 0)


__all__ = ["Windows", "epoch_order", "expand", "starts", "targets_id", "windows_id"]
