"""Preprocessing layers that learn from data in the user's process: `Normalization.adapt`.

Keras computes a Normalization layer's mean and variance on the data before training
(`keras/src/layers/preprocessing/normalization.py` `adapt`); here too, so the data
never has to reach the service for it. The results become the layer's weights `mean`,
`variance` and `count` (which Keras 3 leaves at 0), sent with the model like any
weights the user set.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import numpy as np

from cornu.layers.layer import Layer
from cornu.weights import set_layer_weights


def _first(batch: Any) -> Any:
    """A batch's inputs: `x` of an `(x, y)` or `(x, y, sample_weight)` tuple."""
    return batch[0] if isinstance(batch, tuple) else batch


class Normalization(Layer):
    """`keras.layers.Normalization`, run by Cornu; `adapt(data)` computes its statistics
    in this process as Keras does."""

    type: ClassVar[str] = "Normalization"

    def adapt(self, data: Any) -> None:
        """Keras's `adapt`: the mean and (biased) variance of `data` for each index of the
        kept `axis`, over every other axis.

        `data` is an array (numpy, or anything with `__array__` and a `shape`), or an
        iterable of batches (a list, a generator, a `PyDataset`; `(x, y)` batches use
        `x`), merged batch by batch with Keras's weighted formula.
        """
        if self.config.get("mean") is not None:
            raise ValueError(
                f"Normalization layer {self.name!r} was given its mean and variance; "
                "adapt() computes them only for a layer built without them"
            )
        if isinstance(data, np.ndarray) or (hasattr(data, "__array__") and hasattr(data, "shape")):
            array = np.asarray(data)
            keep, reduce = self._axes(array.shape)
            mean, variance = np.mean(array, axis=reduce), np.var(array, axis=reduce)
        elif isinstance(data, Iterable):
            mean, variance = self._merged(iter(data))
        else:
            raise TypeError(
                f"adapt() takes an array or an iterable of batches, not {type(data).__name__}"
            )
        weights = [
            np.asarray(mean, np.float32),
            np.asarray(variance, np.float32),
            np.zeros((), np.int32),
        ]
        if self._owner is not None:  # in a model: the weights' shapes are known, checked
            set_layer_weights(self, weights)
        else:
            self._weights = dict(zip(("mean", "variance", "count"), weights, strict=True))

    def _axes(self, shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Keras's `build`: the kept axes (sorted, non-negative) and the reduced ones."""
        axis = self.config.get("axis", -1)
        axes = [] if axis is None else [axis] if isinstance(axis, int) else list(axis)
        ndim = len(shape)
        if any(not -ndim <= a < ndim for a in axes):
            raise ValueError(
                f"All `axis` values must be in the range [-ndim, ndim). Received inputs "
                f"with ndim={ndim}, while axis={tuple(axes)}"
            )
        keep = tuple(sorted(a % ndim for a in axes))
        return keep, tuple(d for d in range(ndim) if d not in keep)

    def _merged(self, batches: Iterator[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Keras's running mean and variance over batches (the lack-of-fit sum of squares
        formula), in float32 as Keras computes it."""
        first = next(batches, None)
        if first is None:
            raise ValueError("adapt() received an empty iterable (no batches)")
        shape = np.shape(_first(first))
        keep, reduce = self._axes(shape)
        kept_shape = tuple(shape[d] for d in keep)
        total_mean = np.zeros(kept_shape, np.float32)
        total_var = np.zeros(kept_shape, np.float32)
        total_count = 0
        for given in itertools.chain([first], batches):
            batch = np.asarray(_first(given), dtype=np.float32)
            if tuple(batch.shape[d] for d in keep) != kept_shape:
                raise ValueError(
                    f"adapt() yielded a batch with incompatible shape. Expected {shape}, "
                    f"got {batch.shape}."
                )
            batch_mean = np.mean(batch, axis=reduce)
            batch_var = np.var(batch, axis=reduce)
            batch_count = math.prod(batch.shape[d] for d in reduce) if reduce else 1
            total_count += batch_count
            batch_weight = float(batch_count) / total_count
            existing_weight = 1.0 - batch_weight
            new_mean = total_mean * existing_weight + batch_mean * batch_weight
            total_var = (total_var + (total_mean - new_mean) ** 2) * existing_weight + (
                batch_var + (batch_mean - new_mean) ** 2
            ) * batch_weight
            total_mean = new_mean
        return total_mean, total_var

    @property
    def adapt_mean(self) -> np.ndarray:
        """Keras's `adapt_mean`: the weight `mean` (after `adapt`, or the service's)."""
        return self._weight("mean")

    @property
    def adapt_variance(self) -> np.ndarray:
        return self._weight("variance")

    def _weight(self, name: str) -> np.ndarray:
        if isinstance(self._weights, dict) and name in self._weights:
            return self._weights[name]
        for variable in self.weights:
            if variable.name == name:
                return variable.numpy()
        raise AttributeError(
            f"Normalization layer {self.name!r} has no {name} weight yet: call adapt(data), "
            "or put it in a model that knows its input shape"
        )


__all__ = ["Normalization"]
