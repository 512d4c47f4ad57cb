"""KerasTuner's tuners, with the search run by the service.

`tuner.search(x, y, epochs=…, validation_data=…)` learns the search space and the trial
jobs from the user's `build_model(hp)` (`cornu.tuner.templates`), starts a study on the
service (`POST /v1/studies`) and follows it, printing each trial as KerasTuner does. The
study runs there — up to `max_parallel` trials at once on the service's workers — and
goes on if this process stops; `attach(study_id)` (or a tuner made again without
`overwrite`) follows it again.

A search whose objective is computed here (a `HyperModel.fit` that returns its own score,
a `run_trial` of the user's) runs in this process instead, as KerasTuner runs every
search: one trial after another, each `fit` a job on the service, the values drawn by the
same Optuna samplers.
"""

from __future__ import annotations

import contextlib
import json
import math
import secrets
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from cornu.backend import clear_session
from cornu.callbacks.client import History
from cornu.capture import ClientObjective
from cornu.connection import client as default_client
from cornu.core.errors import NotFound
from cornu.core.spec.study import Study, StudyEventType, StudyStatus, TrialStatus
from cornu.tuner.hyperparameters import HyperParameters, Objective, finite, objective_of
from cornu.tuner.templates import NotTemplatable, discover

_STATUS = {  # the service's trial status → KerasTuner's
    TrialStatus.running: "RUNNING",
    TrialStatus.completed: "COMPLETED",
    TrialStatus.pruned: "STOPPED",
    TrialStatus.failed: "FAILED",
    TrialStatus.cancelled: "STOPPED",
}


class HyperModel:
    """KerasTuner's `HyperModel`: `build(hp)` returns a compiled model; `fit(hp, model,
    *args, **kwargs)` trains it (by default `model.fit(*args, **kwargs)`)."""

    def __init__(self, name: str | None = None, tunable: bool = True) -> None:
        self.name, self.tunable = name, tunable

    def build(self, hp: HyperParameters) -> Any:
        raise NotImplementedError

    def declare_hyperparameters(self, hp: HyperParameters) -> None:
        pass

    def fit(self, hp: HyperParameters, model: Any, *args: Any, **kwargs: Any) -> Any:
        return model.fit(*args, **kwargs)


class _FunctionHyperModel(HyperModel):
    def __init__(self, build: Callable[[HyperParameters], Any]) -> None:
        super().__init__()
        self._build = build

    def build(self, hp: HyperParameters) -> Any:
        return self._build(hp)


class Trial:
    """One trial as KerasTuner shows it: `trial_id`, `hyperparameters`, `score`,
    `status`; `jobs` are the service's jobs that trained it."""

    def __init__(
        self,
        trial_id: str,
        hyperparameters: HyperParameters,
        score: float | None,
        status: str,
        jobs: Sequence[str] = (),
        error: str | None = None,
    ) -> None:
        self.trial_id, self.hyperparameters = trial_id, hyperparameters
        self.score, self.status, self.jobs, self.message = score, status, list(jobs), error

    @property
    def best_step(self) -> int | None:
        return None

    def summary(self) -> None:
        print(f"Trial {self.trial_id} summary")
        print("Hyperparameters:")
        if self.hyperparameters.values:
            for name, value in self.hyperparameters.values.items():
                print(f"{name}:", value)
        else:
            print("default configuration")
        if self.score is not None:
            print(f"Score: {self.score}")
        if self.message:
            print(self.message)

    def __repr__(self) -> str:
        return f"Trial(trial_id={self.trial_id!r}, score={self.score}, status={self.status!r})"


class Oracle:
    """What KerasTuner's oracle answers: the trials, the best of them, the objective."""

    def __init__(self, objective: Objective, max_trials: int | None) -> None:
        self.objective, self.max_trials = objective, max_trials
        self.trials: dict[str, Trial] = {}

    def get_trial(self, trial_id: str) -> Trial:
        return self.trials[trial_id]

    def get_best_trials(self, num_trials: int = 1) -> list[Trial]:
        """Completed trials, best first, then the others (KerasTuner's order)."""
        done = [t for t in self.trials.values() if t.status == "COMPLETED" and t.score is not None]
        done.sort(key=lambda t: t.score, reverse=self.objective.direction == "max")  # type: ignore[arg-type,return-value]
        rest = [t for t in self.trials.values() if t not in done]
        return (done + rest)[:num_trials]

    @property
    def remaining_trials(self) -> int | None:
        return None if self.max_trials is None else self.max_trials - len(self.trials)


class Tuner:
    """KerasTuner's `Tuner` API over a study on the service (or, for an objective computed
    in this process, a search run here). Cornu's own arguments: `max_parallel` (trials
    at once on the service, 2 by default) and `client` (a `cornu.Client`)."""

    sampler = "random"
    pruner: str | None = None

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int | None = 10,
        seed: int | None = None,
        executions_per_trial: int = 1,
        overwrite: bool = False,
        directory: str | None = None,
        project_name: str | None = None,
        max_consecutive_failed_trials: int = 3,
        max_parallel: int = 2,
        client: Any = None,
        hyperparameters: HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        **kwargs: Any,
    ) -> None:
        for accepted in ("logger", "tuner_id", "distribution_strategy", "max_model_size"):
            kwargs.pop(accepted, None)
        if kwargs:
            raise ValueError(f"Unrecognized arguments {list(kwargs)} for `Tuner.__init__()`.")
        if hypermodel is None and type(self).run_trial is Tuner.run_trial:
            raise ValueError(
                "give a hypermodel (a build_model(hp) function or a HyperModel), "
                "or subclass the tuner with a run_trial of your own"
            )
        if hypermodel is not None and not isinstance(hypermodel, HyperModel):
            if not callable(hypermodel):
                raise TypeError("hypermodel must be a HyperModel or a build_model(hp) function")
            hypermodel = _FunctionHyperModel(hypermodel)
        self.hypermodel: HyperModel | None = hypermodel
        self.oracle = Oracle(objective_of(objective), max_trials)
        self.seed = seed if seed is not None else secrets.randbelow(2**31)
        self.executions_per_trial = executions_per_trial
        self.max_consecutive_failed_trials = max_consecutive_failed_trials
        self.max_parallel = max_parallel
        self.directory = directory or "."
        self.project_name = project_name or "untitled_project"
        self._client = client
        self._space = HyperParameters() if hyperparameters is None else hyperparameters.copy()
        self._trial_width = len(str(max_trials)) if max_trials else 4
        self.study_id: str | None = None
        self._study: Study | None = None
        path = self._project_file()
        if overwrite and path.exists():
            path.unlink()
        if path.exists() and not self._reload(path):
            path.unlink()  # its study was deleted on the service: a new search
        if self.study_id is None and self.hypermodel is not None:
            with contextlib.suppress(Exception):  # a build that needs fit's data waits
                hp = self._space.copy()
                clear_session()
                self.hypermodel.declare_hyperparameters(hp)
                self.hypermodel.build(hp)
                self._space = hp

    def _reload(self, path: Path) -> bool:
        """Follow the study this project started before (KerasTuner reloads a project
        made without `overwrite`); False if the service no longer has it."""
        study_id = json.loads(path.read_text())["study"]
        try:
            study = self.client.study(study_id)
        except NotFound:
            return False
        print(f"Reloading Tuner from {path}")
        self.study_id = study_id
        self._load(study)
        return True

    # -- the search ------------------------------------------------------------------

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = default_client()
        return self._client

    def search(self, *fit_args: Any, **fit_kwargs: Any) -> None:
        """Run the search: trials as jobs on the service, followed here until it ends."""
        verbose = fit_kwargs.get("verbose", 1)
        if self.study_id is not None:  # reloaded: follow it to its end
            self._follow(verbose)
            return
        self._prepare(fit_kwargs)
        if type(self).run_trial is not Tuner.run_trial:
            self._search_here(fit_args, fit_kwargs, verbose)
            return
        try:
            found = discover(lambda hp: self._build_and_fit(hp, fit_args, fit_kwargs), self.seed)
        except ClientObjective:
            self._search_here(fit_args, fit_kwargs, verbose)
            return
        except NotTemplatable as exc:
            warnings.warn(
                f"this search runs here, one trial at a time, not as a study on the service: {exc}",
                stacklevel=2,
            )
            self._search_here(fit_args, fit_kwargs, verbose)
            return
        self._space = HyperParameters.with_values(found.space, {})
        spec = {
            "name": self.project_name,
            "objective": self.oracle.objective.spec().model_dump(),
            "space": [hp.model_dump() for hp in found.space],
            "templates": found.templates,
            "algorithm": self._algorithm(),
            "max_trials": self._max_trials(),
            "max_parallel": self.max_parallel,
            "executions_per_trial": self.executions_per_trial,
            "max_consecutive_failed_trials": self.max_consecutive_failed_trials,
        }
        study = self.client.create_study(spec)
        self.study_id = study.id
        path = self._project_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"study": study.id}))
        if verbose:
            print(
                f"Study {study.id} runs on the service ({len(found.templates)} model "
                f"structure(s), {len(found.space)} hyperparameter(s))"
            )
        self._follow(verbose)

    def _prepare(self, fit_kwargs: dict[str, Any]) -> None:
        """What a kind of tuner changes in fit's arguments (Hyperband: the epochs)."""

    def _algorithm(self) -> dict[str, Any]:
        return {"sampler": self.sampler, "pruner": self.pruner, "seed": self.seed % 2**32}

    def _max_trials(self) -> int:
        return self.oracle.max_trials or 1000

    def _build_and_fit(self, hp: HyperParameters, fit_args: tuple, fit_kwargs: dict) -> Any:
        assert self.hypermodel is not None
        self.hypermodel.declare_hyperparameters(hp)
        model = self.hypermodel.build(hp)
        return self.hypermodel.fit(hp, model, *fit_args, **_copied(fit_kwargs))

    def _follow(self, verbose: Any) -> None:
        """Follow the study to its end, printing each trial as it ends."""
        assert self.study_id is not None
        started = time.monotonic()
        shown: set[int] = set()
        try:
            for event in self.client.study_stream(self.study_id):
                if event.event == StudyEventType.trial_ended and verbose:
                    number = event.data["number"]
                    if number not in shown:
                        shown.add(number)
                        self._print_trial(event.data, started)
                elif event.event == "end":
                    self._load(Study.model_validate(event.data))
        except KeyboardInterrupt:
            print(
                f"\nThe study {self.study_id} goes on on the service; "
                f"cornu.tuner.attach({self.study_id!r}) follows it again, and "
                "tuner.cancel() stops it.",
                file=sys.stderr,
            )
            raise
        study = self.client.study(self.study_id)
        self._load(study)
        if study.status is StudyStatus.failed:
            raise RuntimeError(f"the study failed: {study.error}")

    def _print_trial(self, trial: dict[str, Any], started: float) -> None:
        study = self.client.study(self.study_id)
        self._load(study)
        name = self.oracle.objective.name
        elapsed = _clock(time.monotonic() - started)
        completed = trial["status"] == TrialStatus.completed
        status = "Complete" if completed else trial["status"].capitalize()
        print(f"\nTrial {trial['number'] + 1} {status} [{elapsed}]")
        if trial.get("score") is not None:
            print(f"{name}: {trial['score']}")
        elif trial.get("error"):
            print(trial["error"])
        best = study.best.score if study.best else None
        print(f"\nBest {name} So Far: {best}")
        print(f"Total elapsed time: {elapsed}")

    def _load(self, study: Study) -> None:
        """The oracle's trials from the study's."""
        self._study = study
        space = list(self._space.space) or []
        self.oracle.trials = {
            self._trial_id(t.number): Trial(
                self._trial_id(t.number),
                HyperParameters.with_values(space, t.hyperparameters),
                t.score,
                _STATUS[t.status],
                t.jobs,
                t.error,
            )
            for t in study.trials
        }

    def _trial_id(self, number: int) -> str:
        return str(number).zfill(self._trial_width)

    # -- a search in this process ------------------------------------------------------

    def run_trial(self, trial: Trial, *args: Any, **kwargs: Any) -> Any:
        """One trial here: `executions_per_trial` models built and fit (KerasTuner's)."""
        assert self.hypermodel is not None
        results = []
        for _ in range(self.executions_per_trial):
            clear_session()
            hp = trial.hyperparameters
            model = self.hypermodel.build(hp)
            result = self.hypermodel.fit(hp, model, *args, **_copied(kwargs))
            if getattr(model, "_job", None):
                trial.jobs.append(model._job)
            results.append(result)
        return results

    def _search_here(self, fit_args: tuple, fit_kwargs: dict, verbose: Any) -> None:
        import optuna  # the same samplers as the service's

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        from cornu.core.sampling import suggest

        direction: Literal["minimize", "maximize"] = (
            "minimize" if self.oracle.objective.direction == "min" else "maximize"
        )
        sampler: Any = {
            "bayesian": optuna.samplers.TPESampler,
            "tpe": optuna.samplers.TPESampler,
        }.get(self.sampler, optuna.samplers.RandomSampler)(seed=self.seed)
        limit = self._max_trials()
        known = [hp for hp in self._space.space if hp.type != "fixed"]
        if self.sampler == "grid" and known:  # the space build() showed: each value once
            sampler = optuna.samplers.GridSampler({hp.name: hp.grid() for hp in known},
                                                  seed=self.seed)  # fmt: skip
            limit = min(limit, math.prod(len(hp.grid()) for hp in known))
        study = optuna.create_study(direction=direction, sampler=sampler)
        started = time.monotonic()
        failed_in_a_row = 0
        for number in range(limit):
            asked = study.ask()
            hp = HyperParameters.with_values(self._space.space, {})
            hp.values = {}
            hp._draw = lambda spec, asked=asked: suggest(asked, spec)
            if number == 0 and self.sampler != "grid":
                hp._draw = None  # KerasTuner's first trial: every value at its default
            trial = Trial(self._trial_id(number), hp, None, "RUNNING")
            self.oracle.trials[trial.trial_id] = trial
            try:
                result = self.run_trial(trial, *fit_args, **fit_kwargs)
                score = _score(result, self.oracle.objective)
            except (KeyboardInterrupt, ClientObjective):
                raise
            except Exception as exc:  # KerasTuner: the trial fails, the search goes on
                trial.status, trial.message = "FAILED", f"{type(exc).__name__}: {exc}"
                study.tell(asked, state=optuna.trial.TrialState.FAIL)
                failed_in_a_row += 1
                if failed_in_a_row >= self.max_consecutive_failed_trials:
                    raise RuntimeError(
                        f"Number of consecutive failures exceeded the limit of "
                        f"{self.max_consecutive_failed_trials}.\n{trial.message}"
                    ) from exc
                continue
            failed_in_a_row = 0
            self._space = _merged(self._space, hp)
            trial.hyperparameters = HyperParameters.with_values(self._space.space, dict(hp.values))
            trial.score, trial.status = score, "COMPLETED"
            study.tell(asked, score)
            if verbose:
                best = self.oracle.get_best_trials(1)[0].score
                print(f"\nTrial {number + 1} Complete [{_clock(time.monotonic() - started)}]")
                print(f"{self.oracle.objective.name}: {score}")
                print(f"\nBest {self.oracle.objective.name} So Far: {best}")
                print(f"Total elapsed time: {_clock(time.monotonic() - started)}")

    # -- results ---------------------------------------------------------------------

    def get_best_hyperparameters(self, num_trials: int = 1) -> list[HyperParameters]:
        return [t.hyperparameters for t in self.oracle.get_best_trials(num_trials)]

    def get_best_models(self, num_models: int = 1) -> list[Any]:
        """The best trials' models, built here with their values and holding the weights
        their first job trained (its last epoch's)."""
        if self.hypermodel is None:
            raise ValueError("this tuner has no hypermodel to build models with")
        models = []
        for trial in self.oracle.get_best_trials(num_models):
            clear_session()
            model = self.hypermodel.build(trial.hyperparameters.copy())
            if trial.jobs:
                self._adopt(model, trial.jobs[0])
            models.append(model)
        return models

    def _adopt(self, model: Any, job_id: str) -> None:
        """`model` takes the weights job `job_id` trained (its input shape too, for a
        Sequential that learnt it from fit's data, as KerasTuner's build_config does)."""
        sent = self.client.job_spec(job_id)["model"]
        first = (sent.get("layers") or [{}])[0]
        if getattr(model, "_input", "n/a") is None and first.get("type") == "Input":
            if model._first_input_shape() is None:
                model.build((None, *first["shape"]))
        model._job, model._job_spec = job_id, model._compiled_spec()
        model._settle()

    def search_space_summary(self, extended: bool = False) -> None:
        print("Search space summary")
        print(f"Default search space size: {len(self._space.space)}")
        for line in self._space.summary_lines():
            print(line)

    def results_summary(self, num_trials: int = 10) -> None:
        print("Results summary")
        print(f"Results in {Path(self.directory) / self.project_name}")
        print(f"Showing {num_trials} best trials")
        print(self.oracle.objective)
        for trial in self.oracle.get_best_trials(num_trials):
            print()
            trial.summary()

    def cancel(self) -> None:
        """Stop the study on the service (its running trials' jobs are cancelled)."""
        if self.study_id is not None:
            self._load(self.client.cancel_study(self.study_id))

    @property
    def study(self) -> Study | None:
        """The study as the service last reported it."""
        return self._study

    @property
    def remaining_trials(self) -> int | None:
        return self.oracle.remaining_trials

    def _project_file(self) -> Path:
        return Path(self.directory) / self.project_name / "cornu_study.json"


class RandomSearch(Tuner):
    """KerasTuner's RandomSearch: values drawn at random (Optuna's RandomSampler)."""

    sampler = "random"


class GridSearch(Tuner):
    """KerasTuner's GridSearch: every combination once (a Float without a step: 10 values);
    `max_trials=None` (the default) runs the whole grid."""

    sampler = "grid"

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(hypermodel, objective, max_trials, **kwargs)


class BayesianOptimization(Tuner):
    """KerasTuner's BayesianOptimization: a Gaussian process (Optuna's GPSampler) after
    `num_initial_points` random trials. `alpha` and `beta` are accepted (Optuna's GP
    chooses its own noise and acquisition)."""

    sampler = "bayesian"

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int = 10,
        num_initial_points: int | None = None,
        alpha: float = 1e-4,
        beta: float = 2.6,
        **kwargs: Any,
    ) -> None:
        super().__init__(hypermodel, objective, max_trials, **kwargs)
        self.num_initial_points = num_initial_points

    def _algorithm(self) -> dict[str, Any]:
        points = self.num_initial_points or max(3 * len(self._space.space), 3)
        return {**super()._algorithm(), "num_initial_points": points}


class Hyperband(Tuner):
    """KerasTuner's Hyperband: trials trained up to `max_epochs`, the worse stopped early
    by successive halving with `factor` (Optuna's HyperbandPruner, asynchronous: a trial
    is stopped at an epoch boundary instead of continued later from a checkpoint). As
    many trials as KerasTuner's brackets hold, times `hyperband_iterations`."""

    sampler = "random"
    pruner = "hyperband"

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_epochs: int = 100,
        factor: int = 3,
        hyperband_iterations: int = 1,
        **kwargs: Any,
    ) -> None:
        if "max_trials" in kwargs:
            raise ValueError(
                "Unrecognized arguments ['max_trials'] for `Hyperband`: its "
                "brackets decide how many trials run"
            )
        self.max_epochs, self.factor = max_epochs, factor
        self.hyperband_iterations = hyperband_iterations
        super().__init__(
            hypermodel,
            objective,
            hyperband_trials(max_epochs, factor, hyperband_iterations),
            **kwargs,
        )

    def _prepare(self, fit_kwargs: dict[str, Any]) -> None:
        fit_kwargs["epochs"] = self.max_epochs

    def _algorithm(self) -> dict[str, Any]:
        return {**super()._algorithm(), "factor": self.factor}


def hyperband_trials(max_epochs: int, factor: int, iterations: int = 1) -> int:
    """How many trials KerasTuner's Hyperband runs (keras_tuner/tuners/hyperband.py):
    brackets b < B (B = how many of M, M/f, M/f², … are ≥ 1), rounds r ≤ b, each
    ceil(s0 / (b + 1) · f^(b − r)) trials, s0 = ceil(1 + log_f M)."""
    brackets = 0
    epochs = float(max_epochs)
    while epochs >= 1:
        brackets += 1
        epochs /= factor
    s0 = math.ceil(1 + math.log(max_epochs, factor))
    total = sum(
        math.ceil(s0 / (b + 1) * factor ** (b - r)) for b in range(brackets) for r in range(b + 1)
    )
    return total * iterations


def attach(study_id: str, hypermodel: Any = None, client: Any = None, verbose: Any = 1) -> Tuner:
    """A tuner following study `study_id` (started by this or another process) to its
    end; with `hypermodel`, `get_best_models()` builds the best trials' models."""
    tuner = Tuner.__new__(Tuner)
    Tuner.__init__(
        tuner,
        hypermodel=hypermodel or _Unbuildable(),
        client=client,
        project_name=f".attached/{study_id}",
        max_trials=None,
    )
    if hypermodel is None:
        tuner.hypermodel = None
    study = tuner.client.study(study_id)
    tuner.study_id = study_id
    tuner.oracle = Oracle(
        Objective(study.objective.name, study.objective.direction), study.max_trials
    )
    tuner._trial_width = len(str(study.max_trials))
    tuner._load(study)
    tuner._follow(verbose)
    return tuner


class _Unbuildable(HyperModel):
    def build(self, hp: HyperParameters) -> Any:
        raise ValueError("attach() was given no hypermodel")


def _score(result: Any, objective: Objective) -> float:
    """A trial's score from what run_trial returned (KerasTuner's rules): a History's best
    epoch, a dict's objective, a number; a list of them averaged."""
    if isinstance(result, list):
        scores = [_score(r, objective) for r in result]
        return float(np.mean(scores))
    if isinstance(result, History):
        values = result.history.get(objective.name)
        if not values:
            raise KeyError(
                f"{objective.name!r} is not among the History's {sorted(result.history)}"
            )
        return float(min(values) if objective.direction == "min" else max(values))
    if isinstance(result, dict):
        if objective.name not in result:
            raise ValueError(f"the returned dict has no {objective.name!r}: {sorted(result)}")
        result = result[objective.name]
    if result is None:
        raise TypeError(
            "The return value of HyperModel.fit() is None. Did you forget to return the metrics? "
        )
    score = finite(result)
    if score is None:
        raise ValueError(f"the objective is not a finite number: {result!r}")
    return score


def _merged(space: HyperParameters, hp: HyperParameters) -> HyperParameters:
    merged = space.copy()
    for spec in hp.space:
        merged._space.setdefault(spec.name, spec)
    merged.values = {}
    return merged


def _copied(kwargs: dict[str, Any]) -> dict[str, Any]:
    out = dict(kwargs)
    if isinstance(out.get("callbacks"), list):
        out["callbacks"] = list(out["callbacks"])
    return out


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}h {s % 3600 // 60:02d}m {s % 60:02d}s"
