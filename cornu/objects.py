"""Keras objects given by name and arguments: optimizers, losses, metrics, callbacks,
learning-rate schedules. Each becomes `{"type": <Keras class>, **arguments}` in a spec."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

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
        from cornu.layers import _jsonable

        return {"type": self.type, **{k: _jsonable(v) for k, v in self.config.items()}}

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        return f"{self.type}({arguments})"


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
        raise AttributeError(unknown_name(kind, name, valid) + note)

    return __getattr__
