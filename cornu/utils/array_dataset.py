"""`ArrayDataset`: what Cornu's `*_dataset_from_*` functions return where Keras returns a
`tf.data.Dataset` — numpy arrays on the client, batched, with the tf.data methods that
tutorials chain (take, skip, map, batch, unbatch, shuffle, repeat, prefetch, cache,
as_numpy_iterator, cardinality).

It is a `PyDataset`: `fit` can draw its batches, or, while its content is still fixed
arrays (no `map`, `repeat`, or `take`/`skip` after one of those), upload
`as_arrays()` once and batch and shuffle them on the service.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from cornu.utils import dataset_ops as ops
from cornu.utils.py_dataset import Arrays, PyDataset

INFINITE_CARDINALITY = -1
"""`cardinality()` of an endless dataset, as `tf.data.INFINITE_CARDINALITY`."""


class ArrayTensor(np.ndarray):
    """A numpy array that also answers `.numpy()`, as the eager tensors a tf.data dataset
    yields do: `images[0].numpy().astype("uint8")` runs unchanged."""

    def numpy(self) -> np.ndarray:
        """The array as a plain numpy array."""
        return np.asarray(self)


def _tensor(leaf: Any) -> Any:
    return np.asarray(leaf).view(ArrayTensor) if isinstance(leaf, np.ndarray) else leaf


class ArrayDataset(PyDataset):
    """A dataset of numpy arrays, in batches of `batch_size` samples (single samples when
    `batch_size` is None), as a tf.data pipeline `from_tensor_slices(...).batch(...)`.

    Its elements are `x`, `(x, y)` or `(x, y, sample_weight)` (each an array, a list
    or a dict of arrays, batch axis first). Iterating runs through one epoch; with
    `shuffle`, each later epoch (each `on_epoch_end`) puts the samples in a new order
    drawn from `seed`.

    Args:
        x: the inputs, `(num_samples, ...)`.
        y: the targets, `(num_samples, ...)`, or None.
        sample_weight: one weight per sample, `(num_samples,)`, or None.
        batch_size: samples per batch, or None for single samples.
        shuffle: whether to reshuffle the samples each epoch.
        seed: the seed of those shuffles.
        drop_remainder: drop a last, smaller batch.

    Raises:
        ValueError: the arrays have different numbers of samples, or `batch_size` is
            not a positive int.
    """

    class_names: list[str] | None
    """The classes, in label order (set by `image_dataset_from_directory` and
    `text_dataset_from_directory`)."""

    file_paths: list[str]
    """The files the samples come from, in the dataset's (first epoch's) order."""

    def __init__(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        batch_size: int | None = 32,
        shuffle: bool = False,
        seed: int | None = None,
        drop_remainder: bool = False,
    ) -> None:
        data = tuple(d for d in (x, y, sample_weight) if d is not None)
        self._init(_source(data if len(data) > 1 else x, batch_size, shuffle, seed, drop_remainder))

    def _init(self, node: ops.Node) -> None:
        super().__init__()
        self._node = node

    @classmethod
    def from_node(cls, node: ops.Node) -> ArrayDataset:
        """A dataset over a pipeline of `dataset_ops` steps (what the methods build)."""
        dataset = cls.__new__(cls)
        dataset._init(node)
        return dataset

    @classmethod
    def from_tensor_slices(cls, tensors: Any) -> ArrayDataset:
        """A dataset of single samples: the rows of `tensors` (an array, or a tuple or
        dict of arrays of equal length), as `tf.data.Dataset.from_tensor_slices`."""
        return cls.from_node(_source(tensors, None, False, None, False))

    # -- what fit reads --------------------------------------------------------------

    @property
    def batch_size(self) -> int | None:
        """Samples per batch; None when the elements are single samples."""
        content = self._node.content()
        if content is not None:
            return content.batch_size
        node: Any = self._node
        while not isinstance(node, ops.Source | ops.Batch | ops.Unbatch):
            node = node.parent
        if isinstance(node, ops.Unbatch):
            return None
        return node.batch_size if isinstance(node, ops.Source) else node.size

    @property
    def shuffle_each_epoch(self) -> bool:
        """Whether `fit` should put the samples of `as_arrays()` in a new order each epoch."""
        content = self._node.content()
        return bool(content and content.shuffle)

    def as_arrays(self) -> Arrays | None:
        """`(x, y, sample_weight)` — every sample, in base order, read now (images are
        decoded here) — or None once a `map`, `repeat` or a `take`/`skip` after them made
        the content something computed per batch."""
        content = self._node.content()
        if content is None:
            return None
        data = ops.materialize(content.data)
        if not isinstance(data, tuple):
            return data, None, None
        if not 1 <= len(data) <= 3:
            return None
        x, y, weights = (*data, None, None)[:3]
        return x, y, weights

    # -- PyDataset ---------------------------------------------------------------------

    def __len__(self) -> int:
        count = self._node.length()
        if count is None:
            raise TypeError("The dataset is infinite.")
        return count

    @property
    def num_batches(self) -> int | None:
        """How many elements (batches) there are; None when endless."""
        return self._node.length()

    def __getitem__(self, index: int) -> Any:
        """The element (batch) at `index`, as plain numpy arrays.

        Raises:
            IndexError: `index` is negative or past the last element.
        """
        return self._node.element(index)

    def __iter__(self) -> Iterator[Any]:
        """One epoch's elements; arrays also answer `.numpy()`, as tf tensors do."""
        for element in self._node.run():
            yield ops.tree_map(_tensor, element)
        self._node.new_epoch()

    def on_epoch_end(self) -> None:
        """Put the samples in the next epoch's order (when shuffling)."""
        self._node.new_epoch()

    # -- tf.data's methods -------------------------------------------------------------

    def as_numpy_iterator(self) -> Iterator[Any]:
        """One epoch's elements as plain numpy arrays (`tf.data`'s `as_numpy_iterator`)."""
        yield from self._node.run()
        self._node.new_epoch()

    def cardinality(self) -> ArrayTensor:
        """The number of elements, or -1 (`INFINITE_CARDINALITY`) for an endless dataset."""
        count = self._node.length()
        value = np.array(INFINITE_CARDINALITY if count is None else count, dtype=np.int64)
        return value.view(ArrayTensor)

    def take(self, count: int, name: str | None = None) -> ArrayDataset:
        """The first `count` elements (all with -1)."""
        node = self._node
        if isinstance(node, ops.Source):
            return self.from_node(node.window(0, None if count < 0 else count))
        return self.from_node(ops.Take(node, int(count)))

    def skip(self, count: int, name: str | None = None) -> ArrayDataset:
        """The elements after the first `count` (none with -1)."""
        node = self._node
        if isinstance(node, ops.Source):
            return self.from_node(node.window(node.length() if count < 0 else count, None))
        return self.from_node(ops.Skip(node, int(count)))

    def map(
        self,
        map_func: Callable[..., Any],
        num_parallel_calls: Any = None,
        deterministic: Any = None,
        name: str | None = None,
    ) -> ArrayDataset:
        """`map_func` applied to each element (a batch, once batched) when it is read: a
        Python function on numpy arrays; a tuple `(x, y)` is passed as `map_func(x, y)`."""
        return self.from_node(ops.Map(self._node, map_func))

    def batch(
        self,
        batch_size: int,
        drop_remainder: bool = False,
        num_parallel_calls: Any = None,
        deterministic: Any = None,
        name: str | None = None,
    ) -> ArrayDataset:
        """Consecutive elements stacked into batches of `batch_size`.

        Raises:
            ValueError: `batch_size` is not a positive int.
        """
        check_batch_size(batch_size)
        node = self._node
        if isinstance(node, ops.Source) and node.batch_size is None:
            return self.from_node(node.rebatched(batch_size, drop_remainder))
        return self.from_node(ops.Batch(node, batch_size, drop_remainder))

    def unbatch(self, name: str | None = None) -> ArrayDataset:
        """Each batch's samples as separate elements.

        Raises:
            ValueError: the elements are not batches.
        """
        node = self._node
        if not node.batched:
            raise ValueError("unbatch() needs a dataset of batches; this one has single samples")
        if isinstance(node, ops.Source):
            return self.from_node(node.rebatched(None))
        return self.from_node(ops.Unbatch(node))

    @property
    def shuffle(self) -> ShuffleMethod:
        """tf.data's `shuffle(buffer_size, seed=None, reshuffle_each_iteration=True)`,
        which is also true or false: whether the samples are reshuffled each epoch (the
        flag `fit` reads, as `bool(dataset.shuffle)` or `shuffle_each_epoch`)."""
        return ShuffleMethod(self)

    def _shuffled(
        self,
        buffer_size: int,
        seed: int | None = None,
        reshuffle_each_iteration: bool = True,
        name: str | None = None,
    ) -> ArrayDataset:
        return self.from_node(ops.Shuffle(self._node, seed, reshuffle_each_iteration))

    def repeat(self, count: int | None = None, name: str | None = None) -> ArrayDataset:
        """The elements `count` times over; endlessly with None or -1."""
        return self.from_node(ops.Repeat(self._node, count))

    def prefetch(self, buffer_size: Any = None, name: str | None = None) -> ArrayDataset:
        """The dataset itself: its batches are read from memory already."""
        return self

    def cache(self, filename: str = "", name: str | None = None) -> ArrayDataset:
        """The dataset itself (nothing to cache: its arrays are in memory)."""
        return self

    def __repr__(self) -> str:
        count = self._node.length()
        size = "infinite" if count is None else f"{count} elements"
        return f"<ArrayDataset: {size}, batch_size={self.batch_size}>"


class ShuffleMethod:
    """`dataset.shuffle`: called, tf.data's shuffle — the elements in a random order, drawn
    anew each epoch unless `reshuffle_each_iteration=False` (the whole dataset is the
    shuffle buffer); as a truth value, whether the dataset reshuffles its samples each
    epoch. (tf.data's method and the flag Keras-style datasets carry share the name.)"""

    def __init__(self, dataset: ArrayDataset) -> None:
        self._dataset = dataset

    def __call__(
        self,
        buffer_size: int,
        seed: int | None = None,
        reshuffle_each_iteration: bool = True,
        name: str | None = None,
    ) -> ArrayDataset:
        return self._dataset._shuffled(buffer_size, seed, reshuffle_each_iteration, name)

    def __bool__(self) -> bool:
        return self._dataset.shuffle_each_epoch

    def __repr__(self) -> str:
        return f"<ArrayDataset.shuffle: {bool(self)}>"


def check_batch_size(batch_size: Any) -> None:
    """Raise ValueError, naming the value, unless `batch_size` is a positive int or None."""
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer)
    ):
        raise ValueError(f"`batch_size` must be a positive int. Received: batch_size={batch_size}")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int. Received: batch_size={batch_size}")


def _source(
    data: Any, batch_size: int | None, shuffle: bool, seed: int | None, drop_remainder: bool
) -> ops.Source:
    check_batch_size(batch_size)
    data = ops.tree_map(
        lambda a: a if isinstance(a, np.ndarray | ops.LazyColumn) else np.asarray(a), data
    )
    lengths = {len(leaf) for leaf in ops.leaves(data)}
    if len(lengths) > 1:
        raise ValueError(
            f"all arrays of a dataset need the same number of samples; got {sorted(lengths)}"
        )
    return ops.Source(data, batch_size, shuffle, seed, drop_remainder)


__all__ = ["INFINITE_CARDINALITY", "ArrayDataset", "ArrayTensor", "ShuffleMethod"]
