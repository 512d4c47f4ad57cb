"""The `(x_train, y_train), (x_test, y_test)` every loader returns, and the seeded shuffle
and split of the loaders that ship one array (Boston and California housing)."""

from __future__ import annotations

import numpy as np

#: `(x_train, y_train), (x_test, y_test)`, as every `load_data` returns.
Splits = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def check_test_split(test_split: float) -> None:
    """Keras's check, made before anything is downloaded: 0 <= test_split < 1."""
    if not (0 <= test_split < 1):
        raise ValueError(
            f"Invalid `test_split` argument: {test_split}. "
            "It must be between 0 and 1 (exclusive of 1)."
        )


def shuffle_split(x: np.ndarray, y: np.ndarray, test_split: float, seed: int | None) -> Splits:
    """Shuffle with `np.random.RandomState(seed)`, then the first `int(n * (1 - test_split))`
    samples train and the rest test: Keras's order, so the same seed gives the same split."""
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    n = int(len(x) * (1 - test_split))
    return (np.array(x[:n]), np.array(y[:n])), (np.array(x[n:]), np.array(y[n:]))
