"""Data the way Keras takes it, made into what a job trains on.

Arrays (one, a list in input order, a map by name; anything numpy.asarray reads) are
uploaded as they are. A `PyDataset` (Keras's `Sequence`), a Python generator, or any
other iterable of batches — `x`, `(x, y)` or `(x, y, sample_weight)` — is drawn on the
client, an epoch at a time, as Keras's data adapters would draw it, and each epoch's
batches go up as arrays (identical epochs once: uploads are content-addressed):

- a PyDataset whose content is fixed (`as_arrays()`, or the same batch twice and no
  `on_epoch_end` of its own) is drawn once; the service reshuffles the order of its
  batches each epoch (`shuffle: "batch"`, Keras's PyDataset adapter);
- anything else is drawn anew for every epoch — a generator that yields fresh random
  windows keeps doing so — going on across epochs with `steps_per_epoch` as Keras's
  EpochIterator does.

Memory is bounded: one epoch's arrays at a time, at most `max_drawn_bytes`
(`CORNU_MAX_DRAWN_BYTES`); past it a clear error says how to send less.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from cornu.settings import client_settings


@dataclass
class Batch:
    """One batch: inputs, targets and sample weights (each an array, list or map)."""

    x: Any
    y: Any = None
    sample_weight: Any = None


@dataclass
class Drawn:
    """What fit sends for its training data."""

    epochs: list[Batch]  # the arrays of each epoch trained, or one set for all
    batch_size: int
    shuffle: bool | Literal["batch"]
    steps: int  # batches per epoch (Keras's History.params["steps"])
    stopped_early: bool = False  # the data ran out before every epoch had its batches
    notes: list[str] = field(default_factory=list)


def is_arrays(value: Any) -> bool:
    """Whether Keras would take `value` as arrays (not as a dataset or generator)."""
    if value is None or isinstance(value, np.ndarray | int | float):
        return True
    if isinstance(value, Mapping):
        return all(is_arrays(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(is_arrays(v) or isinstance(v, list | tuple) for v in value)
    return hasattr(value, "__array__") or type(value).__module__.startswith("pandas")


def unpack(batch: Any) -> Batch:
    """Keras's `unpack_x_y_sample_weight`: a tuple (x[, y[, sample_weight]]) or just x."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        return Batch(batch)
    if len(batch) > 3 or not batch:
        raise ValueError(
            "a batch is x, (x,), (x, y) or (x, y, sample_weight); this one is a tuple of "
            f"{len(batch)} items"
        )
    return Batch(*batch)


def _samples(value: Any) -> int:
    if isinstance(value, Mapping):
        return _samples(next(iter(value.values())))
    if isinstance(value, list | tuple) and value and not np.isscalar(value[0]):
        return _samples(value[0])
    return len(np.asarray(value))


def _nbytes(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, Mapping):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, list | tuple) and value and not np.isscalar(value[0]):
        return sum(_nbytes(v) for v in value)
    return int(np.asarray(value).nbytes)


def _join(parts: list[Any]) -> Any:
    """Batches' arrays (with the same structure) along the sample axis."""
    first = parts[0]
    if first is None:
        return None
    if isinstance(first, Mapping):
        return {k: _join([p[k] for p in parts]) for k in first}
    if isinstance(first, list | tuple) and first and not np.isscalar(first[0]):
        return [_join([p[i] for p in parts]) for i in range(len(first))]
    return np.concatenate([np.asarray(p) for p in parts])


class _Epoch:
    """One epoch's batches as they are drawn, checked for size and a common batch size."""

    def __init__(self, limit: int) -> None:
        self.batches: list[Batch] = []
        self.bytes = 0
        self.limit = limit

    @property
    def batch_size(self) -> int:
        return _samples(self.batches[0].x)

    def add(self, batch: Batch, step: int) -> None:
        if self.batches:
            size, first = _samples(batch.x), _samples(self.batches[0].x)
            last = _samples(self.batches[-1].x)
            if last != first:
                raise ValueError(
                    f"batch {step} follows a batch of {last} samples in an epoch whose "
                    f"batches have {first}: Cornu trains the batches of a generator or "
                    "PyDataset with one batch size, so only an epoch's last batch may be "
                    f"smaller (this one has {size})"
                )
        self.bytes += _nbytes(batch.x) + _nbytes(batch.y) + _nbytes(batch.sample_weight)
        if self.bytes > self.limit:
            raise MemoryError(
                f"the batches drawn for one epoch hold more than {self.limit} bytes "
                "(CORNU_MAX_DRAWN_BYTES): give fit a steps_per_epoch, draw smaller batches, "
                "or pass arrays (a timeseries_dataset_from_array or image dataset sends "
                "its arrays once)"
            )
        self.batches.append(batch)

    def joined(self) -> Batch:
        parts = self.batches
        return Batch(
            _join([b.x for b in parts]),
            _join([b.y for b in parts]) if parts[0].y is not None else None,
            _join([b.sample_weight for b in parts]) if parts[0].sample_weight is not None else None,
        )


def _overrides(obj: Any, method: str) -> bool:
    from cornu.utils import PyDataset

    return getattr(type(obj), method, None) is not getattr(PyDataset, method, None)


def _same(a: Any, b: Any) -> bool:
    left, right = unpack(a), unpack(b)
    try:
        return all(
            np.array_equal(np.asarray(p), np.asarray(q))
            for p, q in zip(_leaves(left), _leaves(right), strict=True)
        )
    except ValueError:
        return False


def _leaves(batch: Batch) -> list[Any]:
    out: list[Any] = []
    for part in (batch.x, batch.y, batch.sample_weight):
        if isinstance(part, Mapping):
            out += list(part.values())
        elif isinstance(part, list | tuple) and part and not np.isscalar(part[0]):
            out += list(part)
        else:
            out.append(part)
    return out


def draw(
    data: Any,
    *,
    epochs: int,
    steps_per_epoch: int | None,
    shuffle: bool,
    what: str = "x",
) -> Drawn:
    """Draw the batches `epochs` epochs of training take from a dataset or generator."""
    limit = client_settings().max_drawn_bytes
    fixed = getattr(data, "as_arrays", lambda: None)()
    if fixed is not None:
        x, y, sample_weight = fixed
        size = int(getattr(data, "batch_size", None) or 32)  # None: single samples
        steps = -(-_samples(x) // size)
        # A dataset says whether it reshuffles its samples each epoch (tf.data's way; its
        # `shuffle` is also the tf.data method, so the flag has a name of its own).
        reshuffle = getattr(data, "shuffle_each_epoch", None)
        if reshuffle is None:
            reshuffle = getattr(data, "shuffle", False)
        return Drawn([Batch(x, y, sample_weight)], size, bool(reshuffle), steps)
    if hasattr(data, "__getitem__") and hasattr(data, "__len__"):
        return _draw_dataset(data, epochs, steps_per_epoch, shuffle, limit)
    return _draw_iterable(data, epochs, steps_per_epoch, limit, what)


def _draw_dataset(
    data: Any, epochs: int, steps_per_epoch: int | None, shuffle: bool, limit: int
) -> Drawn:
    """A PyDataset: batches by index, in an order reshuffled each epoch when asked
    (Python's `random`, as Keras's adapter); `on_epoch_begin`/`end` around each epoch."""
    count = len(data)
    if count == 0:
        raise ValueError("the dataset has no batches (its __len__ is 0)")
    steps = min(count, steps_per_epoch or count)
    fixed = (
        steps == count
        and not _overrides(data, "on_epoch_end")
        and not _overrides(data, "on_epoch_begin")
        and _same(data[0], data[0])
    )
    drawn: list[Batch] = []
    size = 0
    for epoch in range(1 if fixed else epochs):
        getattr(data, "on_epoch_begin", lambda: None)()
        order = list(range(count))
        if shuffle and not fixed:
            random.shuffle(order)
        batches = _Epoch(limit)
        for step, index in enumerate(order[:steps]):
            batches.add(unpack(data[index]), step)
        drawn.append(batches.joined())
        size = size or batches.batch_size
        if epoch < epochs - 1 or fixed:
            getattr(data, "on_epoch_end", lambda: None)()
    reshuffle: bool | Literal["batch"] = "batch" if fixed and shuffle else False
    return Drawn(drawn, size, reshuffle, steps)


def _draw_iterable(
    data: Any, epochs: int, steps_per_epoch: int | None, limit: int, what: str
) -> Drawn:
    """A generator goes on across epochs (`steps_per_epoch` batches each); another
    iterable (a torch DataLoader, a list of batches) is iterated afresh each epoch."""
    try:
        source: Iterator[Any] = iter(data)
    except TypeError:
        raise TypeError(
            f"{what} must be arrays (numpy, lists, a map by input name), a PyDataset, a "
            f"generator or an iterable of batches; got {type(data).__name__}"
        ) from None
    continuing = source is data
    drawn: list[Batch] = []
    stopped = False
    size = steps = 0
    for epoch in range(epochs):
        if epoch and not continuing:
            source = iter(data)
        batches = _Epoch(limit)
        for step in range(steps_per_epoch or 2**62):
            item = next(source, None)
            if item is None:
                stopped = bool(steps_per_epoch) or epoch > 0
                break
            batches.add(unpack(item), step)
        if not batches.batches:
            stopped = True
            break
        drawn.append(batches.joined())
        size = size or batches.batch_size
        steps = max(steps, len(batches.batches))
        if stopped:
            break
    if not drawn:
        raise ValueError(f"{what} yielded no batch")
    notes = []
    if stopped:
        notes.append(
            "Your input ran out of data; interrupting training. Make sure that your dataset "
            f"or generator can generate at least `steps_per_epoch * epochs` batches. "
            f"Training {len(drawn)} epoch(s)."
        )
        warnings.warn(notes[0], stacklevel=4)
    return Drawn(drawn, size, False, steps, stopped_early=stopped, notes=notes)


__all__ = ["Batch", "Drawn", "draw", "is_arrays", "unpack"]
