"""Studies' records: the spec, each trial, the per-epoch reports and the live feed.

One writer per part: the API creates and cancels a study; its driver (`core.studies`,
one step at a time under the study's lock) writes the trials and the status; the worker
training a trial's first job writes that trial's reports (its objective after each epoch
and what the pruner noted). Trials are plain JSON in one hash: a study holds at most
`MAX_TRIALS` of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from redis.lock import Lock

from cornu.core.errors import Conflict, NotFound
from cornu.core.spec.study import (
    BestTrial,
    Study,
    StudyEventType,
    StudyPage,
    StudySpec,
    StudyStatus,
    StudySummary,
    Trial,
    TrialStatus,
)
from cornu.core.store import keys
from cornu.core.store.jobs import now_iso, page_range
from cornu.core.store.lua import FEED_MAXLEN
from cornu.core.store.values import text, text_fields

LOCK_TIMEOUT_S = 300.0  # a step's longest run: a driver that died frees the study by then


class Studies:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    # -- records (the API) -----------------------------------------------------------

    def create(self, tenant: str, study_id: str, spec: StudySpec, max_running: int) -> None:
        """Record a running study; Conflict when the tenant runs `max_running` already."""
        running = self.running_of(tenant)
        if len(running) >= max_running:
            raise Conflict(
                f"this tenant runs {max_running} studies already, the most it may; wait for "
                "one to finish or cancel one"
            )
        pipe = self.redis.pipeline()
        pipe.hset(
            keys.study(study_id),
            mapping={
                "tenant": tenant,
                "status": StudyStatus.running.value,
                "spec": spec.model_dump_json(),
                "created_at": now_iso(),
                "wanted": 1,
            },
        )
        pipe.zadd(keys.tenant_studies(tenant), {study_id: 0})
        pipe.sadd(keys.studies_running(), study_id)
        pipe.execute()
        self.event(study_id, StudyEventType.created, {"id": study_id})

    def running_of(self, tenant: str) -> list[str]:
        ids = [str(text(i)) for i in self.redis.smembers(keys.studies_running())]
        pipe = self.redis.pipeline(transaction=False)
        for study_id in ids:
            pipe.hget(keys.study(study_id), "tenant")
        return [i for i, t in zip(ids, pipe.execute(), strict=True) if text(t) == tenant]

    def record(self, study_id: str) -> dict[str, str]:
        """The study's hash (empty if it does not exist)."""
        return text_fields(self.redis.hgetall(keys.study(study_id)))

    def owned(self, tenant: str, study_id: str) -> dict[str, str]:
        """The study's hash if it is `tenant`'s; NotFound otherwise (never 403)."""
        record = self.record(study_id)
        if record.get("tenant") != tenant:
            raise NotFound(f"no study {study_id!r}")
        return record

    def spec(self, study_id: str) -> StudySpec:
        return StudySpec.model_validate_json(self.record(study_id)["spec"])

    def get(self, tenant: str, study_id: str) -> Study:
        """The study as the API shows it: every trial, the best, the compute it took."""
        record = self.owned(tenant, study_id)
        spec = StudySpec.model_validate_json(record["spec"])
        trials = self.trials(study_id)
        return Study(
            id=study_id,
            name=spec.name,
            tags=spec.tags,
            status=StudyStatus(record["status"]),
            objective=spec.objective,
            algorithm=spec.algorithm,
            max_trials=spec.max_trials,
            max_parallel=spec.max_parallel,
            executions_per_trial=spec.executions_per_trial,
            trials=trials,
            best=best_of(trials, spec.objective.direction),
            epochs=sum(t.epochs for t in trials),
            run_seconds=float(record.get("run_seconds") or 0.0),
            error=record.get("error") or None,
            created_at=record["created_at"],
            finished_at=record.get("finished_at") or None,
        )

    def page(self, tenant: str, limit: int, cursor: str | None = None) -> StudyPage:
        """The tenant's studies, newest first (counts and best score as the driver's last
        step left them)."""
        found = self.redis.zrevrangebylex(keys.tenant_studies(tenant), *page_range(cursor, limit))
        ids = [str(text(i)) for i in found]
        more, ids = len(ids) > limit, ids[:limit]
        pipe = self.redis.pipeline(transaction=False)
        for study_id in ids:
            pipe.hmget(keys.study(study_id), ["status", "spec", "created_at", "trials", "best"])
        studies = []
        for study_id, fields in zip(ids, pipe.execute(), strict=True):
            status, spec_json, created, trials, best = (text(f) for f in fields)
            if status is None or spec_json is None:
                continue  # deleted meanwhile
            spec = StudySpec.model_validate_json(spec_json)
            studies.append(StudySummary(
                id=study_id, name=spec.name, status=StudyStatus(status),
                objective=spec.objective, trials=int(trials or 0),
                best_score=float(best) if best else None, created_at=str(created),
            ))  # fmt: skip
        return StudyPage(studies=studies, next_cursor=ids[-1] if more and ids else None)

    def cancel(self, tenant: str, study_id: str) -> None:
        """Mark the study cancelled (its driver stops its trials' jobs); Conflict once it
        has finished otherwise."""
        record = self.owned(tenant, study_id)
        status = StudyStatus(record["status"])
        if status is StudyStatus.cancelled:
            return
        if status.finished:
            raise Conflict(f"study {study_id} has {status.value} already")
        self.redis.hset(keys.study(study_id), mapping={"cancel": 1, "wanted": 1})

    def delete(self, tenant: str, study_id: str) -> None:
        """Forget a finished study (its trials' jobs stay, as the tenant's jobs)."""
        record = self.owned(tenant, study_id)
        if not StudyStatus(record["status"]).finished:
            raise Conflict(f"study {study_id} is running; cancel it first")
        pipe = self.redis.pipeline()
        pipe.delete(
            keys.study(study_id),
            keys.study_trials(study_id),
            keys.study_reports(study_id),
            keys.study_feed(study_id),
        )
        pipe.zrem(keys.tenant_studies(tenant), study_id)
        pipe.execute()

    # -- the driver ------------------------------------------------------------------

    def want(self, study_id: str) -> bool:
        """Ask for a step of the study (whoever holds its lock next takes it): whether
        none was asked for already. A study deleted meanwhile is not brought back."""
        if not self.redis.exists(keys.study(study_id)):
            return False
        return bool(self.redis.hsetnx(keys.study(study_id), "wanted", 1))

    def take_want(self, study_id: str) -> bool:
        """Whether a step was asked for since the last one (and clear the ask)."""
        return bool(self.redis.hdel(keys.study(study_id), "wanted"))

    @contextmanager
    def lock(self, study_id: str) -> Iterator[Lock | None]:
        """Hold the study's lock if it is free (None if another holds it). The holder
        renews it (`Lock.reacquire`) before each step and writes only while it owns it."""
        lock = self.redis.lock(keys.study_lock(study_id), timeout=LOCK_TIMEOUT_S, blocking=False)
        held = lock.acquire()
        try:
            yield lock if held else None
        finally:
            if held:
                try:
                    lock.release()
                except redis.exceptions.LockError:
                    pass  # it lapsed (a very long step): the next holder goes on

    def running(self) -> list[str]:
        return [str(text(i)) for i in self.redis.smembers(keys.studies_running())]

    def trials(self, study_id: str) -> list[Trial]:
        found = self.redis.hgetall(keys.study_trials(study_id))
        trials = [Trial.model_validate_json(v) for v in found.values()]
        return sorted(trials, key=lambda t: t.number)

    def trial_notes(self, study_id: str) -> dict[int, dict[str, Any]]:
        """The driver's own notes on each trial (Optuna's params and attributes)."""
        found = text_fields(self.redis.hgetall(keys.study_notes(study_id)))
        return {int(k): json.loads(v) for k, v in found.items()}

    def add_trial(self, study_id: str, trial: Trial, notes: dict[str, Any]) -> bool:
        """Record a new trial and the driver's notes on it, unless a trial of that number
        exists (a second driver got there first): whether it was recorded."""
        fresh = self.redis.hsetnx(
            keys.study_trials(study_id), str(trial.number), trial.model_dump_json()
        )
        if not fresh:
            return False
        self.redis.hset(keys.study_notes(study_id), str(trial.number), json.dumps(notes))
        self.event(study_id, StudyEventType.trial_started, _event_of(trial))
        return True

    def save_trial(self, study_id: str, trial: Trial, event: StudyEventType | None = None) -> None:
        """Write a trial, with a feed event if given."""
        self.redis.hset(keys.study_trials(study_id), str(trial.number), trial.model_dump_json())
        if event is not None:
            self.event(study_id, event, _event_of(trial))

    def summarize(self, study_id: str, trials: int, best: float | None, run_seconds: float) -> None:
        """What the list shows without reading every trial, and the compute so far."""
        self.redis.hset(
            keys.study(study_id),
            mapping={
                "trials": trials,
                "best": "" if best is None else repr(best),
                "run_seconds": f"{run_seconds:.3f}",
            },
        )

    def mark_spent(self, study_id: str) -> None:
        """Every value a discrete space holds was tried: the study ends with its trials."""
        self.redis.hset(keys.study(study_id), "spent", 1)

    def failed_step(self, study_id: str, failed: bool = True) -> int:
        """Count a step that failed (or, `failed=False`, one that went through: the count
        starts over); how many have failed in a row."""
        if not failed:
            self.redis.hdel(keys.study(study_id), "failed_steps")
            return 0
        return int(self.redis.hincrby(keys.study(study_id), "failed_steps", 1))

    def finish(self, study_id: str, status: StudyStatus, error: str | None = None) -> None:
        pipe = self.redis.pipeline()
        pipe.hset(
            keys.study(study_id),
            mapping={
                "status": status.value,
                "finished_at": now_iso(),
                "error": error or "",
            },
        )
        pipe.srem(keys.studies_running(), study_id)
        pipe.execute()
        self.event(study_id, status.value, {"error": error} if error else {})

    def event(self, study_id: str, name: str, data: dict[str, Any]) -> None:
        self.redis.xadd(
            keys.study_feed(study_id),
            {"event": name, "data": json.dumps(data)},
            maxlen=FEED_MAXLEN,
            approximate=True,
        )

    # -- the worker training a trial -------------------------------------------------

    def report(self, study_id: str, number: int, epoch: int, value: float) -> None:
        """The trial's objective after `epoch` (1-based)."""
        self.redis.hset(keys.study_reports(study_id), f"{number}:{epoch}", repr(value))

    def note_attrs(self, study_id: str, number: int, attrs: dict[str, Any]) -> None:
        self.redis.hset(keys.study_reports(study_id), f"{number}:attrs", json.dumps(attrs))

    def reports(self, study_id: str) -> tuple[dict[int, dict[int, float]], dict[int, dict]]:
        """Each trial's objective by epoch, and the pruner's notes on each trial."""
        values: dict[int, dict[int, float]] = {}
        attrs: dict[int, dict] = {}
        for key, value in text_fields(self.redis.hgetall(keys.study_reports(study_id))).items():
            number, what = key.split(":")
            if what == "attrs":
                attrs[int(number)] = json.loads(value)
            else:
                values.setdefault(int(number), {})[int(what)] = float(value)
        return values, attrs


def _event_of(trial: Trial) -> dict[str, Any]:
    """A trial as its feed event carries it: its last epoch's objective, not every one."""
    data: dict[str, Any] = json.loads(trial.model_dump_json(exclude={"intermediate"}))
    if trial.intermediate:
        epoch = max(trial.intermediate)
        data["last"] = {"epoch": epoch, "value": trial.intermediate[epoch]}
    return data


def best_of(trials: list[Trial], direction: str) -> BestTrial | None:
    """The completed trial with the best score (the first of equals)."""
    scored = [t for t in trials if t.status is TrialStatus.completed and t.score is not None]
    if not scored:
        return None
    pick = min if direction == "min" else max
    best = pick(scored, key=lambda t: t.score)  # type: ignore[arg-type,return-value]
    assert best.score is not None
    return BestTrial(
        number=best.number, score=best.score, hyperparameters=best.hyperparameters, jobs=best.jobs
    )
