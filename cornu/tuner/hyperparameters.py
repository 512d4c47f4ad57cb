"""KerasTuner's `HyperParameters` and `Objective`, over the service's study spec.

`HyperParameters` is define-by-run, as in KerasTuner: `hp.Int("units", 32, 512, step=32)`
registers the hyperparameter the first time and returns its value — the one this set
holds, else one drawn (a local search's sampler), else the default (KerasTuner's: Int and
Float `min_value`, Choice the first value, Boolean False). Inside an inactive
`conditional_scope` a new hyperparameter returns None and stays out of `values`
(keras_tuner/engine/hyperparameters/hyperparameters.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import TypeAdapter

from cornu.core.spec.study import (
    AnyHp,
    BooleanHp,
    ChoiceHp,
    Condition,
    FixedHp,
    FloatHp,
    HpValue,
    IntHp,
)
from cornu.core.spec.study import Objective as ObjectiveSpec

_HP = TypeAdapter(AnyHp)
_KINDS = {
    "int": "Int",
    "float": "Float",
    "choice": "Choice",
    "boolean": "Boolean",
    "fixed": "Fixed",
}
Draw = Callable[[AnyHp], HpValue]


class HyperParameters:
    """A search space and one set of values in it (KerasTuner's `HyperParameters`)."""

    def __init__(self) -> None:
        self._space: dict[str, AnyHp] = {}
        self.values: dict[str, Any] = {}
        self._conditions: list[Condition] = []
        self._draw: Draw | None = None  # a local search's sampler

    # -- defining ----------------------------------------------------------------------

    def Int(
        self,
        name: str,
        min_value: int,
        max_value: int,
        step: int | None = None,
        sampling: str = "linear",
        default: int | None = None,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> Any:
        """An integer from `min_value` to `max_value` (both included), `step` apart."""
        if step is None and sampling == "linear":
            step = 1
        return self._register(
            IntHp(
                name=name,
                min_value=min_value,
                max_value=max_value,
                step=step,
                sampling=sampling,
                default=default,
            ),
            parent_name,
            parent_values,
        )

    def Float(
        self,
        name: str,
        min_value: float,
        max_value: float,
        step: float | None = None,
        sampling: str = "linear",
        default: float | None = None,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> Any:
        """A float from `min_value` to `max_value`; `sampling="log"` draws evenly in log."""
        return self._register(
            FloatHp(
                name=name,
                min_value=float(min_value),
                max_value=float(max_value),
                step=step,
                sampling=sampling,
                default=default,
            ),
            parent_name,
            parent_values,
        )

    def Choice(
        self,
        name: str,
        values: list[Any],
        ordered: bool | None = None,
        default: Any = None,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> Any:
        """One of `values` (the first by default)."""
        if default is not None and default not in values:
            raise ValueError(f"The default value should be one of the choices {values}")
        return self._register(
            ChoiceHp(name=name, values=list(values), ordered=ordered, default=default),
            parent_name,
            parent_values,
        )

    def Boolean(
        self,
        name: str,
        default: bool = False,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> Any:
        return self._register(BooleanHp(name=name, default=default), parent_name, parent_values)

    def Fixed(
        self, name: str, value: Any, parent_name: str | None = None, parent_values: Any = None
    ) -> Any:
        return self._register(FixedHp(name=name, value=value), parent_name, parent_values)

    @contextmanager
    def conditional_scope(self, parent_name: str, parent_values: Any) -> Iterator[None]:
        """What is defined inside is active only while `parent_name` has one of
        `parent_values` (its body always runs; an inactive hyperparameter is None)."""
        if parent_name not in self._space:
            raise ValueError(f"`HyperParameter` named: {parent_name} not defined.")
        values = parent_values if isinstance(parent_values, list | tuple) else [parent_values]
        self._conditions.append(Condition(name=parent_name, values=list(values)))
        try:
            yield
        finally:
            self._conditions.pop()

    def _register(self, hp: AnyHp, parent_name: str | None, parent_values: Any) -> Any:
        conditions = list(self._conditions)
        if parent_name is not None:
            values = parent_values if isinstance(parent_values, list | tuple) else [parent_values]
            conditions.append(Condition(name=parent_name, values=list(values)))
        if hp.name in self._space:  # KerasTuner: the one defined first; new arguments ignored
            hp = self._space[hp.name]
        else:
            hp = hp.model_copy(update={"conditions": conditions})
            self._space[hp.name] = hp
        if not hp.active(self.values):
            return None
        if hp.name not in self.values:
            if self._draw is not None and not isinstance(hp, FixedHp):
                self.values[hp.name] = self._draw(hp)
            else:
                self.values[hp.name] = hp.first
        return self.values[hp.name]

    # -- reading -----------------------------------------------------------------------

    def get(self, name: str) -> Any:
        """The value; ValueError if the hyperparameter is inactive, KeyError if unknown."""
        if name in self.values:
            return self.values[name]
        if name in self._space:
            raise ValueError(f"{name} is currently inactive.")
        raise KeyError(f"{name} does not exist.")

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self.values

    def is_active(self, hp: Any) -> bool:
        name = hp if isinstance(hp, str) else hp.name
        found = self._space.get(name)
        return found is not None and found.active(self.values)

    @property
    def space(self) -> list[AnyHp]:
        return list(self._space.values())

    def copy(self) -> HyperParameters:
        other = HyperParameters()
        other._space = dict(self._space)
        other.values = dict(self.values)
        return other

    @classmethod
    def with_values(cls, space: list[AnyHp], values: dict[str, Any]) -> HyperParameters:
        """A set holding `values` in `space` (what a trial's hyperparameters are)."""
        hp = cls()
        hp._space = {h.name: h for h in space}
        hp.values = dict(values)
        return hp

    def summary_lines(self) -> list[str]:
        """`search_space_summary`'s lines for each hyperparameter (KerasTuner's format)."""
        lines = []
        for hp in self._space.values():
            config = hp.model_dump(exclude={"name", "type", "conditions"})
            conditions = [{"class_name": "Parent", "config": c.model_dump()} for c in hp.conditions]
            if isinstance(hp, FixedHp):
                shown = {"conditions": conditions, **config}
            else:
                default = config.pop("default", None)
                if not isinstance(hp, IntHp):
                    default = hp.first
                if isinstance(hp, ChoiceHp) and config.get("ordered") is None:
                    config["ordered"] = all(
                        isinstance(v, int | float) and not isinstance(v, bool) for v in hp.values
                    )
                shown = {"default": default, "conditions": conditions, **config}
            lines += [f"{hp.name} ({_KINDS[hp.type]})", str(shown)]
        return lines


# Keras's metrics that are better higher (keras_tuner/engine/metrics_tracking.py).
_HIGHER = {
    "acc",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "true_positives",
    "true_negatives",
    "precision",
    "recall",
    "auc",
    "sensitivity_at_specificity",
    "specificity_at_sensitivity",
}
_LOWER = {"loss", "crossentropy", "ce"}


def infer_direction(name: str) -> str:
    """ "min" or "max" for a metric's name, as KerasTuner infers it: `val_` and
    `weighted_` stripped; losses lower, accuracies, precision, recall and AUC higher."""
    bare = name.removeprefix("val_").removeprefix("weighted_")
    if bare in _LOWER:
        return "min"
    if bare in _HIGHER or bare.rstrip("_0123456789") in _HIGHER:
        return "max"
    return "min"


class Objective:
    """KerasTuner's `Objective(name, direction)`: "min" or "max"."""

    def __init__(self, name: str, direction: str) -> None:
        if direction not in ("min", "max"):
            raise ValueError(f'direction must be "min" or "max", not {direction!r}')
        self.name, self.direction = name, direction

    def better_than(self, a: float, b: float) -> bool:
        return a < b if self.direction == "min" else a > b

    def spec(self) -> ObjectiveSpec:
        return ObjectiveSpec.model_validate({"name": self.name, "direction": self.direction})

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Objective)
            and other.name == self.name
            and other.direction == self.direction
        )

    def __hash__(self) -> int:
        return hash((self.name, self.direction))

    def __str__(self) -> str:
        return f'Objective(name="{self.name}", direction="{self.direction}")'

    __repr__ = __str__


def objective_of(objective: Any) -> Objective:
    """`objective=` as KerasTuner takes it: None (the value fit returns, minimised), a
    metric's name, or an Objective."""
    if objective is None:
        return Objective("default_objective", "min")
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, str):
        return Objective(objective, infer_direction(objective))
    if isinstance(objective, list):
        raise ValueError("several objectives (a list) are not supported; give one Objective")
    raise TypeError(f"objective must be a metric's name or an Objective, not {objective!r}")


def finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
