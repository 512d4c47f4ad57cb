"""`keras.utils.PyDataset` (alias `Sequence`): a dataset written in Python, one batch per index.

The contract is Keras's: `__getitem__(index)` returns a whole batch — `x`, `(x,)`,
`(x, y)` or `(x, y, sample_weight)`, or a dict of inputs — and `__len__` (or
`num_batches`) the number of batches; `on_epoch_begin` / `on_epoch_end` are called
around each epoch. Cornu's `fit` draws batches from any PyDataset on the client; a
dataset whose whole content is fixed arrays says so through `as_arrays()`, so that
`fit` can upload the arrays once and let the service batch and shuffle them.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from typing import Any

Arrays = tuple[Any, Any, Any]
"""`(x, y, sample_weight)`: each an array, a list or a dict of arrays, or None."""


class PyDataset:
    """Base class of a dataset that yields batches from Python code, as Keras's
    `keras.utils.PyDataset`.

    Subclasses implement `__getitem__(index)` (the batch at `index`, batch axis first)
    and `__len__()` (how many batches), and may implement `on_epoch_begin()` /
    `on_epoch_end()` (e.g. to reshuffle). `workers`, `use_multiprocessing` and
    `max_queue_size` tell `fit` how to draw batches in parallel; they do nothing when
    the dataset is iterated by hand.

    Args:
        workers: number of threads (or processes) `fit` uses to draw batches.
        use_multiprocessing: draw batches in processes rather than threads (the dataset
            must then be picklable).
        max_queue_size: batches kept ready ahead of the training loop.
    """

    def __init__(
        self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10
    ) -> None:
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self) -> None:
        """Keras's warning for a subclass whose `__init__` forgot `super().__init__()`."""
        missing = False
        for name, default in (
            ("_workers", 1),
            ("_use_multiprocessing", False),
            ("_max_queue_size", 10),
        ):
            if not hasattr(self, name):
                setattr(self, name, default)
                missing = True
        if missing:
            warnings.warn(
                "Your `PyDataset` class should call `super().__init__(**kwargs)` in its "
                "constructor. `**kwargs` can include `workers`, `use_multiprocessing`, "
                "`max_queue_size`. Do not pass these arguments to `fit()`, as they will "
                "be ignored.",
                stacklevel=3,
            )

    @property
    def workers(self) -> int:
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    def __getitem__(self, index: int) -> Any:
        """The batch at position `index` (batch axis first)."""
        raise NotImplementedError

    def __iter__(self) -> Iterator[Any]:
        """Every batch in order (endless when `num_batches` is None), as Keras iterates."""
        count: int | None = None
        try:
            count = self.num_batches
        except NotImplementedError:
            pass
        indices = range(count) if count is not None else itertools.count()
        for index in indices:
            yield self[index]

    @property
    def num_batches(self) -> int | None:
        """How many batches there are, or None for an endless dataset (Keras falls back
        to `len(self)`, as here)."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            "You need to implement the `num_batches` property:\n\n"
            "@property\ndef num_batches(self):\n  return ..."
        )

    def on_epoch_begin(self) -> None:
        """Called at the start of every epoch."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch."""

    def as_arrays(self) -> Arrays | None:
        """The dataset's whole content as fixed arrays, or None to draw batches.

        Cornu's `fit` uploads the arrays `(x, y, sample_weight)` once when a dataset
        returns them (its `batch_size` and `shuffle` attributes then say how to batch
        them and whether to reshuffle the samples each epoch); None — the default, for
        datasets computed batch by batch — makes `fit` call `__getitem__`.
        """
        return None


Sequence = PyDataset
"""Keras's older name of `PyDataset` (`keras.utils.Sequence`)."""

__all__ = ["Arrays", "PyDataset", "Sequence"]
