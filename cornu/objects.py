"""Keras objects given by name and arguments — optimizers, losses, metrics, callbacks,
learning-rate schedules, initializers, regularizers, constraints — and Keras's function
forms of them (`losses.binary_crossentropy`, `activations.relu`). Each becomes what a
spec holds: `{"type": <Keras class>, **arguments}`, or a name."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import numpy as np

from cornu.core.errors import NotSupported
from cornu.core.spec.names import unknown_name


class KerasObject:
    """`RMSprop(lr=0.001)`, `BinaryCrossentropy(from_logits=True)`, `EarlyStopping(patience=2)`."""

    type: ClassVar[str] = ""
    positional: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(self.positional):
            raise TypeError(
                f"{self.type} takes at most {len(self.positional)} positional arguments"
            )
        self.config = {**dict(zip(self.positional, args, strict=False)), **kwargs}

    def to_spec(self) -> dict[str, Any]:
        return {"type": self.type, **{k: jsonable(v) for k, v in self.config.items()}}

    def get_config(self) -> dict[str, Any]:
        return dict(self.config)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> KerasObject:
        return cls(**config)

    def __getattr__(self, name: str) -> Any:
        """Keras's attributes are its arguments: `optimizer.learning_rate`."""
        config = self.__dict__.get("config", {})
        if name in config:
            return config[name]
        raise AttributeError(f"{self.type} has no attribute {name!r}")

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        return f"{self.type}({arguments})"


class KerasFunction:
    """Keras's function form of a named object (`keras.losses.binary_crossentropy`,
    `keras.activations.relu`): usable wherever Keras takes one (`loss=`, `metrics=`,
    `activation=`), where it stands for its name. It computes only on the service."""

    def __init__(self, name: str, kind: str) -> None:
        self.__name__ = self.keras_name = name
        self.kind = kind

    def to_spec(self) -> str:
        return self.keras_name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise NotSupported(
            f"{self.kind} {self.keras_name!r} computes on the service: give it to compile "
            "or to a layer, and read its values from fit's history or evaluate"
        )

    def __repr__(self) -> str:
        return f"<{self.kind} function {self.keras_name}>"


def functions(names: Iterable[str], kind: str) -> dict[str, KerasFunction]:
    return {name: KerasFunction(name, kind) for name in names}


def jsonable(value: Any) -> Any:
    """An argument as JSON: tuples become lists, layers and Keras objects their specs,
    numpy numbers Python numbers. A Python function of the user's own is refused: it
    would run user code on the service."""
    if isinstance(value, str | bool | int | float) or value is None:
        return value
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if hasattr(value, "to_spec"):  # layers and Keras objects
        return value.to_spec()
    if isinstance(value, np.generic | np.ndarray) and np.ndim(value) == 0:
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if callable(value):
        name = getattr(value, "__name__", type(value).__name__)
        raise NotSupported(
            f"the function {name!r} is Python code of your own: {NotSupported.NEVER}; give "
            "a Keras built-in by name (e.g. loss='mse', activation='relu') or its object"
        )
    return value


def family(names: dict[str, tuple[str, ...]], module: str) -> dict[str, type[KerasObject]]:
    """One KerasObject subclass per name, with its positional arguments."""
    return {
        name: type(
            name, (KerasObject,), {"type": name, "positional": positional, "__module__": module}
        )
        for name, positional in names.items()
    }


def missing(kind: str, names: Iterable[str], note: str = "") -> Callable[[str], Any]:
    """A module's `__getattr__` for a name it lacks: the error names the valid ones and
    the one probably meant, as the service's errors do."""
    valid = list(names)

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(unknown_name(kind, name, valid) + note)

    return __getattr__
