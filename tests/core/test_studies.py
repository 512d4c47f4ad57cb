"""The study driver's use of Optuna, without a service: a study rebuilt from its records
at each step asks each grid combination once, re-draws values tried already, and knows
when a discrete space is spent."""

from __future__ import annotations

from typing import Any

from cornu.core import studies
from cornu.core.spec.study import StudySpec, Trial, TrialStatus


def drive(spec: StudySpec, most: int) -> tuple[list[dict[str, Any]], bool]:
    """Ask up to `most` trials as the driver does, one step each (the study rebuilt from
    the records every time): the values asked, and whether the space ran out."""
    trials: dict[int, Trial] = {}
    notes: dict[int, dict[str, Any]] = {}
    seen: list[dict[str, Any]] = []
    for number in range(most):
        study = studies._optuna_study("std_test", spec, trials, notes, {}, {}, number)
        drawn = studies._new_values(study, spec, seen)
        if drawn is None:
            return seen, True
        asked, values = drawn
        frozen = study._storage.get_trial(asked._trial_id)
        attrs = studies._plain(frozen.system_attrs)
        notes[number] = {
            "params": studies._plain(frozen.params),
            "system_attrs": {k: v for k, v in attrs.items() if k != "search_space"},
        }
        trials[number] = Trial(number=number, status=TrialStatus.completed,
                               hyperparameters=values, score=float(number))  # fmt: skip
        seen.append(values)
    return seen, False


def study(space: list[dict[str, Any]], sampler: str) -> StudySpec:
    return StudySpec.model_validate({
        "objective": {"name": "loss", "direction": "min"}, "space": space,
        "templates": [{"job": {"model": {}}}], "algorithm": {"sampler": sampler, "seed": 3},
    })  # fmt: skip


def test_a_grid_asks_each_combination_once_across_rebuilds() -> None:
    spec = study([{"type": "choice", "name": "a", "values": [1, 2, 3]},
                  {"type": "boolean", "name": "b"}], "grid")  # fmt: skip
    assert studies._trial_limit(spec) == 6
    asked, spent = drive(spec, 6)
    assert not spent
    assert sorted((v["a"], v["b"]) for v in asked) == [
        (1, False), (1, True), (2, False), (2, True), (3, False), (3, True)]  # fmt: skip


def test_a_conditional_grid_ends_when_nothing_new_is_left() -> None:
    # units is drawn only with two layers: 1 + 4 distinct combinations, not 2 × 4.
    spec = study([
        {"type": "choice", "name": "layers", "values": [1, 2]},
        {"type": "choice", "name": "units", "values": [1, 2, 3, 4],
         "conditions": [{"name": "layers", "values": [2]}]},
    ], "grid")  # fmt: skip
    asked, spent = drive(spec, 8)
    assert spent and len(asked) == 5
    assert {"layers": 1} in asked and len({str(v) for v in asked}) == 5


def test_random_draws_are_never_repeated_and_a_small_space_is_spent() -> None:
    spec = study([{"type": "choice", "name": "a", "values": ["x", "y", "z"]}], "random")
    asked, spent = drive(spec, 10)
    assert spent and sorted(v["a"] for v in asked) == ["x", "y", "z"]
