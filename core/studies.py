"""Hyperparameter studies run by the service: Optuna's samplers and pruners over jobs.

A study's records (`core.store.studies`) are the whole truth: every step rebuilds an
in-memory Optuna study from them (each trial's values, state, score, per-epoch reports
and the sampler's and pruner's notes), asks it for new trials and writes what changed
back. No Optuna storage of its own, so nothing is pickled and deleting a study's keys
forgets it.

A *step* (`advance`) runs under the study's lock, in a worker's inference process (the
`cornu.study` task): it reads each running trial's jobs, scores the ones that ended
(KerasTuner's rule: each execution's best epoch, averaged), and submits new trials, as
ordinary jobs through `submit_job` (so quotas and fair scheduling apply), while fewer
than `max_parallel` run and fewer than `max_trials` were asked. Steps are asked for when
the study is created, after each epoch and at the end of each trial job, on cancel, and
by the reaper every round for each running study (which also retries a trial that could
not be submitted while its tenant was at its active-job quota).

Pruning happens where the epoch ends: the worker training a trial's first job reports
the objective after each epoch and asks the pruner (`should_prune`); a pruned job stops
there with status `pruned`, its epochs counted.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

import optuna
from celery import Celery
from optuna.trial import FrozenTrial, TrialState, create_trial
from pydantic import ValidationError

from cornu.core.config import Settings
from cornu.core.engine import plan_job
from cornu.core.errors import CornuError, SpecError, TooManyJobs
from cornu.core.ids import new_id
from cornu.core.jobs import check_limits, submit_job
from cornu.core.queue import enqueue_study
from cornu.core.sampling import distribution, sample
from cornu.core.spec import JobSpec, JobStatus, spec_error
from cornu.core.spec.job import TrialRef
from cornu.core.spec.study import (
    FixedHp,
    StudySpec,
    StudyStatus,
    Trial,
    TrialStatus,
)
from cornu.core.store import Store, keys
from cornu.core.store.values import text

log = logging.getLogger(__name__)
optuna.logging.set_verbosity(optuna.logging.WARNING)

Submit = Callable[[str], None]  # sends a job id to the training queue


# -- creating ----------------------------------------------------------------------------


def create_study(store: Store, tenant: str, spec: StudySpec, settings: Settings) -> str:
    """Check every template against the tenant's datasets and the service's limits (with
    the space's first values), record the study and return its id; SpecError for a
    template that cannot train or an objective its jobs would not log."""
    firsts = {hp.name: hp.first for hp in spec.space}
    for index, template in enumerate(spec.templates):
        values = {**firsts, **template.when}
        try:
            job = spec.trial_job(values, seed=0)
        except ValidationError as exc:
            raise spec_error(exc.errors()).at("templates", index, "job") from None
        try:
            plan = plan_job(job, store.datasets.shapes(tenant, job.dataset_ids()))
            check_limits(job, plan, settings)
        except SpecError as exc:
            raise exc.at("templates", index, "job") from None
        if spec.objective.name not in plan.history_keys:
            raise SpecError(
                f"objective {spec.objective.name!r} is not among what the trials' jobs log "
                f"({', '.join(plan.history_keys)})",
                ("objective", "name"),
            )
    study_id = new_id("std")
    store.studies.create(tenant, study_id, spec, settings.max_running_studies)
    return study_id


# -- a step ------------------------------------------------------------------------------


def poke(store: Store, app: Celery, queue: str, study_id: str) -> None:
    """Ask for a step of the study and send the task that takes it (ServiceUnavailable
    if the broker is down: the reaper asks again next round)."""
    store.studies.want(study_id)
    enqueue_study(app, study_id, queue)


def advance(store: Store, settings: Settings, study_id: str, submit: Submit) -> None:
    """Take the steps asked for since the last one, unless another process is taking
    them (it sees the ask when it finishes its step)."""
    with store.studies.lock(study_id) as held:
        if not held:
            return
        while store.studies.take_want(study_id):
            _step(store, settings, study_id, submit)


def _step(store: Store, settings: Settings, study_id: str, submit: Submit) -> None:
    record = store.studies.record(study_id)
    if not record or StudyStatus(record["status"]).finished:
        return
    tenant = record["tenant"]
    spec = StudySpec.model_validate_json(record["spec"])
    trials = {t.number: t for t in store.studies.trials(study_id)}
    notes = store.studies.trial_notes(study_id)
    reports, attrs = store.studies.reports(study_id)
    cancelling = record.get("cancel") == "1"
    run_seconds = 0.0
    for trial in list(trials.values()):
        if trial.status.finished:
            run_seconds += _run_seconds(store, trial.jobs)
            continue
        updated = _follow_trial(
            store, settings, study_id, tenant, spec, trial, reports, submit, cancelling
        )
        run_seconds += _run_seconds(store, updated.jobs)
        if updated != trial:
            event = "trial_ended" if updated.status.finished else "trial_updated"
            store.studies.save_trial(study_id, updated, event=event)
            trials[updated.number] = updated
    store.studies.set_compute(study_id, run_seconds)
    running = [t for t in trials.values() if not t.status.finished]
    if cancelling:
        if not running:
            store.studies.finish(study_id, StudyStatus.cancelled)
        return
    failed_in_a_row = _failed_in_a_row(list(trials.values()))
    if failed_in_a_row >= spec.max_consecutive_failed_trials:
        last = max(trials.values(), key=lambda t: t.number)
        if not running:
            store.studies.finish(
                study_id,
                StudyStatus.failed,
                f"{failed_in_a_row} trials failed in a row; the last: {last.error}",
            )
        return
    limit = _trial_limit(spec)
    if not running and len(trials) >= limit:
        store.studies.finish(study_id, StudyStatus.completed)
        return
    study = _optuna_study(study_id, spec, trials, notes, reports, attrs, len(trials))
    while len(running) < spec.max_parallel and len(trials) < limit:
        if not _room(store, tenant, spec.executions_per_trial):
            break  # the tenant's active-job quota is full: the reaper asks again later
        asked = study.ask()
        values = sample(asked, spec)
        frozen = study._storage.get_trial(asked._trial_id)
        note = {"params": _plain(frozen.params), "system_attrs": _plain(frozen.system_attrs)}
        trial = Trial(number=len(trials), status=TrialStatus.running, hyperparameters=values)
        store.studies.save_trial(study_id, trial, notes=note, event="trial_started")
        trials[trial.number] = trial
        trial = _follow_trial(
            store, settings, study_id, tenant, spec, trial, reports, submit, False
        )
        if trial.status.finished:  # an invalid model: failed with the reason
            study.tell(asked, state=TrialState.FAIL)
            store.studies.save_trial(study_id, trial, event="trial_ended")
        else:
            store.studies.save_trial(study_id, trial)
            running.append(trial)
        trials[trial.number] = trial
        if _failed_in_a_row(list(trials.values())) >= spec.max_consecutive_failed_trials:
            store.studies.want(study_id)  # the next step ends the study
            break


def _follow_trial(
    store: Store,
    settings: Settings,
    study_id: str,
    tenant: str,
    spec: StudySpec,
    trial: Trial,
    reports: Mapping[int, Mapping[int, float]],
    submit: Submit,
    cancelling: bool,
) -> Trial:
    """The trial brought up to date: its missing jobs submitted, its ended jobs scored."""
    jobs = list(trial.jobs)
    if cancelling and len(jobs) < spec.executions_per_trial:
        return _ended(trial, jobs, TrialStatus.cancelled, None, 0, "the study was cancelled")
    try:
        for execution in range(len(jobs), spec.executions_per_trial):
            jobs.append(
                _submit_trial_job(store, settings, study_id, tenant, spec, trial, execution, submit)
            )
    except TooManyJobs:
        pass  # submitted when the quota has room
    except SpecError as exc:
        for job_id in jobs:  # a later execution cannot fail where the first did not
            _stop(store, tenant, job_id)
        return _ended(trial, jobs, TrialStatus.failed, None, 0, exc.detail)
    found = [store.jobs.get(tenant, j) for j in jobs]
    epochs = sum(job.epoch for job in found)
    intermediate = dict(reports.get(trial.number, {}))
    current = trial.model_copy(
        update={"jobs": jobs, "epochs": epochs, "intermediate": intermediate}
    )
    if cancelling or any(job.status is JobStatus.pruned for job in found):
        for job in found:
            if not job.status.finished:
                _stop(store, tenant, job.id)
    if len(jobs) < spec.executions_per_trial or not all(job.status.finished for job in found):
        return current
    statuses = {job.status for job in found}
    if JobStatus.pruned in statuses:
        return _ended(current, jobs, TrialStatus.pruned, None, epochs, None)
    failed = [job for job in found if job.status is JobStatus.failed]
    if failed:
        return _ended(
            current,
            jobs,
            TrialStatus.failed,
            None,
            epochs,
            f"job {failed[0].id} failed: {failed[0].error}",
        )
    if JobStatus.cancelled in statuses:
        return _ended(current, jobs, TrialStatus.cancelled, None, epochs, "a job was cancelled")
    scores = []
    for job in found:
        history = store.jobs.metrics(tenant, job.id).history.get(spec.objective.name)
        if not history:
            return _ended(
                current,
                jobs,
                TrialStatus.failed,
                None,
                epochs,
                f"job {job.id} did not log {spec.objective.name!r}",
            )
        scores.append(min(history) if spec.objective.direction == "min" else max(history))
    score = sum(scores) / len(scores)
    if not math.isfinite(score):
        return _ended(
            current,
            jobs,
            TrialStatus.failed,
            None,
            epochs,
            f"its objective is {score} (the model diverged)",
        )
    return _ended(current, jobs, TrialStatus.completed, score, epochs, None)


def _ended(
    trial: Trial,
    jobs: list[str],
    status: TrialStatus,
    score: float | None,
    epochs: int,
    error: str | None,
) -> Trial:
    return trial.model_copy(
        update={
            "jobs": jobs,
            "status": status,
            "score": score,
            "epochs": epochs or trial.epochs,
            "error": error,
        }
    )


def _submit_trial_job(
    store: Store,
    settings: Settings,
    study_id: str,
    tenant: str,
    spec: StudySpec,
    trial: Trial,
    execution: int,
    submit: Submit,
) -> str:
    """Submit one execution of a trial (once: the idempotency key names it); its job id.
    SpecError if its values build an invalid job; TooManyJobs at the tenant's quota."""
    template = spec.template_for(trial.hyperparameters)
    base_seed = (template.job.get("fit") or {}).get("seed") if template else None
    seed = _seed(study_id, trial.number, execution, base_seed)
    try:
        job = spec.trial_job(trial.hyperparameters, seed)
    except ValidationError as exc:
        raise spec_error(exc.errors()) from None
    except LookupError as exc:
        raise SpecError(str(exc)) from None
    name = f"{spec.name or study_id} #{trial.number}"
    tags = list(dict.fromkeys([*job.tags, *spec.tags, f"study:{study_id}"]))[:32]
    job = job.model_copy(
        update={
            "name": name if execution == 0 else f"{name}.{execution}",
            "tags": tags,
            "trial": TrialRef(study=study_id, number=trial.number, execution=execution),
        }
    )
    job = JobSpec.model_validate(job.model_dump())
    created, _ = submit_job(
        store,
        tenant,
        job,
        settings,
        submit,
        idempotency_key=f"{study_id}:{trial.number}:{execution}",
    )
    return created.id


def _seed(study_id: str, number: int, execution: int, base: int | None) -> int:
    """Each execution its own seed, the same each time it is asked for."""
    digest = hashlib.sha256(f"{study_id}:{base}:{number}:{execution}".encode()).digest()
    return int.from_bytes(digest[:7], "big")


def _stop(store: Store, tenant: str, job_id: str) -> None:
    try:
        store.jobs.cancel(tenant, job_id)
    except CornuError:
        pass  # it ended meanwhile


def _room(store: Store, tenant: str, jobs: int) -> bool:
    quota = store.quotas.get(tenant)
    return int(store.redis.scard(keys.tenant_active(tenant))) + jobs <= quota.active_jobs


def _run_seconds(store: Store, jobs: list[str]) -> float:
    pipe = store.redis.pipeline(transaction=False)
    for job_id in jobs:
        pipe.hget(keys.job(job_id), "run_seconds")
    return sum(float(text(v) or 0.0) for v in pipe.execute())


def _failed_in_a_row(trials: list[Trial]) -> int:
    count = 0
    for trial in sorted(trials, key=lambda t: t.number, reverse=True):
        if trial.status is TrialStatus.failed:
            count += 1
        elif trial.status.finished:
            break
    return count


def _trial_limit(spec: StudySpec) -> int:
    """`max_trials`, or fewer for a grid: each combination once."""
    if spec.algorithm.sampler != "grid":
        return spec.max_trials
    size = 1
    for hp in spec.space:
        size *= len(hp.grid())
        if size >= spec.max_trials:
            return spec.max_trials
    return size


# -- Optuna ------------------------------------------------------------------------------


def _optuna_study(
    study_id: str,
    spec: StudySpec,
    trials: Mapping[int, Trial],
    notes: Mapping[int, dict[str, Any]],
    reports: Mapping[int, Mapping[int, float]],
    attrs: Mapping[int, dict[str, Any]],
    asking: int,
) -> optuna.Study:
    """The study as Optuna sees it, rebuilt from the records; its sampler seeded for the
    `asking`-th trial (so a rebuilt sampler does not repeat an earlier draw)."""
    study = optuna.create_study(
        study_name=study_id,
        direction="minimize" if spec.objective.direction == "min" else "maximize",
        sampler=_sampler(spec, asking),
        pruner=pruner(spec),
    )
    for number in sorted(trials):
        trial = trials[number]
        note = notes.get(number, {})
        params = note.get("params", {})
        distributions = {name: distribution(spec.hp(name)) for name in params}
        state = {
            TrialStatus.running: TrialState.RUNNING,
            TrialStatus.completed: TrialState.COMPLETE,
            TrialStatus.pruned: TrialState.PRUNED,
        }.get(trial.status, TrialState.FAIL)
        study.add_trial(
            create_trial(
                state=state,
                value=trial.score if state is TrialState.COMPLETE else None,
                params=params,
                distributions=distributions,
                intermediate_values=dict(reports.get(number, {})),
                system_attrs={**note.get("system_attrs", {}), **attrs.get(number, {})},
            )
        )
    return study


def _sampler(spec: StudySpec, asking: int) -> optuna.samplers.BaseSampler:
    algorithm = spec.algorithm
    seed = None if algorithm.seed is None else (algorithm.seed + asking) % 2**32
    if algorithm.sampler == "grid":
        space = {hp.name: hp.grid() for hp in spec.space if not isinstance(hp, FixedHp)}
        return optuna.samplers.GridSampler(space, seed=algorithm.seed)
    if algorithm.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    if algorithm.sampler == "bayesian":
        startup = algorithm.num_initial_points or 3
        try:
            return optuna.samplers.GPSampler(seed=seed, n_startup_trials=startup)
        except ImportError:  # GPSampler needs scipy and torch; workers have both
            return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup)
    return optuna.samplers.RandomSampler(seed=seed)


def pruner(spec: StudySpec) -> optuna.pruners.BasePruner:
    """The study's pruner (NopPruner without one). Hyperband's resource is epochs: from
    `min_epochs` to the trials' `fit.epochs` (the most any template asks for)."""
    algorithm = spec.algorithm
    most = max(int((t.job.get("fit") or {}).get("epochs", 1) or 1) for t in spec.templates)
    if algorithm.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=algorithm.min_epochs,
            max_resource=max(most, algorithm.min_epochs),
            reduction_factor=algorithm.factor,
        )
    if algorithm.pruner == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=algorithm.min_epochs, reduction_factor=algorithm.factor
        )
    if algorithm.pruner == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=1, n_warmup_steps=algorithm.min_epochs - 1
        )
    return optuna.pruners.NopPruner()


def _plain(value: Any) -> Any:
    """Optuna's params and attributes as JSON holds them (tuples become lists)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# -- the worker's side: reporting an epoch -----------------------------------------------


def report_epoch(store: Store, ref: TrialRef, epoch: int, logs: Mapping[str, float]) -> bool:
    """Record the trial's objective after `epoch` (1-based) and whether its pruner stops
    it there. Only a trial's first execution reports (and is pruned); the study's step
    stops the others."""
    if ref.execution != 0:
        return False
    spec = store.studies.spec(ref.study)
    value = logs.get(spec.objective.name)
    if value is None or not math.isfinite(value):
        return False
    store.studies.report(ref.study, ref.number, epoch, float(value))
    if spec.algorithm.pruner is None:
        return False
    trials = {t.number: t for t in store.studies.trials(ref.study)}
    if ref.number not in trials:
        return False
    reports, attrs = store.studies.reports(ref.study)
    notes = store.studies.trial_notes(ref.study)
    study = _optuna_study(ref.study, spec, trials, notes, reports, attrs, len(trials))
    frozen: FrozenTrial = next(t for t in study.trials if t.number == ref.number)
    pruned = bool(study.pruner.prune(study, frozen))
    after = study._storage.get_trial(frozen._trial_id).system_attrs
    noted = {
        k: v
        for k, v in _plain(after).items()
        if k not in notes.get(ref.number, {}).get("system_attrs", {})
    }
    if noted:
        store.studies.note_attrs(ref.study, ref.number, noted)
    return pruned
