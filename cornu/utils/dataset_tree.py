"""Element structures (an array, or tuples / lists / dicts of arrays) and lazy columns
(samples computed when read) — what `dataset_ops`' steps carry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


class LazyColumn:
    """A column of samples computed when read (images decoded from files, windows of a
    series): `rows(index)` gives the samples at `index`, batch axis first."""

    def __len__(self) -> int:
        raise NotImplementedError

    def rows(self, index: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def materialize(self) -> np.ndarray:
        """Every sample at once, in order."""
        return self.rows(np.arange(len(self)))

    def subset(self, index: np.ndarray) -> LazyColumn:
        return _Subset(self, index)


class _Subset(LazyColumn):
    def __init__(self, column: LazyColumn, index: np.ndarray) -> None:
        self.column, self.index = column, index

    def __len__(self) -> int:
        return len(self.index)

    def rows(self, index: np.ndarray) -> np.ndarray:
        return self.column.rows(self.index[index])


# -- element structures: an array, or tuples / lists / dicts of them ------------------


def tree_map(fn: Callable[[Any], Any], tree: Any) -> Any:
    if isinstance(tree, tuple):
        return tuple(tree_map(fn, t) for t in tree)
    if isinstance(tree, list):
        return [tree_map(fn, t) for t in tree]
    if isinstance(tree, dict):
        return {k: tree_map(fn, v) for k, v in tree.items()}
    return fn(tree)


def leaves(tree: Any) -> list[Any]:
    found: list[Any] = []
    tree_map(found.append, tree)
    return found


def combine(trees: Sequence[Any], join: Callable[[list[Any]], Any]) -> Any:
    """Join the leaves at the same place in `trees` (all of one structure)."""
    first = trees[0]
    if isinstance(first, tuple | list):
        joined = [combine([t[i] for t in trees], join) for i in range(len(first))]
        return tuple(joined) if isinstance(first, tuple) else joined
    if isinstance(first, dict):
        return {k: combine([t[k] for t in trees], join) for k in first}
    return join(list(trees))


def num_rows(tree: Any) -> int:
    return len(leaves(tree)[0])


def gather(leaf: Any, index: Any) -> Any:
    """The rows of an array or a lazy column at `index` (an int, a slice or an array)."""
    if isinstance(leaf, LazyColumn):
        if isinstance(index, slice):
            index = np.arange(len(leaf))[index]
        if np.ndim(index) == 0:
            return leaf.rows(np.array([index]))[0]
        return leaf.rows(np.asarray(index))
    return leaf[index]


def materialize(tree: Any) -> Any:
    return tree_map(lambda a: a.materialize() if isinstance(a, LazyColumn) else a, tree)


def subset(tree: Any, index: np.ndarray) -> Any:
    return tree_map(lambda a: a.subset(index) if isinstance(a, LazyColumn) else a[index], tree)


__all__ = [
    "LazyColumn",
    "combine",
    "gather",
    "leaves",
    "materialize",
    "num_rows",
    "subset",
    "tree_map",
]
