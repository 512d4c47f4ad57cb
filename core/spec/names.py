"""Resolving the names a user may type (layer, optimizer, loss, …) with helpful errors."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any


def unknown_name(kind: str, name: object, valid: Iterable[str]) -> str:
    """`unknown optimizer 'rmsprp'; did you mean 'rmsprop'? valid optimizers: …`"""
    choices = sorted(set(valid), key=str.lower)
    message = f"unknown {kind} {name!r}"
    if isinstance(name, str):
        lowered = {c.lower(): c for c in choices}
        close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
        if close:
            message += f"; did you mean {lowered[close[0]]!r}?"
    plural = kind + ("es" if kind.endswith("s") else "s")  # losses, metrics
    return f"{message} (valid {plural}: {', '.join(choices)})"


def canonical(name: str, valid: Iterable[str]) -> str | None:
    """The spelling in `valid` that equals `name` ignoring case, or None."""
    lowered = name.lower()
    return next((v for v in valid if v.lower() == lowered), None)


def snake_case(name: str) -> str:
    """Keras's `to_snake_case` (keras/src/utils/naming.py): `Conv2D` → `conv2d`,
    `BatchNormalization` → `batch_normalization`."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def layer_names(layers: Sequence[Any]) -> list[str]:
    """Each layer's given `name`, or Keras's default by its `type`: `dense`, `dense_1`,
    … per type, skipping names given to other layers (a Sequential's layers in Keras)."""
    taken = {layer.name for layer in layers if layer.name}
    counts: Counter[str] = Counter()
    names = []
    for layer in layers:
        if layer.name:
            names.append(layer.name)
            continue
        base = snake_case(layer.type)
        while True:
            n = counts[base]
            counts[base] += 1
            candidate = base if n == 0 else f"{base}_{n}"
            if candidate not in taken:
                break
        taken.add(candidate)
        names.append(candidate)
    return names


def fresh_name(base: str, taken: set[str], first: int = 2) -> str:
    """`base`, or else `base_N` with the smallest `N >= first` not in `taken`; the name is
    added to `taken`."""
    name, n = base, first
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name
