"""Keras's optimizers: `optimizers.RMSprop(lr=0.001)` (Keras's defaults apply on the service)."""

from __future__ import annotations

from cornu.core.spec.optimizers import OPTIMIZER_SPECS
from cornu.objects import KerasObject, family, missing

# The service's optimizers; each takes the learning rate first, as in Keras.
_CLASSES = family(dict.fromkeys(OPTIMIZER_SPECS, ("learning_rate",)), __name__)
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


__getattr__ = missing("optimizer", _CLASSES)


__all__ = ["KerasObject", "schedules", *_CLASSES]
