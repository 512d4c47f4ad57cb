"""Data the way Keras takes it, made into what a job trains on.

Arrays (one, a list in input order, a map by name) are uploaded as Keras takes them:
numpy arrays, pandas DataFrames and Series, tensors, anything with `__array__`
(`as_arrays`; `cornu.uploads.as_array` for one). A `PyDataset` (Keras's `Sequence`), a
Python generator, or any other iterable of batches — `x`, `(x, y)` or
`(x, y, sample_weight)` — is drawn on the client, an epoch at a time, as Keras's data
adapters would draw it, and each epoch's batches go up as arrays (identical epochs
once: uploads are content-addressed):

- a PyDataset whose content is fixed (`as_arrays()`, or the same batch twice and no
  `on_epoch_end` of its own) is drawn once; the service reshuffles the order of its
  batches each epoch (`shuffle: "batch"`, Keras's PyDataset adapter);
- anything else is drawn anew for every epoch — a generator that yields fresh random
  windows keeps doing so — going on across epochs with `steps_per_epoch` as Keras's
  EpochIterator does.

Memory is bounded: one epoch's arrays at a time (fit uploads each as it is drawn), at
most `max_drawn_bytes` (`CORNU_MAX_DRAWN_BYTES`); past it a clear error says how to
send less. An epoch's batches become one array, so they share a sample shape and a
batch size (one batch may be smaller).
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from cornu.settings import client_settings
from cornu.uploads import as_array


@dataclass
class Batch:
    """One batch: inputs, targets and sample weights (each an array, list or map)."""

    x: Any
    y: Any = None
    sample_weight: Any = None


@dataclass
class Drawn:
    """What fit sends for its training data."""

    epochs: list[Any]  # what `send` made of each epoch's arrays, or of one set for all
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


def as_arrays(value: Any) -> Any:
    """The arrays of `value` (one, a list or tuple of them, a map by name) as numpy
    arrays, each converted as Keras converts it (`as_array`); numbers and lists of
    numbers are left as they are."""
    if value is None or isinstance(value, np.ndarray | int | float):
        return value
    if isinstance(value, Mapping):
        return {k: as_arrays(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if value and not np.isscalar(value[0]) and not isinstance(value[0], list | tuple):
            return type(value)(as_arrays(v) for v in value)
        return value
    return as_array(value)


def unpack(batch: Any) -> Batch:
    """Keras's `unpack_x_y_sample_weight`: a tuple (x[, y[, sample_weight]]) or just x."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        return Batch(as_arrays(batch))
    if len(batch) > 3 or not batch:
        raise ValueError(
            "a batch is x, (x,), (x, y) or (x, y, sample_weight); this one is a tuple of "
            f"{len(batch)} items"
        )
    return Batch(*(as_arrays(part) for part in batch))


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
    """One epoch's batches as they are drawn: bounded in bytes, and of one sample shape
    and batch size, as the service trains an epoch's batches from one array."""

    def __init__(self, limit: int) -> None:
        self.batches: list[Batch] = []
        self.bytes = 0
        self.limit = limit

    @property
    def batch_size(self) -> int:
        return max(_samples(b.x) for b in self.batches)

    def add(self, batch: Batch, step: int) -> None:
        if self.batches:
            _check_shapes(self.batches[0], batch, step)
        self.bytes += _nbytes(batch.x) + _nbytes(batch.y) + _nbytes(batch.sample_weight)
        if self.bytes > self.limit:
            raise MemoryError(
                f"the batches drawn for one epoch hold more than {self.limit} bytes "
                "(CORNU_MAX_DRAWN_BYTES): give fit a steps_per_epoch, draw smaller batches, "
                "or raise the limit where memory allows"
            )
        self.batches.append(batch)

    def joined(self) -> Batch:
        """The epoch's batches as one set of arrays, the service's batches in order. One
        batch may be smaller (a dataset's last, wherever a shuffle put it): it goes last,
        so the service's batches are the ones drawn."""
        sizes = [_samples(b.x) for b in self.batches]
        smaller = [i for i, size in enumerate(sizes) if size < max(sizes)]
        if len(smaller) > 1:
            shown = ", ".join(map(str, sizes[:12])) + (", …" if len(sizes) > 12 else "")
            raise ValueError(
                f"an epoch's batches have {len(set(sizes))} sizes ({shown}): Cornu trains a "
                "generator's or PyDataset's batches with one batch size, so at most one "
                "batch an epoch may be smaller; give batches of one size, or arrays"
            )
        parts = [b for i, b in enumerate(self.batches) if i not in smaller]
        parts += [self.batches[i] for i in smaller]
        return Batch(
            _join([b.x for b in parts]),
            _join([b.y for b in parts]) if parts[0].y is not None else None,
            _join([b.sample_weight for b in parts]) if parts[0].sample_weight is not None else None,
        )


def _check_shapes(first: Batch, batch: Batch, step: int) -> None:
    """Each batch holds the first's arrays, each sample of the same shape."""
    for part in ("x", "y", "sample_weight"):
        theirs, ours = _leaves_of(getattr(first, part)), _leaves_of(getattr(batch, part))
        if len(theirs) != len(ours):
            raise ValueError(
                f"batch {step} has {len(ours)} arrays as {part}; the epoch's first batch "
                f"had {len(theirs)}: every batch must have the same structure"
            )
        for a, b in zip(theirs, ours, strict=True):
            if np.shape(a)[1:] != np.shape(b)[1:]:
                raise ValueError(
                    f"batch {step} has {part} of shape {np.shape(b)}, the epoch's first "
                    f"batch {np.shape(a)}: Cornu trains an epoch's batches as one array, so "
                    "their samples need one shape; pad them to one length (e.g. "
                    "keras.utils.pad_sequences with a fixed maxlen)"
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


def _leaves_of(part: Any) -> list[Any]:
    """The arrays of one part of a batch (x, y or sample_weight): one, a list or a map."""
    if part is None:
        return []
    if isinstance(part, Mapping):
        return list(part.values())
    if isinstance(part, list | tuple) and part and not np.isscalar(part[0]):
        return list(part)
    return [part]


def _leaves(batch: Batch) -> list[Any]:
    return [*_leaves_of(batch.x), *_leaves_of(batch.y), *_leaves_of(batch.sample_weight)]


def draw(
    data: Any,
    *,
    epochs: int,
    steps_per_epoch: int | None,
    shuffle: bool,
    what: str = "x",
    send: Callable[[Batch], Any] | None = None,
) -> Drawn:
    """Draw the batches `epochs` epochs of training take from a dataset or generator.

    Each epoch's arrays go to `send` as soon as they are drawn and only what it returns
    is kept (fit uploads them: memory holds one epoch); without it, the arrays are kept.
    """
    send = send or (lambda batch: batch)
    limit = client_settings().max_drawn_bytes
    fixed = None
    # A dataset that can give all its arrays at once (not PyDataset's default None).
    has_arrays = hasattr(data, "as_arrays") and _overrides(data, "as_arrays")
    if has_arrays and _estimated_bytes(data) <= limit:
        fixed = data.as_arrays()  # all its samples at once (decoded, windowed): bounded
    if fixed is not None:
        x, y, sample_weight = fixed
        size = int(getattr(data, "batch_size", None) or 32)  # None: single samples
        steps = -(-_samples(x) // size)
        # A dataset says whether it reshuffles its samples each epoch (tf.data's way; its
        # `shuffle` is also the tf.data method, so the flag has a name of its own).
        reshuffle = getattr(data, "shuffle_each_epoch", None)
        if reshuffle is None:
            reshuffle = getattr(data, "shuffle", False)
        return Drawn([send(Batch(x, y, sample_weight))], size, bool(reshuffle), steps)
    if hasattr(data, "__getitem__") and hasattr(data, "__len__"):
        return _draw_dataset(data, epochs, steps_per_epoch, shuffle, limit, send)
    return _draw_iterable(data, epochs, steps_per_epoch, limit, what, send)


def _estimated_bytes(data: Any) -> int:
    """A dataset's size in memory as arrays: its first batch's bytes times its batches."""
    if not (hasattr(data, "__getitem__") and hasattr(data, "__len__")):
        return 0
    try:
        count = len(data)
    except TypeError:  # endless
        return 0
    batch = unpack(data[0]) if count else Batch(None)
    return count * (_nbytes(batch.x) + _nbytes(batch.y) + _nbytes(batch.sample_weight))


_RAN_OUT = (
    "Your input ran out of data; interrupting training. Make sure that your dataset or "
    "generator can generate at least `steps_per_epoch * epochs` batches."
)


def _draw_dataset(
    data: Any,
    epochs: int,
    steps_per_epoch: int | None,
    shuffle: bool,
    limit: int,
    send: Callable[[Batch], Any],
) -> Drawn:
    """A PyDataset, as Keras's EpochIterator draws it (keras/src/trainers/epoch_iterator.py):
    batches by index, in an order shuffled anew for each pass over the dataset (Python's
    `random`); with `steps_per_epoch` an epoch goes on where the last one stopped, and
    the epoch that reaches the end of a pass is cut short there. `on_epoch_end` is
    called once before the first epoch (Keras's reset) and after every epoch."""
    count = len(data)
    if count == 0:
        raise ValueError("the dataset has no batches (its __len__ is 0)")
    fixed = (
        (steps_per_epoch or count) == count
        and not _overrides(data, "on_epoch_end")
        and not _overrides(data, "on_epoch_begin")
        and _same(data[0], data[0])
    )
    hook = getattr(data, "on_epoch_begin", lambda: None), getattr(data, "on_epoch_end", None)
    begin, end = hook[0], hook[1] or (lambda: None)
    end()
    sent: list[Any] = []
    size = steps = 0
    left: list[int] = []  # the indices the current pass has still to draw
    for _ in range(1 if fixed else epochs):
        begin()
        if not left or steps_per_epoch is None:
            left = list(range(count))
            if shuffle and not fixed:
                random.shuffle(left)
        wanted = steps_per_epoch or count
        taken, left = left[:wanted], left[wanted:]
        if len(taken) < wanted:
            warnings.warn(_RAN_OUT, stacklevel=5)
        batches = _Epoch(limit)
        for step, index in enumerate(taken):
            batches.add(unpack(data[index]), step)
        size, steps = size or batches.batch_size, max(steps, len(taken))
        sent.append(send(batches.joined()))
        del batches
        end()
    reshuffle: bool | Literal["batch"] = "batch" if fixed and shuffle else False
    return Drawn(sent, size, reshuffle, steps)


_END = object()


def _draw_iterable(
    data: Any,
    epochs: int,
    steps_per_epoch: int | None,
    limit: int,
    what: str,
    send: Callable[[Batch], Any],
) -> Drawn:
    """As Keras's EpochIterator: a generator goes on across epochs (`steps_per_epoch`
    batches each) until it runs out, which ends training; another iterable (a torch
    DataLoader, a list of batches) starts afresh each epoch, or with `steps_per_epoch`
    goes on where the last epoch stopped and starts afresh once it has run through."""
    try:
        source: Iterator[Any] = iter(data)
    except TypeError:
        raise TypeError(
            f"{what} must be arrays (numpy, lists, a map by input name), a PyDataset, a "
            f"generator or an iterable of batches; got {type(data).__name__}"
        ) from None
    generator = source is data
    sent: list[Any] = []
    stopped = exhausted = False
    size = steps = 0
    for epoch in range(epochs):
        restart = epoch > 0 and not generator
        if restart and (steps_per_epoch is None or exhausted):
            source, exhausted, restart = iter(data), False, False
        batches = _Epoch(limit)
        while len(batches.batches) < (steps_per_epoch or 2**62):
            item = next(source, _END)
            if item is _END and restart and not batches.batches:
                source, restart = iter(data), False  # the last epoch ended at its end
                continue
            if item is _END:
                exhausted = True
                break
            batches.add(unpack(item), len(batches.batches))
        if not batches.batches:
            stopped = True
            break
        size, steps = size or batches.batch_size, max(steps, len(batches.batches))
        sent.append(send(batches.joined()))
        del batches
        if exhausted and generator and (steps_per_epoch or epoch < epochs - 1):
            stopped = True
            break
        if exhausted and steps_per_epoch:
            warnings.warn(_RAN_OUT, stacklevel=5)
    if not sent:
        raise ValueError(f"{what} yielded no batch")
    notes = []
    if stopped and epochs > 1:
        notes.append(f"{_RAN_OUT} Training {len(sent)} epoch(s).")
        warnings.warn(notes[0], stacklevel=4)
    return Drawn(sent, size, False, steps, stopped_early=stopped, notes=notes)


__all__ = ["Batch", "Drawn", "as_arrays", "draw", "is_arrays", "unpack"]
