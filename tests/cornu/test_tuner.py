"""`cornu.tuner`: KerasTuner's hyperparameters, the templates learnt from the user's
`build_model(hp)`, the tuners over the service's studies, and the searches that must run
here (an objective computed in the user's process)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cornu
import cornu as keras
import cornu.tuner as keras_tuner
from cornu.tuner.templates import discover
from cornu.tuner.tuners import hyperband_trials

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def connected(api_url: str, new_api_key: Callable[[], str]) -> Iterator[cornu.Client]:
    client = cornu.connect(api_url, new_api_key())
    yield client
    client.close()


def data(samples: int = 128, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, 6)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64")


def build_model(hp: Any) -> Any:
    """The guide's shape of search: a number of layers, units per layer, an optimizer's
    kind and a log-sampled learning rate."""
    model = keras.Sequential([keras.Input(shape=(6,))])
    for i in range(hp.Int("num_layers", 1, 2)):
        model.add(keras.layers.Dense(hp.Int(f"units_{i}", 4, 16, step=4), activation="relu"))
    model.add(keras.layers.Dense(2, activation="softmax"))
    rate = hp.Float("lr", 1e-3, 1e-1, sampling="log")
    kind = hp.Choice("optimizer", ["adam", "sgd"])
    optimizer = (
        keras.optimizers.Adam(rate) if kind == "adam" else keras.optimizers.SGD(learning_rate=rate)
    )
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_hyperparameters_are_keras_tuners() -> None:
    hp = keras_tuner.HyperParameters()
    assert hp.Int("units", 32, 512, step=32) == 32
    assert hp.Float("lr", 1e-4, 1e-2, sampling="log") == 1e-4
    assert hp.Choice("activation", ["relu", "tanh"]) == "relu"
    assert hp.Boolean("dropout") is False and hp.Fixed("seven", 7) == 7
    assert hp.Int("units", 64, 100) == 32  # again: the first definition's value
    with hp.conditional_scope("activation", ["tanh"]):
        assert hp.Int("filters", 1, 4) is None  # inactive
    assert "filters" not in hp.values and not hp.is_active("filters")
    with pytest.raises(ValueError, match="inactive"):
        hp.get("filters")
    with pytest.raises(KeyError):
        hp.get("nothing")
    assert hp.values == {
        "units": 32,
        "lr": 1e-4,
        "activation": "relu",
        "dropout": False,
        "seven": 7,
    }
    assert str(keras_tuner.Objective("val_accuracy", "max")) == (
        'Objective(name="val_accuracy", direction="max")'
    )


def test_hyperbands_trial_count_is_keras_tuners() -> None:
    # KerasTuner 1.4.8's own counts (real runs, M = max_epochs, f = factor).
    for (epochs, factor, iterations), trials in {
        (2, 3, 1): 2,
        (3, 3, 1): 6,
        (4, 2, 1): 15,
        (5, 3, 1): 10,
        (9, 3, 1): 23,
        (10, 3, 1): 30,
        (10, 3, 2): 60,
        (27, 3, 1): 70,
    }.items():
        assert hyperband_trials(epochs, factor, iterations) == trials


def test_templates_place_values_and_split_on_structure(connected: cornu.Client) -> None:
    x, y = data()

    def run(hp: Any) -> Any:
        return build_model(hp).fit(x, y, epochs=2, validation_split=0.25)

    found = discover(run, seed=5)
    assert [hp.name for hp in found.space] == [
        "num_layers",
        "units_0",
        "lr",
        "optimizer",
        "units_1",
    ]
    # The number of layers and the optimizer's kind change the model's structure: one
    # template each (2 × 2); units and the rate are placed as values.
    assert sorted((t["when"]["num_layers"], t["when"]["optimizer"]) for t in found.templates) == [
        (1, "adam"),
        (1, "sgd"),
        (2, "adam"),
        (2, "sgd"),
    ]
    two = next(
        t["job"] for t in found.templates if t["when"] == {"num_layers": 2, "optimizer": "sgd"}
    )
    dense = [layer for layer in two["model"]["layers"] if layer["type"] == "Dense"]
    assert [d["units"] for d in dense] == [{"$hp": "units_0"}, {"$hp": "units_1"}, 2]
    assert two["compile"]["optimizer"]["type"] == "SGD"
    assert two["compile"]["optimizer"]["learning_rate"] == {"$hp": "lr"}
    assert two["fit"]["seed"] == 5 and two["fit"]["epochs"] == 2

    def computed(hp: Any) -> Any:  # a Float that is computed with cannot be placed
        model = build_model(hp)
        model.optimizer.learning_rate = hp.Float("base", 0.1, 1.0) / 10
        model.compile(optimizer=model.optimizer, loss="sparse_categorical_crossentropy")
        return model.fit(x, y)

    with pytest.raises(ValueError, match="'base'"):
        discover(computed, seed=1)


def test_a_random_search_runs_on_the_service(connected: cornu.Client, tmp_path: Path) -> None:
    x, y = data(256)
    tuner = keras_tuner.RandomSearch(
        build_model,
        objective="val_accuracy",
        max_trials=3,
        executions_per_trial=1,
        seed=3,
        directory=str(tmp_path),
        project_name="search",
    )
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        tuner.search_space_summary()
        tuner.search(x, y, epochs=2, validation_split=0.25)
        tuner.results_summary(2)
    text = printed.getvalue()
    assert "Default search space size: 4" in text  # units_1 appears with two layers
    assert text.count("Trial ") >= 3 and "Results in" in text and "Score: " in text
    study = connected.study(tuner.study_id)  # type: ignore[arg-type]
    assert study.status.value == "completed" and len(study.trials) == 3
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.score == study.best.score  # type: ignore[union-attr]
    assert [t.trial_id for t in tuner.oracle.get_best_trials(3)] != []
    values = tuner.get_best_hyperparameters()[0].values
    assert values == study.best.hyperparameters  # type: ignore[union-attr]
    (model,) = tuner.get_best_models(1)
    assert model.count_params() > 0
    # The best model holds its trial's trained weights: evaluate gives its history's.
    job = study.best.jobs[0]  # type: ignore[union-attr]
    assert model._job == job
    # Made again without overwrite, the tuner reloads the same study.
    again = keras_tuner.RandomSearch(
        build_model,
        objective="val_accuracy",
        max_trials=3,
        directory=str(tmp_path),
        project_name="search",
    )
    assert again.study_id == tuner.study_id and len(again.oracle.trials) == 3


def test_a_hyperband_search_runs_its_trials_under_the_pruner_on_the_service(
    connected: cornu.Client, tmp_path: Path
) -> None:
    x, y = data(256)
    tuner = keras_tuner.Hyperband(
        build_model,
        objective="val_loss",
        max_epochs=4,
        factor=2,
        seed=1,
        max_parallel=3,
        directory=str(tmp_path),
    )
    tuner.search(x, y, validation_split=0.25, verbose=0)
    study = connected.study(tuner.study_id)  # type: ignore[arg-type]
    assert study.algorithm.pruner == "hyperband" and len(study.trials) == hyperband_trials(4, 2)
    for trial in study.trials:
        assert trial.status.value in ("completed", "pruned", "failed"), trial
        job = connected.job(trial.jobs[0])
        assert job.epochs == 4  # max_epochs
        if trial.status.value == "pruned":
            assert job.status.value == "pruned" and job.epoch < 4
    assert study.epochs == sum(t.epochs for t in study.trials)


def test_an_objective_computed_here_runs_the_search_here(
    connected: cornu.Client, tmp_path: Path
) -> None:
    x, y = data(64)

    class Regressor(keras_tuner.HyperModel):
        def build(self, hp: Any) -> Any:
            model = keras.Sequential(
                [
                    keras.Input(shape=(6,)),
                    keras.layers.Dense(hp.Int("units", 2, 8, step=2)),
                    keras.layers.Dense(1),
                ]
            )
            model.compile(optimizer="adam", loss="mse")
            return model

        def fit(self, hp: Any, model: Any, x: Any, y: Any, **kwargs: Any) -> Any:
            model.fit(x, y, **kwargs)
            return float(np.mean(np.abs(model.predict(x, verbose=0)[:, 0] - y)))

    tuner = keras_tuner.RandomSearch(Regressor(), max_trials=2, directory=str(tmp_path), seed=2)
    tuner.search(x, y.astype("float32"), epochs=1, verbose=0)
    assert tuner.study_id is None  # nothing to follow on the service: it ran here
    trials = tuner.oracle.get_best_trials(2)
    assert [t.status for t in trials] == ["COMPLETED", "COMPLETED"]
    assert trials[0].score <= trials[1].score  # type: ignore[operator]
    assert tuner.oracle.get_trial("0").hyperparameters.values == {"units": 2}  # defaults first
    assert all(t.jobs for t in trials)  # each trial's fit was a job
    (model,) = tuner.get_best_models(1)
    assert model._job == trials[0].jobs[0]
