"""`Discretization.adapt` and `IntegerLookup.adapt` in the user's process, as Keras
computes them (`keras/src/layers/preprocessing/discretization.py`, `index_lookup.py`),
so the data never has to reach the service for it. The results become the layer's
arguments (`bin_boundaries`; `vocabulary` and `idf_weights`), sent with the model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from cornu.core.spec.layers import parse_layer
from cornu.layers.layer import Layer


class _Adapted(Layer):
    """A layer whose `adapt` sets some of its arguments."""

    def _set_config(self, **values: Any) -> None:
        """Set arguments as `adapt` computed them, checked as the constructor checks."""
        before = self.config
        self.config = {**before, **values}
        try:
            self._check()
        except Exception:
            self.config = before
            raise


def _first(batch: Any) -> Any:
    """A batch's inputs: `x` of an `(x, y)` or `(x, y, sample_weight)` tuple."""
    return batch[0] if isinstance(batch, tuple) else batch


def _is_array(data: Any) -> bool:
    return isinstance(data, np.ndarray) or (hasattr(data, "__array__") and hasattr(data, "shape"))


# -- Keras's quantile summaries (discretization.py, copied step for step) --------------


def summarize(values: np.ndarray, epsilon: float) -> np.ndarray:
    values = np.sort(np.reshape(values, [-1]))
    elements = np.size(values)
    num_buckets = 1.0 / epsilon
    step = max(elements / num_buckets, 1)
    boundaries = values[int(step - 1) :: int(step)]
    weights = np.ones_like(boundaries) * step
    return np.stack([boundaries, weights])


def compress_summary(summary: np.ndarray, epsilon: float) -> np.ndarray:
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_weight_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_weight_percents, summary[0])
    cum_weights = np.interp(percents, cum_weight_percents, cum_weights)
    new_weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype("float32")


def merge_summaries(prev: np.ndarray, next_: np.ndarray, epsilon: float) -> np.ndarray:
    merged = np.concatenate((prev, next_), axis=1)
    merged = np.take(merged, np.argsort(merged[0]), axis=1)
    return compress_summary(merged, epsilon)


class Discretization(_Adapted):
    """`keras.layers.Discretization`, run by Cornu; `adapt(data)` computes the bin
    boundaries from the data's approximate quantiles as Keras does."""

    type: ClassVar[str] = "Discretization"

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Keras's `adapt`: an array is one batch; any other iterable (a list, a
        generator, a `PyDataset`; `(x, y)` batches use `x`) yields batches, merged into
        one summary with `epsilon`'s tolerance; `num_bins` quantiles of it are the
        boundaries."""
        num_bins = self.config.get("num_bins")
        if num_bins is None:
            raise ValueError(
                "Cannot adapt a Discretization layer that has been initialized with "
                "`bin_boundaries`, use `num_bins` instead."
            )
        epsilon = float(self.config.get("epsilon", 0.01))
        summary = np.array([[], []], dtype="float32")
        if _is_array(data):
            batches: Iterable[Any] = [data]
        elif isinstance(data, Iterable):
            batches = data
        else:
            raise TypeError(
                f"adapt() takes an array or an iterable of batches, not {type(data).__name__}"
            )
        for i, batch in enumerate(batches):
            if steps is not None and i >= steps:
                break
            values = np.array(_first(batch)).astype("float32")
            summary = merge_summaries(summarize(values, epsilon), summary, epsilon)
        boundaries = compress_summary(summary, 1.0 / num_bins)[0, :-1]
        self._set_config(bin_boundaries=[float(b) for b in boundaries.tolist()])

    @property
    def bin_boundaries(self) -> list[float] | None:
        boundaries: list[float] | None = self.config.get("bin_boundaries")
        return boundaries


class IntegerLookup(_Adapted):
    """`keras.layers.IntegerLookup`, run by Cornu; `adapt(data)` computes the vocabulary
    (tokens by frequency, ties by the larger token first) and, for "tf_idf", the IDF
    weights `log(1 + documents / (1 + documents with the token))`, as Keras does."""

    type: ClassVar[str] = "IntegerLookup"

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Keras's `adapt`: an array or a list is one batch (rank 1: each value a
        document); any other iterable yields batches (each row a document)."""
        if self.config.get("vocabulary") is not None:
            raise ValueError(
                f"Cannot adapt layer '{self.name}' after setting a static vocabulary via "
                "`vocabulary` argument or `set_vocabulary()` method."
            )
        counts: Counter[int] = Counter()
        documents: Counter[int] = Counter()
        num_documents = 0
        if _is_array(data) or isinstance(data, list | tuple):
            array = np.asarray(data, dtype=np.int64)
            batches: Iterable[Any] = [array[:, None] if array.ndim == 1 else array]
        elif isinstance(data, Iterable):
            batches = data
        else:
            raise TypeError(f"adapt() takes an array or an iterable, not {type(data).__name__}")
        for i, given in enumerate(batches):
            if steps is not None and i >= steps:
                break
            batch = np.asarray(_first(given), dtype=np.int64)
            if batch.ndim < 2:
                batch = batch.reshape(1, -1)  # one document
            tokens, found = np.unique(batch, return_counts=True)
            counts.update(dict(zip(tokens.tolist(), found.tolist(), strict=True)))
            for row in batch:
                documents.update(np.unique(row).tolist())
            num_documents += len(batch)
        for special in (self.config.get("mask_token"), self.config.get("oov_token", -1)):
            if special is not None:
                counts.pop(int(special), None)
        if not counts:
            return  # Keras keeps the layer as it was
        tokens = np.array(list(counts), dtype=np.int64)
        order = np.lexsort((tokens, np.array([counts[t] for t in tokens.tolist()])))[::-1]
        max_tokens = self.config.get("max_tokens")
        if max_tokens:
            order = order[: max_tokens - self._token_start()]
        vocabulary = tokens[order].tolist()
        update: dict[str, Any] = {"vocabulary": vocabulary}
        if self.config.get("output_mode") in ("tf_idf", "tf-idf"):
            df = np.array([documents[t] for t in vocabulary], dtype=np.int64)
            idf = np.log(1 + num_documents / (1 + df)).astype(np.float32)
            update["idf_weights"] = [float(w) for w in idf.tolist()]
        self._set_config(**update)

    def _token_start(self) -> int:
        int_mode = self.config.get("output_mode", "int") == "int"
        mask = self.config.get("mask_token") is not None and int_mode
        return int(mask) + int(self.config.get("num_oov_indices", 1))

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[int]:
        """Keras's `get_vocabulary`: the mask and OOV tokens first (unless left out)."""
        spec = self._spec()
        tokens = list(spec.tokens or [])
        if not include_special_tokens:
            return tokens
        return [*(t if t is not None else -1 for t in spec.special_tokens), *tokens]

    def vocabulary_size(self) -> int:
        return len(self.get_vocabulary())

    def _spec(self) -> Any:
        return parse_layer(self.to_spec())


__all__ = ["Discretization", "IntegerLookup"]
