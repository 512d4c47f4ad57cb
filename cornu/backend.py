"""What Keras programs still call through `keras.backend` (`from keras import backend as
K`): session names, the float type, image layout, and a few helpers."""

from __future__ import annotations

from typing import Any

import numpy as np

from cornu.naming import clear_session as _clear_names

_FLOATX = "float32"
_EPSILON = 1e-7


def clear_session(free_memory: bool = True) -> None:
    """Keras's `clear_session`: default names (`dense`, `dense_1`…) count from the start."""
    _clear_names()


def floatx() -> str:
    """Keras's float type: float32 (the service trains in float32)."""
    return _FLOATX


def set_floatx(value: str) -> None:
    if value != "float32":
        raise ValueError(f"Cornu trains in float32; floatx {value!r} is not available")


def epsilon() -> float:
    return _EPSILON


def set_epsilon(value: float) -> None:
    global _EPSILON
    _EPSILON = float(value)


def image_data_format() -> str:
    """Always `channels_last`: Cornu's layers take images as (height, width, channels)."""
    return "channels_last"


def set_image_data_format(value: str) -> None:
    if value != "channels_last":
        raise ValueError("Cornu's layers take channels_last images (height, width, channels)")


def backend() -> str:
    """The name of the backend: the service's torch engine."""
    return "torch"


def int_shape(x: Any) -> tuple[int | None, ...]:
    """The shape of a Keras tensor (batch axis None) or of an array."""
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else np.shape(x)


def count_params(x: Any) -> int:
    return int(np.prod([d or 0 for d in int_shape(x)]))


def get_value(x: Any) -> Any:
    return x.numpy() if hasattr(x, "numpy") else x


def set_value(x: Any, value: Any) -> None:
    """Keras 2's `backend.set_value(variable, value)`: `K.set_value(model.optimizer.lr,
    0.001)` sets the optimizer's learning rate, as `x.assign(value)` does in Keras 3."""
    if not hasattr(x, "assign"):
        raise TypeError(f"set_value takes a variable (with `assign`), not {type(x).__name__}")
    x.assign(value)


def is_keras_tensor(x: Any) -> bool:
    from cornu.layers import KerasTensor

    return isinstance(x, KerasTensor)


__all__ = [
    "backend",
    "clear_session",
    "count_params",
    "epsilon",
    "floatx",
    "get_value",
    "image_data_format",
    "int_shape",
    "is_keras_tensor",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "set_value",
]
