"""A hyperparameter search run by the service: `POST /v1/studies`'s body and what it reports.

The search space is KerasTuner's hyperparameters (`Int`, `Float`, `Choice`, `Boolean`,
`Fixed`, each optionally active only under a parent's values: KerasTuner's
`conditional_scope`). Each trial is an ordinary job, built from a *template*: a JobSpec
in which any JSON value may be `{"$hp": "<name>"}`, replaced by the trial's value. A
hyperparameter that changes the model's structure (a number of layers, an optimizer's
kind) selects among several templates by `when` (the SDK writes them by running the
user's `build_model(hp)`; the service never runs user code).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from cornu.core.spec.job import JobSpec, Tag

HpName = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
HpValue = bool | int | float | str
"""A hyperparameter's value, as Optuna's samplers and JSON hold it."""
PLACEHOLDER = "$hp"
MAX_TRIALS = 1000
MAX_TEMPLATES = 64
MAX_CHOICES = 256
MAX_GRID_VALUES = 1000  # values one hyperparameter may be enumerated into
MAX_GRID_POINTS = 100_000  # combinations a grid search may hold


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """Active only while hyperparameter `name` has one of `values` (KerasTuner's
    `conditional_scope(parent_name, parent_values)`)."""

    name: HpName
    values: list[HpValue] = Field(min_length=1, max_length=MAX_CHOICES)


class _Hp(_Strict):
    name: HpName
    conditions: list[Condition] = Field(default_factory=list, max_length=8)

    def active(self, values: Mapping[str, Any]) -> bool:
        """Whether every parent holds one of the values this one is active under."""
        return all(c.name in values and values[c.name] in c.values for c in self.conditions)


def _check_range(low: float, high: float, sampling: str, default: float | None) -> None:
    """An Int's or Float's range: ordered, above 0 for log sampling, holding its default."""
    if high < low:
        raise PydanticCustomError("range", "max_value is below min_value")
    if sampling != "linear" and low <= 0:
        raise PydanticCustomError("range", "log sampling needs a min_value above 0")
    if default is not None and not low <= default <= high:
        raise PydanticCustomError("range", "the default is outside min_value..max_value")


class IntHp(_Hp):
    """`hp.Int(name, min_value, max_value, step=None, sampling="linear", default=None)`:
    both ends included; KerasTuner's default is `min_value`."""

    type: Literal["int"] = "int"
    min_value: int
    max_value: int
    step: int | None = Field(default=None, ge=1)
    sampling: Literal["linear", "log", "reverse_log"] = "linear"
    default: int | None = None

    @model_validator(mode="after")
    def _range(self) -> IntHp:
        _check_range(self.min_value, self.max_value, self.sampling, self.default)
        return self

    @property
    def first(self) -> int:
        return self.default if self.default is not None else self.min_value

    def grid_size(self) -> int:
        return (self.max_value - self.min_value) // (self.step or 1) + 1

    def grid(self) -> list[int]:
        """Every value, `step` apart (KerasTuner's `Int.values`); ValueError past
        MAX_GRID_VALUES."""
        _enumerable(self.name, self.grid_size())
        return list(range(self.min_value, self.max_value + 1, self.step or 1))


class FloatHp(_Hp):
    """`hp.Float(name, min_value, max_value, step=None, sampling="linear", default=None)`."""

    type: Literal["float"] = "float"
    min_value: float = Field(allow_inf_nan=False)
    max_value: float = Field(allow_inf_nan=False)
    step: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    sampling: Literal["linear", "log", "reverse_log"] = "linear"
    default: float | None = Field(default=None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _range(self) -> FloatHp:
        _check_range(self.min_value, self.max_value, self.sampling, self.default)
        return self

    @property
    def first(self) -> float:
        return self.default if self.default is not None else self.min_value

    def grid_size(self) -> int:
        if self.step is None:
            return 10
        return int(math.floor((self.max_value - self.min_value) / self.step + 1e-9)) + 1

    def grid(self) -> list[float]:
        """`step` apart; without a step, KerasTuner's grid of 10 values (evenly spaced, or
        spaced evenly in log for `sampling="log"`: keras_tuner/.../hyperparameters/float.py).
        Each rounded to 12 significant digits and kept within the range (so a value is
        exactly one Optuna draws); ValueError past MAX_GRID_VALUES."""
        low, high = self.min_value, self.max_value
        _enumerable(self.name, self.grid_size())
        if self.step is not None:
            raw = [low + i * self.step for i in range(self.grid_size())]
        elif self.sampling == "linear":
            raw = [low + (high - low) * i / 9 for i in range(10)]
        else:
            raw = [low * (high / low) ** (i / 9) for i in range(10)]
        return [min(high, max(low, float(f"{v:.12g}"))) for v in raw]


class ChoiceHp(_Hp):
    """`hp.Choice(name, values, ordered=None, default=None)`: the default is the first."""

    type: Literal["choice"] = "choice"
    values: list[HpValue] = Field(min_length=1, max_length=MAX_CHOICES)
    ordered: bool | None = None
    default: HpValue | None = None

    @property
    def first(self) -> HpValue:
        return self.default if self.default is not None else self.values[0]

    def grid_size(self) -> int:
        return len(self.values)

    def grid(self) -> list[HpValue]:
        return list(self.values)


class BooleanHp(_Hp):
    """`hp.Boolean(name, default=False)`."""

    type: Literal["boolean"] = "boolean"
    default: bool = False

    @property
    def first(self) -> bool:
        return self.default

    def grid_size(self) -> int:
        return 2

    def grid(self) -> list[bool]:
        return [True, False] if self.default else [False, True]


class FixedHp(_Hp):
    """`hp.Fixed(name, value)`: never searched."""

    type: Literal["fixed"] = "fixed"
    value: HpValue

    @property
    def first(self) -> HpValue:
        return self.value

    def grid_size(self) -> int:
        return 1

    def grid(self) -> list[HpValue]:
        return [self.value]


def _enumerable(name: str, size: int) -> None:
    if size > MAX_GRID_VALUES:
        raise ValueError(
            f"hyperparameter {name!r} has {size} values, more than {MAX_GRID_VALUES} to "
            "enumerate (a grid, a log range with a step, a structural choice): give a larger "
            "step or a narrower range"
        )


AnyHp = Annotated[IntHp | FloatHp | ChoiceHp | BooleanHp | FixedHp, Field(discriminator="type")]


class Objective(_Strict):
    """KerasTuner's `Objective(name, direction)`: a metric of the jobs' History (`loss`,
    `val_accuracy`, …) and whether lower or higher is better. A trial's score is the best
    epoch's value, averaged over its executions (KerasTuner's rule)."""

    name: str = Field(min_length=1, max_length=128)
    direction: Literal["min", "max"]


class Algorithm(_Strict):
    """How trials are chosen and stopped: Optuna's samplers and pruners.

    `random` (KerasTuner's RandomSearch), `grid` (GridSearch: every combination once, in
    a shuffled order), `bayesian` (BayesianOptimization: a Gaussian-process sampler after
    `num_initial_points` random trials), `tpe`. `pruner` stops bad trials at an epoch
    boundary from their per-epoch objective: `hyperband` (Hyperband's successive halving
    with `factor`, from 1 epoch to `max_epochs`: Li et al., 2018; Optuna's HyperbandPruner),
    `successive_halving` (asynchronous, ASHA) or `median` (stops a trial whose value is
    worse than the median of earlier trials at the same epoch)."""

    sampler: Literal["random", "grid", "bayesian", "tpe"] = "random"
    pruner: Literal["hyperband", "successive_halving", "median"] | None = None
    seed: int | None = Field(default=None, ge=0, lt=2**32)
    num_initial_points: int | None = Field(default=None, ge=1, le=MAX_TRIALS)
    factor: int = Field(default=3, ge=2, le=10, description="hyperband's reduction factor")
    min_epochs: int = Field(default=1, ge=1, description="the pruner's first rung")


class Template(_Strict):
    """One trial job for the values `when` names (all of them equal): a JobSpec whose
    values may be `{"$hp": name}`."""

    when: dict[HpName, HpValue] = Field(default_factory=dict, max_length=16)
    job: dict[str, Any]


class StudySpec(_Strict):
    """`POST /v1/studies`: a search the service runs to its end without the client.

    Up to `max_parallel` trials run at once (each counts against the tenant's active-job
    quota and is scheduled like any job); `executions_per_trial` jobs per trial, each with
    its own seed. A trial whose values build an invalid model is recorded as failed with
    the reason, and the search goes on."""

    name: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$"
    )
    tags: list[Tag] = Field(default_factory=list, max_length=16)
    objective: Objective
    space: list[AnyHp] = Field(min_length=1, max_length=64)
    templates: list[Template] = Field(min_length=1, max_length=MAX_TEMPLATES)
    algorithm: Algorithm = Field(default_factory=Algorithm)
    max_trials: int = Field(default=10, ge=1, le=MAX_TRIALS)
    max_parallel: int = Field(default=2, ge=1, le=64)
    executions_per_trial: int = Field(default=1, ge=1, le=10)
    max_consecutive_failed_trials: int = Field(
        default=3, ge=1, le=MAX_TRIALS, description="the study fails after this many in a row"
    )

    @model_validator(mode="after")
    def _consistent(self) -> StudySpec:
        names = [hp.name for hp in self.space]
        if len(set(names)) != len(names):
            raise PydanticCustomError("space", "a hyperparameter name appears twice")
        known = set(names)
        for index, hp in enumerate(self.space):
            for condition in hp.conditions:
                if condition.name not in names[:index]:
                    raise PydanticCustomError(
                        "space",
                        "{hp} is conditioned on {parent}, which is not in the space before it",
                        {"hp": hp.name, "parent": condition.name},
                    )
        for hp in self.space:  # what is drawn as a choice of its values must be enumerable
            needs = isinstance(hp, IntHp | FloatHp) and hp.sampling != "linear" and (
                hp.step or 1) != 1  # fmt: skip
            if needs and hp.grid_size() > MAX_GRID_VALUES:
                raise PydanticCustomError("space", str(_too_many(hp)))
        if self.algorithm.sampler == "grid":
            points = 1
            for hp in self.space:
                if hp.grid_size() > MAX_GRID_VALUES:
                    raise PydanticCustomError("space", str(_too_many(hp)))
                points *= hp.grid_size()
            if points > MAX_GRID_POINTS:
                raise PydanticCustomError(
                    "space", "a grid of {points} combinations is more than {most}; use "
                    "random or bayesian sampling", {"points": points, "most": MAX_GRID_POINTS},
                )  # fmt: skip
        for template in self.templates:
            if not isinstance(template.job.get("fit", {}), dict):
                raise PydanticCustomError("templates", "a template's fit must be an object")
            epochs = (template.job.get("fit") or {}).get("epochs", 1)
            if self.algorithm.pruner and isinstance(epochs, dict):
                raise PydanticCustomError(
                    "templates", "with a pruner, a template's fit.epochs must be a number "
                    "(the pruner's budget), not a hyperparameter",
                )  # fmt: skip
            unknown = (set(template.when) | set(placeholders(template.job))) - known
            if unknown:
                raise PydanticCustomError(
                    "templates",
                    "a template names hyperparameters not in the space: {names}",
                    {"names": ", ".join(sorted(unknown))},
                )
        return self

    def hp(self, name: str) -> AnyHp:
        return next(hp for hp in self.space if hp.name == name)

    def defaults(self) -> dict[str, HpValue]:
        """Every active hyperparameter at its default (KerasTuner's first trial's values)."""
        values: dict[str, HpValue] = {}
        for hp in self.space:
            if hp.active(values):
                values[hp.name] = hp.first
        return values

    def template_for(self, values: Mapping[str, Any]) -> Template | None:
        """The template whose `when` the values meet (the most specific, if several;
        floats equal to 12 significant digits)."""
        fitting = [
            t
            for t in self.templates
            if all(k in values and _same(values[k], v) for k, v in t.when.items())
        ]
        return max(fitting, key=lambda t: len(t.when)) if fitting else None

    def trial_job(self, values: Mapping[str, Any], seed: int | None) -> JobSpec:
        """The job of a trial with `values`: its template rendered and read as a JobSpec
        (SpecError-like pydantic ValidationError if invalid; LookupError if no template
        fits the values)."""
        template = self.template_for(values)
        if template is None:
            raise LookupError(f"no template for the values {dict(values)}")
        return template_job(template, values, seed)


def template_job(template: Template, values: Mapping[str, Any], seed: int | None) -> JobSpec:
    """`template` rendered with `values` (and `seed`, if given) and read as a JobSpec
    (pydantic's ValidationError if invalid)."""
    job = render(template.job, values)
    fit = job.get("fit")
    if seed is not None and (fit is None or isinstance(fit, dict)):
        job["fit"] = {**(fit or {}), "seed": seed}
    return JobSpec.model_validate(job)


def _too_many(hp: Any) -> ValueError:
    try:
        _enumerable(hp.name, hp.grid_size())
    except ValueError as exc:
        return exc
    return ValueError(hp.name)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)
    return bool(type(a) is type(b) and a == b)


def placeholders(value: Any) -> Iterator[str]:
    """The names of the `{"$hp": name}` in a template."""
    if isinstance(value, dict):
        if set(value) == {PLACEHOLDER} and isinstance(value[PLACEHOLDER], str):
            yield value[PLACEHOLDER]
            return
        for item in value.values():
            yield from placeholders(item)
    elif isinstance(value, list):
        for item in value:
            yield from placeholders(item)


def render(value: Any, values: Mapping[str, Any]) -> Any:
    """`value` with each `{"$hp": name}` replaced by `values[name]` (KeyError if absent)."""
    if isinstance(value, dict):
        if set(value) == {PLACEHOLDER} and isinstance(value[PLACEHOLDER], str):
            return values[value[PLACEHOLDER]]
        return {k: render(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, values) for v in value]
    return value


class StudyEventType(StrEnum):
    """The Server-Sent Events of `GET /v1/studies/{id}/stream`: its trials', then the
    study's final status (a `StudyStatus`) and `end` with the study."""

    created = "created"
    trial_started = "trial_started"
    trial_updated = "trial_updated"  # an epoch of one of its jobs
    trial_ended = "trial_ended"
    end = "end"


class StudyStatus(StrEnum):
    running = "running"
    completed = "completed"  # every trial ended (or max_trials reached)
    failed = "failed"  # too many trials failed in a row
    cancelled = "cancelled"

    @property
    def finished(self) -> bool:
        return self is not StudyStatus.running


class TrialStatus(StrEnum):
    running = "running"  # its jobs are queued or running
    completed = "completed"
    pruned = "pruned"  # stopped early by the pruner at an epoch boundary
    failed = "failed"  # an invalid model, or a job that failed
    cancelled = "cancelled"

    @property
    def finished(self) -> bool:
        return self is not TrialStatus.running


class Trial(BaseModel):
    """One set of hyperparameter values and the jobs that train it."""

    number: int = Field(description="0, 1, … in the order trials were asked for")
    status: TrialStatus
    hyperparameters: dict[str, HpValue]
    jobs: list[str] = Field(default_factory=list, description="one per execution")
    score: float | None = Field(
        default=None, description="the objective: best epoch's value, mean over executions"
    )
    epochs: int = Field(default=0, description="epochs its jobs trained")
    intermediate: dict[int, float] = Field(
        default_factory=dict, description="the objective after each epoch (first execution)"
    )
    error: str | None = None


class BestTrial(BaseModel):
    number: int
    score: float
    hyperparameters: dict[str, HpValue]
    jobs: list[str]


class Study(BaseModel):
    """A study as `GET /v1/studies/{id}` reports it."""

    id: str
    name: str | None = None
    tags: list[str] = Field(default_factory=list)
    status: StudyStatus
    objective: Objective
    algorithm: Algorithm
    max_trials: int
    max_parallel: int
    executions_per_trial: int
    trials: list[Trial] = Field(default_factory=list)
    best: BestTrial | None = Field(
        default=None, description="the completed trial with the best score so far"
    )
    epochs: int = Field(default=0, description="epochs trained by all trials: its compute")
    run_seconds: float = Field(default=0.0, description="training seconds of all trials")
    error: str | None = None
    created_at: str
    finished_at: str | None = None


class StudySummary(BaseModel):
    id: str
    name: str | None = None
    status: StudyStatus
    objective: Objective
    trials: int
    best_score: float | None = None
    created_at: str


class StudyPage(BaseModel):
    studies: list[StudySummary]
    next_cursor: str | None = None
