"""Arrays that stay on disk: batches gathered from a memory-mapped `.npy` file.

A dataset larger than the worker's memory is opened with `numpy.load(mmap_mode="r")`
(`np.memmap`); `MappedArray` stands where a batch-first tensor stands in `trainer.Data`
(as `windows.Windows` does): it answers `shape`, `dtype`, `device`, `index_select(0,
index)` and row slices, and gives each batch as a real tensor on the device. Only the
batch's rows are read (the page cache keeps what fits), converted as the resident path
converts the whole array, and copied to the device. On CUDA the batch is staged in
pinned memory and copied on a side stream with `non_blocking`: the host gathers batch
k+1 while the device still runs step k (kernels are asynchronous), and the copy overlaps
that step; the compute stream waits for the copy only where the batch is used.

The data checks of the resident path (finite values, integer ids, class indices in
range) run once before training, over the file in pieces of `SCAN_BYTES` (`scan`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

SCAN_BYTES = 16 * 1024 * 1024  # bytes (read or converted) per piece when checking a file

Convert = Callable[[np.ndarray, int], Tensor]
"""Rows of the array (and the index of the first) → a CPU tensor as the model reads it."""


def is_mapped(array: np.ndarray) -> bool:
    """Whether `array` is a memory-mapped file (left on disk), not an array in memory."""
    return isinstance(array, np.memmap) or isinstance(getattr(array, "base", None), np.memmap)


def scan(array: np.ndarray, check: Convert) -> None:
    """Run `check` (which raises DataError) over every row, `SCAN_BYTES` at a time, so that
    bad data fails the job before training as it does on the resident path."""
    rows = len(array)
    converted = check(np.asarray(array[:1]), 0)  # a row as the model reads it (often wider)
    row_bytes = max(array[:1].nbytes, converted.element_size() * converted.numel(), 1)
    step = max(1, SCAN_BYTES // row_bytes)
    for start in range(0, rows, step):
        check(np.asarray(array[start : start + step]), start)


class MappedArray:
    """Rows `start:stop` of a memory-mapped array, gathered batch by batch to `device`."""

    gathers_on_host = True  # batch indexes stay on the host (`trainer.Data.index_device`)

    def __init__(
        self,
        array: np.ndarray,
        convert: Convert,
        device: torch.device,
        start: int = 0,
        stop: int | None = None,
    ) -> None:
        self.array, self.convert, self._device = array, convert, device
        self.start, self.stop = start, len(array) if stop is None else stop
        first = convert(np.asarray(array[start : start + 1]), start)
        self.shape = torch.Size((self.stop - self.start, *first.shape[1:]))
        self.dtype = first.dtype
        self._stream: torch.cuda.Stream | None = None

    @property
    def device(self) -> torch.device:
        return self._device

    def dim(self) -> int:
        return len(self.shape)

    def rows(self, start: int, stop: int) -> MappedArray:
        """Rows `start:stop` of this array, still on disk (nothing is read)."""
        view = MappedArray.__new__(MappedArray)
        view.__dict__.update(self.__dict__)
        view.start, view.stop = self.start + start, self.start + min(stop, len(self))
        view.shape = torch.Size((view.stop - view.start, *self.shape[1:]))
        return view

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, rows: slice) -> Tensor:
        begin, end, step = rows.indices(len(self))
        assert step == 1, "batches are contiguous runs of rows"
        picked = np.asarray(self.array[self.start + begin : self.start + end])
        return self._to_device(self.convert(picked, self.start + begin))

    def index_select(self, dim: int, index: Tensor) -> Tensor:
        """The rows `index` names, in its order; read from the file in ascending order
        (one pass over the pages), then put back in the batch's order."""
        assert dim == 0, "rows are selected along the batch axis"
        wanted = index.cpu().numpy() + self.start  # a host index: see Data.index_device
        ascending, back = np.unique(wanted, return_inverse=True)
        picked = self.array[ascending]
        if len(ascending) != len(wanted) or (back != np.arange(len(back))).any():
            picked = picked[back]
        return self._to_device(self.convert(picked, int(wanted.min(initial=0))))

    def whole(self) -> Tensor:
        """Every row, as one tensor on the device (what the resident path holds)."""
        return self[0 : len(self)]

    def _to_device(self, batch: Tensor) -> Tensor:
        if self._device.type != "cuda":
            return batch.to(self._device)
        return stage_cuda(batch, self._device, self._copy_stream())

    def _copy_stream(self) -> torch.cuda.Stream:
        if self._stream is None:
            self._stream = torch.cuda.Stream(self._device)
        return self._stream


def stage_cuda(batch: Tensor, device: torch.device, stream: torch.cuda.Stream) -> Tensor:
    """`batch` (on the host) on `device`: through pinned memory, copied on `stream`
    without blocking the host; the current stream waits for the copy before it uses
    the batch, and the allocator keeps both buffers until their streams are done."""
    pinned = batch.pin_memory()  # the caching host allocator: reused once the copy ends
    with torch.cuda.stream(stream):
        out = pinned.to(device, non_blocking=True)
    current = torch.cuda.current_stream(device)
    current.wait_stream(stream)
    out.record_stream(current)
    return out


__all__ = ["SCAN_BYTES", "MappedArray", "is_mapped", "scan", "stage_cuda"]
