"""Resolving the names a user may type (layer, optimizer, loss, …) with helpful errors."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def unknown_name(kind: str, name: object, valid: Iterable[str]) -> str:
    """`unknown optimizer 'rmsprp'; did you mean 'rmsprop'? valid optimizers: …`"""
    choices = sorted(set(valid), key=str.lower)
    message = f"unknown {kind} {name!r}"
    if isinstance(name, str):
        lowered = {c.lower(): c for c in choices}
        close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
        if close:
            message += f"; did you mean {lowered[close[0]]!r}?"
    return f"{message} (valid {kind}s: {', '.join(choices)})"


def canonical(name: str, valid: Iterable[str]) -> str | None:
    """The spelling in `valid` that equals `name` ignoring case, or None."""
    lowered = name.lower()
    return next((v for v in valid if v.lower() == lowered), None)
