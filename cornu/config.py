"""Keras's `keras.config`: the float type, image layout and the like, as Cornu has them."""

from __future__ import annotations

from cornu.backend import (
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)


def disable_traceback_filtering() -> None:
    """Accepted: Cornu's errors are short already."""


def enable_traceback_filtering() -> None:
    """Accepted."""


def enable_unsafe_deserialization() -> None:
    """Accepted, to no effect: Cornu never loads code from a model file, safe or not."""


__all__ = [
    "backend",
    "disable_traceback_filtering",
    "enable_traceback_filtering",
    "enable_unsafe_deserialization",
    "epsilon",
    "floatx",
    "image_data_format",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
]
