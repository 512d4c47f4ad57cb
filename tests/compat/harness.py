"""What a corpus program reports at its end, for comparison with real Keras.

`report(**values)` writes to the JSON file named by `COMPAT_REPORT` (nothing when unset) a
few facts that any correct Keras implementation gives for the same program, whatever the
random numbers: parameter counts, History keys and lengths, prediction shapes and the
form of an evaluation. It reads them through Keras's public API only (`count_params()`,
`.history`, `.shape`), so the same code reports on real Keras objects and on Cornu's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any


def describe(name: str, value: Any) -> Any:
    """The comparable facts of one value, chosen by its name and what it offers."""
    if name.startswith("model") and hasattr(value, "count_params"):
        return {"count_params": int(value.count_params())}
    if name.startswith("history") and hasattr(value, "history"):
        history = value.history
        return {"keys": sorted(history), "epochs": len(history["loss"])}
    if name.startswith("prediction") or name.startswith("preds"):
        return _shapes(value)
    if name.startswith("evaluation") or name.startswith("score"):
        return _evaluation(value)
    return _plain(value)


def _shapes(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _shapes(item) for key, item in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_shapes(item) for item in value]
    return list(value.shape)


def _evaluation(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {"keys": sorted(str(key) for key in value)}
    if isinstance(value, list | tuple):
        return {"length": len(value)}
    return "scalar"


def _plain(value: Any) -> Any:
    """Anything else a program reports (a count, a shape, a list of names) as JSON."""
    if hasattr(value, "shape"):
        return list(value.shape)
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return "float"
    return type(value).__name__


def report(**values: Any) -> None:
    """Write `{name: facts}` for each value to `$COMPAT_REPORT`.

    A name starting with `model`, `history`, `prediction`/`preds` or `evaluation`/`score`
    says what the value is (`model_2`, `history_dropout`, `predictions`, …); other values
    are written as plain JSON (floats as "float": their values vary between runs).
    """
    path = os.environ.get("COMPAT_REPORT")
    if not path:
        return
    facts = {name: describe(name, value) for name, value in values.items()}
    with open(path, "w") as f:
        json.dump(facts, f, indent=1, sort_keys=True)
