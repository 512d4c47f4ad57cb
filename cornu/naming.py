"""Keras's default names: `dense`, `dense_1`, … counted per name across the session, as
Keras counts them (keras/src/utils/naming.py), so that layer names — and the history
keys built from output layers' names — are the ones Keras would give."""

from __future__ import annotations

import re
from collections import defaultdict

_uids: defaultdict[str, int] = defaultdict(int)


def snake_case(name: str) -> str:
    """`Conv2D` → `conv2d`, `BatchNormalization` → `batch_normalization` (Keras's rule)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def auto_name(prefix: str) -> str:
    """The next default name for `prefix`: the first is `prefix`, then `prefix_1`, …"""
    base = snake_case(prefix)
    count = _uids[base]
    _uids[base] += 1
    return base if count == 0 else f"{base}_{count}"


def clear_session() -> None:
    """Start the names over, as `keras.backend.clear_session()` does."""
    _uids.clear()
