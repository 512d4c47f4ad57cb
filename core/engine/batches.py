"""Which samples each training step takes: Keras's EpochIterator over arrays.

A *pass* is one ordering of the samples (shuffled or not) cut into batches of
`batch_size`, the last one shorter. Without `steps_per_epoch` every epoch is one pass.
With it, an epoch takes the next `steps_per_epoch` batches of the current pass, the
next epoch goes on from there, and a pass that runs out ends its epoch early; the
epoch after starts a new pass (keras/src/trainers/epoch_iterator.py, `_enumerate_iterator`).

`shuffle="batch"` reshuffles the order of batch-sized runs of samples rather than the
samples: what Keras does to a PyDataset's batches (py_dataset_adapter.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import torch
from torch import Tensor

Shuffle = bool | Literal["batch"]
Index = Tensor | slice


class Batches:
    """The batches of `samples` samples, epoch after epoch, with a state to resume from."""

    def __init__(
        self,
        samples: int,
        batch_size: int,
        *,
        shuffle: Shuffle = True,
        steps_per_epoch: int | None = None,
        generator: torch.Generator | None = None,
        device: torch.device | str = "cpu",
    ) -> None:
        self.samples, self.batch_size = samples, batch_size
        self.shuffle, self.steps_per_epoch = shuffle, steps_per_epoch
        self.generator = generator or torch.Generator()
        self.device = torch.device(device)
        self.per_pass = -(-samples // batch_size)
        self.order: Tensor | None = None  # the current pass's sample order; None: as stored
        self.partial_at = self.per_pass - 1  # where the short batch sits in the pass
        self.taken: int | None = None  # batches of the current pass used; None: no pass yet
        self.epoch_start = 0  # `taken` when the running epoch began
        self.epoch_steps = 0

    def start_epoch(self) -> int:
        """Begin an epoch (a new pass when one is due); returns how many steps it takes."""
        if self.taken is None or self.steps_per_epoch is None or self.taken >= self.per_pass:
            self._new_pass()
        assert self.taken is not None
        self.epoch_start = self.taken
        left = self.per_pass - self.taken
        self.epoch_steps = left if self.steps_per_epoch is None else min(self.steps_per_epoch, left)
        return self.epoch_steps

    def steps(self, first: int = 0) -> Iterator[tuple[int, Index]]:
        """`(step, index)` for each step of the running epoch from step `first` on (a run
        resumed inside an epoch starts past its first steps); the index selects the
        batch's samples: a slice when the pass keeps the stored order."""
        for step in range(first, self.epoch_steps):
            self.taken = self.epoch_start + step + 1
            yield step, self._index(self.epoch_start + step)

    def _new_pass(self) -> None:
        n, size = self.samples, self.batch_size
        self.taken = 0
        self.partial_at = self.per_pass - 1
        if self.shuffle == "batch":
            runs = torch.randperm(self.per_pass, generator=self.generator)
            self.partial_at = int((runs == self.per_pass - 1).nonzero()[0])
            starts = runs * size
            pieces = [torch.arange(s, min(s + size, n)) for s in starts.tolist()]
            self.order = torch.cat(pieces).to(self.device)
        elif self.shuffle:
            self.order = torch.randperm(n, generator=self.generator).to(self.device)
        else:
            self.order = None

    def _index(self, position: int) -> Index:
        """The samples of batch `position` of the pass."""
        size, short = self.batch_size, self.samples - (self.per_pass - 1) * self.batch_size
        start = position * size - (size - short if position > self.partial_at else 0)
        stop = start + (short if position == self.partial_at else size)
        return slice(start, stop) if self.order is None else self.order[start:stop]

    # -- checkpoints -----------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        """The pass in progress (its order and where the running epoch began)."""
        return {
            "order": None if self.order is None else self.order.cpu(),
            "partial_at": self.partial_at,
            "taken": self.taken,
            "epoch_start": self.epoch_start,
            "epoch_steps": self.epoch_steps,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        order = state["order"]
        self.order = None if order is None else order.to(self.device)
        self.partial_at, self.taken = state["partial_at"], state["taken"]
        self.epoch_start, self.epoch_steps = state["epoch_start"], state["epoch_steps"]
