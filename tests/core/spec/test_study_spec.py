"""The study contract: KerasTuner's hyperparameters as a space, their grids (bounded,
inside their range), conditions, templates and how a trial's job is rendered."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from cornu.core.spec.study import (
    MAX_GRID_VALUES,
    FloatHp,
    IntHp,
    StudySpec,
    placeholders,
    render,
)

JOB = {
    "model": {"layers": [{"type": "Dense", "units": {"$hp": "units"}, "input_shape": [4]}]},
    "compile": {"loss": "mse", "optimizer": {"type": "Adam", "learning_rate": {"$hp": "lr"}}},
    "fit": {"epochs": 3},
    "data": {"x": "ds_x", "y": "ds_y"},
}


def spec(**changes: Any) -> StudySpec:
    base: dict[str, Any] = {
        "objective": {"name": "loss", "direction": "min"},
        "space": [
            {"type": "int", "name": "units", "min_value": 4, "max_value": 16, "step": 4},
            {
                "type": "float",
                "name": "lr",
                "min_value": 1e-3,
                "max_value": 1e-1,
                "sampling": "log",
            },
        ],  # fmt: skip
        "templates": [{"job": JOB}],
    }
    return StudySpec.model_validate({**base, **changes})


def test_grids_stay_inside_their_range_and_are_bounded() -> None:
    stepped = FloatHp(name="a", min_value=0.001, max_value=0.01, step=0.001).grid()
    assert len(stepped) == 10 and stepped[-1] == 0.01 and max(stepped) <= 0.01
    for low, high in ((0.3, 30.0), (1e-4, 1e-2), (0.1, 0.7)):
        for sampling in ("linear", "log"):
            grid = FloatHp(name="b", min_value=low, max_value=high, sampling=sampling).grid()
            assert len(grid) == 10 and all(low <= v <= high for v in grid)
    assert IntHp(name="c", min_value=1, max_value=10, step=3).grid() == [1, 4, 7, 10]
    huge = IntHp(name="d", min_value=0, max_value=2**40)
    assert huge.grid_size() == 2**40 + 1
    with pytest.raises(ValueError, match=str(MAX_GRID_VALUES)):
        huge.grid()  # never built in memory


def test_a_space_is_checked_before_anything_runs() -> None:
    huge = [
        {"type": "int", "name": "units", "min_value": 0, "max_value": 10**9},
        {"type": "float", "name": "lr", "min_value": 1e-3, "max_value": 1e-1},
    ]
    with pytest.raises(ValidationError, match="more than"):
        spec(space=huge, algorithm={"sampler": "grid"})
    spec(space=huge)  # drawn at random: no grid is built
    choices = [{"type": "choice", "name": f"c{i}", "values": list(range(200))} for i in range(3)]
    with pytest.raises(ValidationError, match="combinations"):
        spec(space=choices, templates=[{"job": {"model": {}}}], algorithm={"sampler": "grid"})
    later = [
        {"type": "int", "name": "units", "min_value": 4, "max_value": 8,
         "conditions": [{"name": "lr", "values": [0.01]}]},
        {"type": "float", "name": "lr", "min_value": 1e-3, "max_value": 1e-1},
    ]  # fmt: skip
    with pytest.raises(ValidationError, match="before it"):
        spec(space=later)
    with pytest.raises(ValidationError, match="fit must be an object"):
        spec(templates=[{"job": {**JOB, "fit": None}}])
    with pytest.raises(ValidationError, match="pruner"):
        spec(
            templates=[{"job": {**JOB, "fit": {"epochs": {"$hp": "units"}}}}],
            algorithm={"pruner": "hyperband"},
        )
    with pytest.raises(ValidationError, match="width"):
        spec(templates=[{"job": {**JOB, "model": {"units": {"$hp": "width"}}}}])


def test_a_trials_job_is_its_template_rendered() -> None:
    study = spec()
    assert sorted(placeholders(JOB)) == ["lr", "units"]
    job = study.trial_job({"units": 8, "lr": 0.01}, seed=7)
    assert job.model.layers[0].units == 8  # type: ignore[union-attr]
    assert job.compile is not None and job.compile.optimizer.learning_rate == 0.01  # type: ignore[union-attr]
    assert job.fit.seed == 7 and job.fit.epochs == 3
    assert render({"a": [{"$hp": "x"}, {"$hp": 1}]}, {"x": "y"}) == {"a": ["y", {"$hp": 1}]}
    two = spec(
        templates=[
            {"when": {"units": 4}, "job": {**JOB, "fit": {"epochs": 1}}},
            {"when": {"lr": 0.010000000000000002}, "job": JOB},
            {"job": JOB},
        ]
    )
    assert two.template_for({"units": 4, "lr": 0.5}).job["fit"]["epochs"] == 1  # type: ignore[union-attr]
    assert two.template_for({"units": 8, "lr": 0.01}) is two.templates[1]  # floats: close
    assert two.template_for({"units": 8, "lr": 0.02}) is two.templates[2]
