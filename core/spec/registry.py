"""The names Keras's own registries resolve, as Keras 3.15 has them.

`keras_registry.json` is generated from Keras itself (`tests/data/keras/gen_registries.py`),
never written by hand: every class `keras.layers` exports, under each of its names
(`Convolution2D` is `Conv2D`, `AvgPool1D` is `AveragePooling1D`), with the arguments its
constructor takes and their defaults; and for initializers, regularizers, constraints,
activations, losses, metrics and optimizers, each name `keras.<module>.get` resolves
(`OrthogonalInitializer` → `Orthogonal`, `normal` → `RandomNormal`, `bce` →
`binary_crossentropy`) with what it resolves to.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any, Literal

Module = Literal[
    "initializers", "regularizers", "constraints", "activations", "losses", "metrics", "optimizers"
]
REQUIRED = "<required>"
"""An argument's default in `layer_arguments` when Keras's constructor has none."""
POPPED = "<popped>"
"""An argument's default in `layer_arguments` when Keras's constructor takes it from
`**kwargs` (`LSTM`'s `implementation`, `Embedding`'s deprecated `input_length`)."""


@cache
def _registry() -> dict[str, Any]:
    text = files("cornu.core.spec").joinpath("keras_registry.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def keras_version() -> str:
    """The Keras release the registry was generated from."""
    return str(_registry()["keras_version"])


def keras_layer_names() -> list[str]:
    """Every layer class name `keras.layers` exports, aliases included."""
    return sorted(_registry()["layers"])


def layer_class(name: str) -> str | None:
    """The class a `keras.layers` name stands for (`Convolution2D` → `Conv2D`); None for a
    name Keras does not export."""
    entry = _registry()["layers"].get(name)
    return None if entry is None else str(entry["class"])


def layer_arguments(name: str) -> dict[str, Any] | None:
    """A Keras layer's constructor arguments and their defaults (`REQUIRED` for those
    without one; `POPPED` for keywords its constructor takes from `**kwargs`), the
    base `Layer`'s included; None for a name Keras does not export."""
    entry = _registry()["layers"].get(name)
    if entry is None:
        return None
    args: dict[str, Any] = dict(entry["args"])
    for key in _registry()["layer_base_args"]:
        args.setdefault(key, None)
    return args


def resolve(module: Module, name: str) -> str:
    """What `keras.<module>.get(name)` finds, by its own name: `OrthogonalInitializer` →
    `Orthogonal`, `one` → `Ones`, `swish` → `silu`; `name` itself when Keras's registry
    has no entry for it (the caller reports unknown names with its own list)."""
    found = _registry()[module].get(name)
    return name if found is None else str(found)


def is_alias(module: Module, name: str) -> bool:
    """Whether `name` is another spelling than its target's class or function name
    ignoring case and underscores (`OrthogonalInitializer`, `normal`; not `he_normal`)."""
    target = resolve(module, name)

    def key(s: str) -> str:
        return s.replace("_", "").lower()

    return key(target) != key(name)
