"""The steps behind `ArrayDataset`: an indexed sequence of elements (samples or batches)
built from arrays, and the tf.data operations chained on it (take, skip, map, batch,
unbatch, shuffle, repeat).

Each step is a `Node` that can give its element at an index (what a PyDataset's
`__getitem__` needs) and run through its elements in order (what iteration needs), and
says whether its whole content is still fixed arrays (`content()`), which lets `fit`
upload them once.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from cornu.utils.dataset_tree import (
    LazyColumn,
    combine,
    gather,
    leaves,
    materialize,
    num_rows,
    subset,
    tree_map,
)


@dataclass(frozen=True)
class Content:
    """A dataset that is fixed arrays: `data` has one row per sample (in base order)."""

    data: Any
    batch_size: int | None
    shuffle: bool


# -- the steps -----------------------------------------------------------------------


class Node:
    """An indexed sequence of elements; `length()` is None for an endless one."""

    batched: bool = True

    def length(self) -> int | None:
        raise NotImplementedError

    def element(self, index: int) -> Any:
        raise NotImplementedError

    def run(self) -> Iterator[Any]:
        """One pass over the elements, in order."""
        count = self.length()
        for index in range(count) if count is not None else itertools.count():
            yield self.element(index)

    def new_epoch(self) -> None:
        """Draw the next epoch's order (for the steps that shuffle)."""

    def content(self) -> Content | None:
        return None

    def check(self, index: int) -> int:
        count = self.length()
        if index < 0 or (count is not None and index >= count):
            raise IndexError(f"index {index} is out of range for a dataset of {count} elements")
        return index


class Source(Node):
    """Arrays (or lazy columns) cut into batches of `batch_size` rows, or into single
    samples when `batch_size` is None; with `shuffle`, the rows are put in a new random
    order at every epoch after the first."""

    def __init__(
        self,
        data: Any,
        batch_size: int | None,
        shuffle: bool = False,
        seed: int | None = None,
        drop_remainder: bool = False,
    ) -> None:
        self.data, self.batch_size, self.shuffle = data, batch_size, shuffle
        self.seed, self.drop_remainder = seed, drop_remainder
        self.batched = batch_size is not None
        self.rows = num_rows(data)
        self.order: np.ndarray | None = None
        self.rng = np.random.RandomState(seed) if shuffle else None

    def length(self) -> int:
        if self.batch_size is None:
            return self.rows
        if self.drop_remainder:
            return self.rows // self.batch_size
        return -(-self.rows // self.batch_size)

    def element(self, index: int) -> Any:
        index = self.check(index)
        rows: Any = index
        if self.batch_size is not None:
            rows = slice(index * self.batch_size, min((index + 1) * self.batch_size, self.rows))
        if self.order is not None:
            rows = self.order[rows]
        return tree_map(lambda leaf: gather(leaf, rows), self.data)

    def new_epoch(self) -> None:
        if self.rng is not None:
            self.order = self.rng.permutation(self.rows)

    def content(self) -> Content:
        return Content(self.data, self.batch_size, self.shuffle)

    def rebatched(self, batch_size: int | None, drop_remainder: bool = False) -> Source:
        return Source(self.data, batch_size, self.shuffle, self.seed, drop_remainder)

    def window(self, start: int, stop: int | None) -> Source:
        """The elements from `start` to `stop` (element indices) as a new source."""
        size = self.batch_size or 1
        first = min(start * size, self.rows)
        last = self.rows if stop is None else min(stop * size, self.rows)
        rows = np.arange(first, max(first, last))
        return Source(
            subset(self.data, rows), self.batch_size, self.shuffle, self.seed, self.drop_remainder
        )


class Take(Node):
    """The first `count` elements (all when negative)."""

    def __init__(self, parent: Node, count: int) -> None:
        self.parent, self.count, self.batched = parent, count, parent.batched

    def length(self) -> int | None:
        total = self.parent.length()
        if self.count < 0:
            return total
        return self.count if total is None else min(self.count, total)

    def element(self, index: int) -> Any:
        return self.parent.element(self.check(index))

    def run(self) -> Iterator[Any]:
        return itertools.islice(self.parent.run(), self.length())

    def new_epoch(self) -> None:
        self.parent.new_epoch()


class Skip(Node):
    """The elements after the first `count` (none when negative)."""

    def __init__(self, parent: Node, count: int) -> None:
        self.parent, self.count, self.batched = parent, count, parent.batched

    def length(self) -> int | None:
        total = self.parent.length()
        if total is None:
            return None
        return 0 if self.count < 0 else max(total - self.count, 0)

    def element(self, index: int) -> Any:
        return self.parent.element(self.check(index) + self.count)

    def run(self) -> Iterator[Any]:
        skipped = self.parent.length() if self.count < 0 else self.count
        return itertools.islice(self.parent.run(), skipped, None)

    def new_epoch(self) -> None:
        self.parent.new_epoch()


class Map(Node):
    """`fn` applied to each element; a tuple element is passed as positional arguments,
    as tf.data passes it."""

    def __init__(self, parent: Node, fn: Callable[..., Any]) -> None:
        self.parent, self.fn, self.batched = parent, fn, parent.batched

    def apply(self, element: Any) -> Any:
        return self.fn(*element) if isinstance(element, tuple) else self.fn(element)

    def length(self) -> int | None:
        return self.parent.length()

    def element(self, index: int) -> Any:
        return self.apply(self.parent.element(index))

    def run(self) -> Iterator[Any]:
        return (self.apply(e) for e in self.parent.run())

    def new_epoch(self) -> None:
        self.parent.new_epoch()


class Batch(Node):
    """Consecutive elements stacked along a new first axis."""

    def __init__(self, parent: Node, size: int, drop_remainder: bool) -> None:
        self.parent, self.size, self.drop_remainder = parent, size, drop_remainder

    def length(self) -> int | None:
        total = self.parent.length()
        if total is None:
            return None
        return total // self.size if self.drop_remainder else -(-total // self.size)

    def element(self, index: int) -> Any:
        start = self.check(index) * self.size
        stop = start + self.size
        total = self.parent.length()
        if total is not None:
            stop = min(stop, total)
        return combine([self.parent.element(i) for i in range(start, stop)], np.stack)

    def run(self) -> Iterator[Any]:
        elements = self.parent.run()
        while chunk := list(itertools.islice(elements, self.size)):
            if len(chunk) < self.size and self.drop_remainder:
                return
            yield combine(chunk, np.stack)

    def new_epoch(self) -> None:
        self.parent.new_epoch()

    def content(self) -> Content | None:
        inner = self.parent.content()
        if inner is None or inner.batch_size is not None:
            return None
        return replace(inner, batch_size=self.size)


class Unbatch(Node):
    """The rows of each batch as separate elements."""

    batched = False

    def __init__(self, parent: Node) -> None:
        self.parent = parent
        self._starts: np.ndarray | None = None  # first row of each batch, then the total

    def starts(self) -> np.ndarray:
        if self._starts is None:
            sizes = [num_rows(batch) for batch in self.parent.run()]
            self._starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        return self._starts

    def length(self) -> int | None:
        if self.parent.length() is None:
            return None
        return int(self.starts()[-1])

    def element(self, index: int) -> Any:
        index = self.check(index)
        batch = int(np.searchsorted(self.starts(), index, side="right")) - 1
        row = index - int(self.starts()[batch])
        return tree_map(lambda leaf: leaf[row], self.parent.element(batch))

    def run(self) -> Iterator[Any]:
        for batch in self.parent.run():
            for row in range(num_rows(batch)):
                yield tree_map(operator.itemgetter(row), batch)

    def new_epoch(self) -> None:
        self.parent.new_epoch()
        self._starts = None  # a reshuffled parent has its batches in another order

    def content(self) -> Content | None:
        inner = self.parent.content()
        return None if inner is None else replace(inner, batch_size=None)


class Shuffle(Node):
    """The parent's elements in a random order, drawn anew each epoch unless told not to.

    tf.data shuffles within a buffer of `buffer_size` elements; here the whole dataset
    is one buffer (a uniform shuffle), which is what a large enough buffer gives.
    """

    def __init__(self, parent: Node, seed: int | None, reshuffle: bool) -> None:
        self.parent, self.reshuffle, self.batched = parent, reshuffle, parent.batched
        total = parent.length()
        if total is None:
            raise ValueError("shuffle needs a finite dataset here; call repeat() after it")
        self.rng = np.random.RandomState(seed)
        self.order = self.rng.permutation(total)

    def length(self) -> int:
        return len(self.order)

    def element(self, index: int) -> Any:
        return self.parent.element(int(self.order[self.check(index)]))

    def new_epoch(self) -> None:
        self.parent.new_epoch()
        if self.reshuffle:
            self.order = self.rng.permutation(len(self.order))

    def content(self) -> Content | None:
        inner = self.parent.content()
        return None if inner is None else replace(inner, shuffle=True)


class Repeat(Node):
    """The parent's elements `count` times over (endlessly when count is None or -1),
    each pass in that pass's order."""

    def __init__(self, parent: Node, count: int | None) -> None:
        self.parent, self.batched = parent, parent.batched
        self.count = None if count is None or count < 0 else count

    def length(self) -> int | None:
        total = self.parent.length()
        if self.count is None or total is None:
            return None if total != 0 else 0
        return total * self.count

    def element(self, index: int) -> Any:
        total = self.parent.length()
        if not total:
            raise IndexError(f"index {index} is out of range for an empty dataset")
        return self.parent.element(self.check(index) % total)

    def run(self) -> Iterator[Any]:
        if self.parent.length() == 0:
            return
        passes = itertools.count() if self.count is None else range(self.count)
        for _ in passes:
            yield from self.parent.run()
            self.parent.new_epoch()

    def new_epoch(self) -> None:
        self.parent.new_epoch()


__all__ = [
    "Batch",
    "Content",
    "LazyColumn",
    "Map",
    "Node",
    "Repeat",
    "Shuffle",
    "Skip",
    "Source",
    "Take",
    "Unbatch",
    "combine",
    "gather",
    "leaves",
    "materialize",
    "num_rows",
    "subset",
    "tree_map",
]
