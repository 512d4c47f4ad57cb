"""Keras's optimizers: `optimizers.RMSprop(lr=0.001)` (Keras's defaults apply on the
service), their learning-rate schedules, and Keras 2's `optimizers.legacy` names."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np

from cornu.core.spec.names import canonical
from cornu.core.spec.optimizers import OPTIMIZER_SPECS
from cornu.objects import KerasObject, family, missing


class LearningRate(float):
    """A fixed learning rate as Keras 3's optimizers give it (a variable): a number
    that also takes `assign(value)` (the optimizer's rate becomes `value`) and gives
    `numpy()`."""

    optimizer: Optimizer

    def __new__(cls, value: float, optimizer: Optimizer) -> LearningRate:
        rate = super().__new__(cls, value)
        rate.optimizer = optimizer
        return rate

    def assign(self, value: Any) -> None:
        self.optimizer.learning_rate = value

    def numpy(self) -> np.float32:
        return np.float32(self)


class Optimizer(KerasObject):
    """An optimizer's arguments; `learning_rate` reads (and sets) its learning rate,
    Keras's default when none was given (Keras 2's `lr` too)."""

    positional: ClassVar[tuple[str, ...]] = ("learning_rate",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "lr" in kwargs and "learning_rate" not in kwargs:
            kwargs["learning_rate"] = kwargs.pop("lr")
        if "decay" in kwargs:  # Keras 2's time decay: Keras 3 warns and ignores it too
            kwargs.pop("decay")
            warnings.warn(
                "Argument `decay` is no longer supported and will be ignored (Keras 3); "
                "give learning_rate a schedule, e.g. optimizers.schedules.InverseTimeDecay",
                stacklevel=3,
            )
        super().__init__(*args, **kwargs)

    @property
    def learning_rate(self) -> Any:
        """The rate (a `LearningRate`), or the schedule it was given."""
        rate = self.config.get(
            "learning_rate", OPTIMIZER_SPECS[self.type].model_fields["learning_rate"].default
        )
        return LearningRate(rate, self) if isinstance(rate, int | float) else rate

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        """A number (numpy's and 0-d arrays too) or a schedule. TypeError when the rate
        follows a schedule, as in Keras (keras/src/optimizers/base_optimizer.py)."""
        if not isinstance(self.learning_rate, float):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not "
                "settable. (Keras)"
            )
        if not isinstance(value, KerasObject | dict):
            value = float(np.asarray(value, dtype=np.float64))
        self.config["learning_rate"] = value

    lr = learning_rate


_CLASSES: dict[str, type[Optimizer]] = {
    name: type(name, (Optimizer,), {"type": name, "__module__": __name__})
    for name in OPTIMIZER_SPECS
}
globals().update(_CLASSES)


def optimizer_object(value: Any) -> Any:
    """`compile(optimizer=…)` as an object: a name (`"rmsprop"`, any case), an optimizer
    class or instance, or its spec (`{"type": "Adam", "learning_rate": 0.01}`, as a saved
    file holds it); other objects as given (the service says what it makes of them)."""
    if isinstance(value, str):
        name = canonical(value, OPTIMIZER_SPECS)
        return _CLASSES[name]() if name else value  # an unknown name: the service says so
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        name = canonical(value["type"], OPTIMIZER_SPECS)
        if name:
            return _CLASSES[name](**{k: v for k, v in value.items() if k != "type"})
    if isinstance(value, type) and issubclass(value, Optimizer):
        return value()
    return value


def get(identifier: Any) -> Any:
    """Keras's `optimizers.get`."""
    return optimizer_object(identifier)


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


class legacy:  # noqa: N801  (keras.optimizers.legacy, Keras 2.11's older optimizers)
    """Keras 2.11+'s `optimizers.legacy.Adam` etc.: the same optimizers here."""


for _name, _cls in _CLASSES.items():
    setattr(legacy, _name, _cls)

__getattr__ = missing("optimizer", _CLASSES)


__all__ = ["Optimizer", "get", "legacy", "optimizer_object", "schedules", *_CLASSES]
