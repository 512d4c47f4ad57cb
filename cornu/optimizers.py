"""Keras's optimizers: `optimizers.RMSprop(lr=0.001)` (Keras's defaults apply on the service)."""

from __future__ import annotations

from typing import Any

from cornu.objects import KerasObject, family

_CLASSES = family(
    dict.fromkeys(
        ("SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "Nadam"),
        ("learning_rate",),
    ),
    __name__,
)
globals().update(_CLASSES)


class schedules:  # noqa: N801  (keras.optimizers.schedules)
    """Learning-rate schedules: `optimizers.schedules.ExponentialDecay(0.1, 1000, 0.9)`."""

    ExponentialDecay = family(
        {"ExponentialDecay": ("initial_learning_rate", "decay_steps", "decay_rate", "staircase")},
        __name__,
    )["ExponentialDecay"]
    PiecewiseConstantDecay = family({"PiecewiseConstantDecay": ("boundaries", "values")}, __name__)[
        "PiecewiseConstantDecay"
    ]
    CosineDecay = family(
        {"CosineDecay": ("initial_learning_rate", "decay_steps", "alpha")}, __name__
    )["CosineDecay"]
    InverseTimeDecay = family(
        {"InverseTimeDecay": ("initial_learning_rate", "decay_steps", "decay_rate", "staircase")},
        __name__,
    )["InverseTimeDecay"]


def __getattr__(name: str) -> Any:
    raise AttributeError(f"cornu.optimizers has no {name!r} (it has {', '.join(_CLASSES)})")


__all__ = ["KerasObject", "schedules", *_CLASSES]
