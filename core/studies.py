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
from cornu.core.errors import CornuError, NotFound, QuotaExceeded, SpecError, TooManyJobs
from cornu.core.ids import new_id
from cornu.core.queue import enqueue_study
from cornu.core.sampling import distribution, sample
from cornu.core.spec import Job, JobSpec, JobStatus, spec_error
from cornu.core.spec.job import TrialRef
from cornu.core.spec.study import (
    FixedHp,
    StudyEventType,
    StudySpec,
    StudyStatus,
    Trial,
    TrialStatus,
    template_job,
)
from cornu.core.store import UNAVAILABLE, Store, keys
from cornu.core.store.studies import best_of
from cornu.core.store.values import text
from cornu.core.submission import check_limits, submit_job

log = logging.getLogger(__name__)
optuna.logging.set_verbosity(optuna.logging.WARNING)

Submit = Callable[[str], None]  # sends a job id to the training queue


# -- creating ----------------------------------------------------------------------------


def create_study(store: Store, tenant: str, spec: StudySpec, settings: Settings) -> str:
    """Check every template against the tenant's datasets and the service's limits (with
    the space's first values), record the study and return its id; SpecError for a
    template that cannot train, an objective its jobs would not log, or executions that
    the tenant's active-job quota could never hold at once."""
    firsts = {hp.name: hp.first for hp in spec.space}
    for index, template in enumerate(spec.templates):
        values = {**firsts, **template.when}
        try:
            job = template_job(template, values, seed=0)
        except ValidationError as exc:
            raise spec_error(exc.errors()).at("templates", index, "job") from None
        except KeyError as exc:  # a placeholder of a hyperparameter not active here
            raise SpecError(f"no value for {exc.args[0]!r} in this template's trials",
                            ("templates", index, "job")) from None  # fmt: skip
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
    quota = store.quotas.get(tenant)
    if spec.executions_per_trial > quota.active_jobs:
        raise SpecError(
            f"executions_per_trial ({spec.executions_per_trial}) is more than the jobs this "
            f"tenant may have active at once ({quota.active_jobs})",
            ("executions_per_trial",),
        )
    study_id = new_id("std")
    store.studies.create(tenant, study_id, spec, settings.max_running_studies)
    return study_id


# -- a step ------------------------------------------------------------------------------

MAX_STEPS_PER_TASK = 20  # then the task asks for another and ends (the lock changes hands)
MAX_FAILED_STEPS = 5  # steps in a row that raised: the study fails with the last error
MAX_REPEATS = 20  # draws of values tried already before a discrete space counts as spent


def poke(store: Store, app: Celery, queue: str, study_id: str, *, force: bool = False) -> None:
    """Ask for a step of the study and send the task that takes it, unless a step was
    asked for already (`force`: send it anyway, as the reaper does in case that task was
    lost). ServiceUnavailable if the broker is down: the reaper asks again next round."""
    if store.studies.want(study_id) or force:
        enqueue_study(app, study_id, queue)


def advance(store: Store, settings: Settings, study_id: str, submit: Submit) -> None:
    """Take the steps asked for since the last one, unless another process is taking
    them (it sees the ask when it finishes its step). A step that raises is counted;
    after MAX_FAILED_STEPS in a row the study fails with the error."""
    with store.studies.lock(study_id) as lock:
        if lock is None:
            return
        for _ in range(MAX_STEPS_PER_TASK):
            if not store.studies.take_want(study_id):
                return
            lock.reacquire()  # a full lease for this step
            try:
                _step(store, settings, study_id, submit)
                store.studies.failed_step(study_id, failed=False)
            except UNAVAILABLE:
                store.studies.want(study_id)  # the reaper's next round retries
                raise
            except Exception as exc:
                log.exception("study %s: a step failed", study_id)
                if store.studies.failed_step(study_id) >= MAX_FAILED_STEPS:
                    error = f"its steps failed: {type(exc).__name__}: {exc}"
                    store.studies.finish(study_id, StudyStatus.failed, error)
                return
        store.studies.want(study_id)  # more to do: the reaper's next round, or a poke


def _step(store: Store, settings: Settings, study_id: str, submit: Submit) -> None:
    record = store.studies.record(study_id)
    if not record or StudyStatus(record["status"]).finished:
        return
    tenant = record["tenant"]
    spec = StudySpec.model_validate_json(record["spec"])
    trials = {t.number: t for t in store.studies.trials(study_id)}
    reports, attrs = store.studies.reports(study_id)
    cancelling = record.get("cancel") == "1"
    run_seconds = 0.0
    for trial in list(trials.values()):
        if not trial.status.finished:
            updated = _follow_trial(store, settings, study_id, tenant, spec, trial, reports,
                                    submit, cancelling)  # fmt: skip
            if updated != trial:
                event = (
                    StudyEventType.trial_ended
                    if updated.status.finished
                    else StudyEventType.trial_updated
                )
                store.studies.save_trial(study_id, updated, event=event)
                trials[updated.number] = trial = updated
        run_seconds += _run_seconds(store, trial.jobs)
    best = best_of(list(trials.values()), spec.objective.direction)
    store.studies.summarize(study_id, len(trials), best.score if best else None, run_seconds)
    running = [t for t in trials.values() if not t.status.finished]
    if cancelling:
        if not running:
            store.studies.finish(study_id, StudyStatus.cancelled)
        return
    failed_in_a_row = _failed_in_a_row(list(trials.values()))
    if failed_in_a_row >= spec.max_consecutive_failed_trials:
        if not running:
            last = max(trials.values(), key=lambda t: t.number)
            store.studies.finish(
                study_id, StudyStatus.failed,
                f"{failed_in_a_row} trials failed in a row; the last: {last.error}",
            )  # fmt: skip
        return
    limit = _trial_limit(spec)
    spent = record.get("spent") == "1"  # a discrete space with nothing new left to draw
    if not running and (len(trials) >= limit or spent):
        store.studies.finish(study_id, StudyStatus.completed)
        return
    if spent or len(running) >= spec.max_parallel or len(trials) >= limit:
        return
    notes = store.studies.trial_notes(study_id)
    study = _optuna_study(study_id, spec, trials, notes, reports, attrs, len(trials))
    seen = [t.hyperparameters for t in trials.values()]
    while len(running) < spec.max_parallel and len(trials) < limit:
        if not _room(store, tenant, spec.executions_per_trial):
            break  # the tenant's active-job quota is full: the reaper asks again later
        drawn = _new_values(study, spec, seen)
        if drawn is None:  # every value drawn was tried already: the space is spent
            store.studies.mark_spent(study_id)
            store.studies.want(study_id)
            break
        asked, values = drawn
        frozen = study._storage.get_trial(asked._trial_id)
        attrs_now = {k: v for k, v in _plain(frozen.system_attrs).items() if k != "search_space"}
        note = {"params": _plain(frozen.params), "system_attrs": attrs_now}
        trial = Trial(number=len(trials), status=TrialStatus.running, hyperparameters=values)
        if not store.studies.add_trial(study_id, trial, note):
            return  # another driver stepped meanwhile (a lapsed lock): its step counts
        trials[trial.number] = trial
        seen.append(values)
        trial = _follow_trial(store, settings, study_id, tenant, spec, trial, reports, submit,
                              False)  # fmt: skip
        if trial.status.finished:  # an invalid model: failed with the reason
            _failed(study, asked)
            store.studies.save_trial(study_id, trial, event=StudyEventType.trial_ended)
        else:
            store.studies.save_trial(study_id, trial)
            running.append(trial)
        trials[trial.number] = trial
        if _failed_in_a_row(list(trials.values())) >= spec.max_consecutive_failed_trials:
            store.studies.want(study_id)  # the next step ends the study
            break


def _new_values(
    study: optuna.Study, spec: StudySpec, seen: list[dict[str, Any]]
) -> tuple[optuna.Trial, dict[str, Any]] | None:
    """A trial asked of the study with values not tried yet (KerasTuner re-draws a
    repeat too); None after MAX_REPEATS repeats in a row (a small discrete space)."""
    for _ in range(MAX_REPEATS):
        asked = study.ask()
        values = sample(asked, spec)
        if values not in seen:
            return asked, values
        if not _failed(study, asked):  # in memory only: the study is rebuilt each step
            return None
    return None


def _failed(study: optuna.Study, asked: optuna.Trial) -> bool:
    """Tell the in-memory study that `asked` failed; False once a grid is exhausted (its
    sampler then asks the study to stop, which Optuna allows only inside `optimize`)."""
    try:
        study.tell(asked, state=TrialState.FAIL)
    except RuntimeError:
        return False
    return True


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
    """The trial brought up to date: its jobs read, scored once all ended, and (while it
    goes on) its missing executions submitted. A job deleted meanwhile counts as failed."""
    jobs = list(trial.jobs)
    found: list[Job | None] = []
    for job_id in jobs:
        try:
            found.append(store.jobs.get(tenant, job_id))
        except NotFound:
            found.append(None)
    epochs = sum(job.epoch for job in found if job is not None)
    intermediate = dict(reports.get(trial.number, {}))
    current = trial.model_copy(update={"epochs": epochs, "intermediate": intermediate})
    statuses = {job.status if job else JobStatus.failed for job in found}
    stopping = cancelling or bool(statuses & {JobStatus.pruned, JobStatus.failed})
    if stopping:  # no more executions; the others stop
        _stop_live(store, tenant, found)
    elif len(jobs) < spec.executions_per_trial:
        try:
            for execution in range(len(jobs), spec.executions_per_trial):
                jobs.append(_submit_trial_job(store, settings, study_id, tenant, spec, trial,
                                              execution, submit))  # fmt: skip
                found.append(store.jobs.get(tenant, jobs[-1]))
        except TooManyJobs:
            pass  # submitted when the quota has room
        except (SpecError, QuotaExceeded) as exc:
            _stop_live(store, tenant, found)  # a later execution cannot fail where one did not
            return _ended(current, jobs, TrialStatus.failed, None, exc.detail)
        current = current.model_copy(update={"jobs": jobs})
    live = [job for job in found if job is not None and not job.status.finished]
    if live or (not stopping and len(jobs) < spec.executions_per_trial):
        return current
    if cancelling:
        return _ended(current, jobs, TrialStatus.cancelled, None, "the study was cancelled")
    if any(job is None for job in found):
        return _ended(current, jobs, TrialStatus.failed, None, "a job of the trial was deleted")
    done = [job for job in found if job is not None]
    if JobStatus.pruned in statuses:
        return _ended(current, jobs, TrialStatus.pruned, None, None)
    failed = [job for job in done if job.status is JobStatus.failed]
    if failed:
        return _ended(current, jobs, TrialStatus.failed, None,
                      f"job {failed[0].id} failed: {failed[0].error}")  # fmt: skip
    if JobStatus.cancelled in statuses:
        return _ended(current, jobs, TrialStatus.cancelled, None, "a job was cancelled")
    scores = []
    for job in done:
        history = store.jobs.metrics(tenant, job.id).history.get(spec.objective.name, [])
        finite = [v for v in history if math.isfinite(v)]
        if not finite:
            return _ended(current, jobs, TrialStatus.failed, None,
                          f"job {job.id} logged no finite {spec.objective.name!r}")  # fmt: skip
        scores.append(min(finite) if spec.objective.direction == "min" else max(finite))
    return _ended(current, jobs, TrialStatus.completed, sum(scores) / len(scores), None)


def _ended(trial: Trial, jobs: list[str], status: TrialStatus, score: float | None,
           error: str | None) -> Trial:  # fmt: skip
    return trial.model_copy(update={"jobs": jobs, "status": status, "score": score,
                                    "error": error})  # fmt: skip


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
    if template is None:
        raise SpecError(f"no template for the values {trial.hyperparameters}")
    fit = template.job.get("fit")
    base_seed = fit.get("seed") if isinstance(fit, dict) else None
    seed = _seed(study_id, trial.number, execution, base_seed)
    suffix = f" #{trial.number}" + (f".{execution}" if execution else "")
    name = (spec.name or study_id)[: 128 - len(suffix)] + suffix
    try:
        job = template_job(template, trial.hyperparameters, seed)
        tags = list(dict.fromkeys([f"study:{study_id}", *spec.tags, *job.tags]))[:32]
        job = JobSpec.model_validate({
            **job.model_dump(), "name": name, "tags": tags,
            "trial": {"study": study_id, "number": trial.number, "execution": execution},
        })  # fmt: skip
    except ValidationError as exc:
        raise spec_error(exc.errors()) from None
    except KeyError as exc:
        raise SpecError(f"no value for {exc.args[0]!r} among the trial's values") from None
    created, _ = submit_job(store, tenant, job, settings, submit,
                            idempotency_key=f"{study_id}:{trial.number}:{execution}",
                            idempotency_scope="study-trials")  # fmt: skip
    return created.id


def _seed(study_id: str, number: int, execution: int, base: int | None) -> int:
    """Each execution its own seed, the same each time it is asked for."""
    digest = hashlib.sha256(f"{study_id}:{base}:{number}:{execution}".encode()).digest()
    return int.from_bytes(digest[:7], "big")


def _stop_live(store: Store, tenant: str, found: list[Job | None]) -> None:
    """Cancel the trial's jobs still queued or running (a deleted one is None)."""
    for job in found:
        if job is not None and not job.status.finished:
            try:
                store.jobs.cancel(tenant, job.id)
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
        size *= hp.grid_size()
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
    asking: int | None,
) -> optuna.Study:
    """The study as Optuna sees it, rebuilt from the records; its sampler seeded for the
    `asking`-th trial (so a rebuilt sampler does not repeat an earlier draw)."""
    # GridSampler counts a trial as visited only with the search space it was drawn from;
    # the notes leave that out (it is the spec's), so it is put back here.
    grid = {"search_space": _grid_space(spec)} if spec.algorithm.sampler == "grid" else {}
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
                system_attrs={**note.get("system_attrs", {}), **attrs.get(number, {}), **grid},
            )
        )
    return study


def _sampler(spec: StudySpec, asking: int | None) -> optuna.samplers.BaseSampler:
    """The study's sampler, seeded for the `asking`-th trial (None: only the pruner will
    be used, so the cheapest)."""
    algorithm = spec.algorithm
    if asking is None:
        return optuna.samplers.RandomSampler(seed=0)
    seed = None if algorithm.seed is None else (algorithm.seed + asking) % 2**32
    if algorithm.sampler == "grid":
        return optuna.samplers.GridSampler(_grid_space(spec), seed=algorithm.seed)
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
    most = max(_epochs(t.job) for t in spec.templates)
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


def _grid_space(spec: StudySpec) -> dict[str, list[Any]]:
    """The grid's values of each hyperparameter drawn (StudySpec bounds their count)."""
    return {hp.name: hp.grid() for hp in spec.space if not isinstance(hp, FixedHp)}


def _epochs(job: dict[str, Any]) -> int:
    """A template's `fit.epochs` (a number: StudySpec refuses a placeholder with a pruner)."""
    fit = job.get("fit")
    epochs = fit.get("epochs", 1) if isinstance(fit, dict) else 1
    return epochs if isinstance(epochs, int) and epochs > 0 else 1


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
    study = _optuna_study(ref.study, spec, trials, notes, reports, attrs, None)
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
