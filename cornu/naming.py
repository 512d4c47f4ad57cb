"""Keras's default names: `dense`, `dense_1`, … counted per name across the session, as
Keras counts them (keras/src/utils/naming.py), so that layer names — and the history
keys built from output layers' names — are the ones Keras would give."""

from __future__ import annotations

from collections import defaultdict

from cornu.core.spec.names import snake_case

_uids: defaultdict[str, int] = defaultdict(int)


def auto_name(prefix: str) -> str:
    """The next default name for `prefix`: the first is `prefix`, then `prefix_1`, …"""
    base = snake_case(prefix)
    count = _uids[base]
    _uids[base] += 1
    return base if count == 0 else f"{base}_{count}"


def clear_session() -> None:
    """Start the names over, as `keras.backend.clear_session()` does."""
    _uids.clear()
