"""Keras's `keras.ops`, for what it is in a program that trains on Cornu: arithmetic on
numbers and arrays in the user's process (a learning-rate schedule, a metric computed by
hand) — done with numpy, whose names `keras.ops` follows (`ops.exp`, `ops.mean`,
`ops.convert_to_numpy`).

On a model's Keras tensors an op would be Python code inside the model, which Cornu
never runs on its workers: that raises NotSupported, saying which layers do the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cornu.core.errors import NotSupported

# keras.ops names that numpy spells differently.
_NUMPY_NAMES = {
    "convert_to_tensor": "asarray",
    "convert_to_numpy": "asarray",
    "cast": "asarray",
}


def relu(x: Any) -> Any:
    return np.maximum(np.asarray(_numbers(x, "relu")), 0)


def sigmoid(x: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-np.asarray(_numbers(x, "sigmoid"))))


def softmax(x: Any, axis: int = -1) -> Any:
    values = np.asarray(_numbers(x, "softmax"))
    shifted = np.exp(values - values.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def _numbers(value: Any, name: str) -> Any:
    from cornu.layers import KerasTensor

    if isinstance(value, KerasTensor):
        raise NotSupported(
            f"keras.ops.{name} on a model's tensor is Python code inside the model: "
            f"{NotSupported.NEVER}; use layers that compute it (Activation, Add, Multiply, "
            "Reshape, Permute, Concatenate, the pooling layers …)"
        )
    if isinstance(value, list | tuple):
        return type(value)(_numbers(v, name) for v in value)
    return value


def __getattr__(name: str) -> Callable[..., Any]:
    numpy_name = _NUMPY_NAMES.get(name, name)
    function = getattr(np, numpy_name, None) if numpy_name else None
    if function is None or name.startswith("_"):
        raise AttributeError(
            f"keras.ops.{name} is not available here: in a Cornu program ops compute on "
            "numbers and arrays in your process (numpy's functions of the same name)"
        )

    def op(*args: Any, **kwargs: Any) -> Any:
        args = tuple(_numbers(a, name) for a in args)
        if name == "cast" and len(args) == 2:
            return np.asarray(args[0]).astype(args[1])
        return function(*args, **kwargs)

    op.__name__ = name
    return op


__all__ = ["relu", "sigmoid", "softmax"]
