"""Hyperparameters as Optuna samples them: shared by the service's studies and the SDK's
searches run in the user's process (`cornu.tuner`). Imports Optuna, not torch."""

from __future__ import annotations

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from cornu.core.spec.study import (
    AnyHp,
    BooleanHp,
    ChoiceHp,
    FixedHp,
    FloatHp,
    HpValue,
    IntHp,
    StudySpec,
)


def distribution(hp: AnyHp) -> BaseDistribution:
    """How Optuna draws `hp`: KerasTuner's ranges, steps and log sampling (reverse_log
    drawn as log); a stepped log range as the choice of its values."""
    if isinstance(hp, IntHp):
        if hp.sampling != "linear" and (hp.step or 1) != 1:
            return CategoricalDistribution(hp.grid())
        return IntDistribution(
            hp.min_value,
            hp.max_value,
            log=hp.sampling != "linear",
            step=1 if hp.sampling != "linear" else hp.step or 1,
        )
    if isinstance(hp, FloatHp):
        if hp.sampling != "linear" and hp.step is not None:
            return CategoricalDistribution(hp.grid())
        return FloatDistribution(
            hp.min_value, hp.max_value, log=hp.sampling != "linear", step=hp.step
        )
    if isinstance(hp, ChoiceHp):
        return CategoricalDistribution(hp.values)
    if isinstance(hp, BooleanHp):
        return CategoricalDistribution([False, True])
    raise TypeError(f"{hp.name} is fixed: nothing to sample")


def sample(trial: optuna.Trial, spec: StudySpec) -> dict[str, HpValue]:
    """Define-by-run: each hyperparameter active under the values drawn before it."""
    values: dict[str, HpValue] = {}
    for hp in spec.space:
        if not hp.active(values):
            continue
        if isinstance(hp, FixedHp):
            values[hp.name] = hp.value
        else:
            values[hp.name] = suggest(trial, hp)
    return values


def suggest(trial: optuna.Trial, hp: AnyHp) -> HpValue:
    """`hp`'s value in `trial`, drawn by the study's sampler (Optuna's public suggest_*)."""
    found = distribution(hp)
    if isinstance(found, IntDistribution):
        return trial.suggest_int(hp.name, found.low, found.high, step=found.step, log=found.log)
    if isinstance(found, FloatDistribution):
        return trial.suggest_float(hp.name, found.low, found.high, step=found.step, log=found.log)
    assert isinstance(found, CategoricalDistribution)
    value = trial.suggest_categorical(hp.name, list(found.choices))
    assert value is not None  # a Choice holds no None
    return value
