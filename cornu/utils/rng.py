"""`keras.utils.set_random_seed`, and the seeds it gives the service's training jobs.

Keras seeds Python's `random`, numpy's global generator and the backend's. Here the
backend trains on the service, so the seed is also kept: `job_seed()` gives each
training job submitted afterwards (by `fit` without its own `seed`) the next seed of a
sequence that depends only on the seed set, so that a program which calls
`set_random_seed(s)` trains the same way every time it runs.
"""

from __future__ import annotations

import random
import threading

import numpy as np

_lock = threading.Lock()
_seed: int | None = None
_jobs: random.Random | None = None  # the sequence of job seeds, restarted by each set


def set_random_seed(seed: int) -> None:
    """Seed Python's `random`, numpy's global generator and the service's jobs, as Keras's
    `keras.utils.set_random_seed`.

    Args:
        seed: the seed, an int.

    Raises:
        ValueError: `seed` is not an int.
    """
    global _seed, _jobs
    if not isinstance(seed, int):
        raise ValueError(
            "Expected `seed` argument to be an integer. "
            f"Received: seed={seed} (of type {type(seed)})"
        )
    random.seed(seed)
    np.random.seed(seed)
    with _lock:
        _seed = seed
        _jobs = random.Random(seed)


def get_random_seed() -> int | None:
    """The seed last given to `set_random_seed`, or None (Keras's `get_random_seed`)."""
    return _seed


def job_seed() -> int | None:
    """The seed for the next training job that names none, or None when
    `set_random_seed` was never called.

    After `set_random_seed(s)`, the n-th call returns the same number in every run of
    the program (the first is always the same for a given `s`); seeds are in `[0, 2**31)`.
    """
    with _lock:
        if _jobs is None:
            return None
        return _jobs.randrange(2**31)


__all__ = ["get_random_seed", "job_seed", "set_random_seed"]
