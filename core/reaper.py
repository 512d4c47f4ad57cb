"""The reaper: one elected process gives lost jobs back to the queue.

Every `reaper_interval_seconds`, each process that runs a reaper (the API and every
worker) tries to hold the reaper's office in Redis; the one that holds it looks for
running jobs whose lease expired (their worker died, stalled or lost Redis for longer
than the lease) and requeues them — or fails them after `max_attempts` — and sends
the task again for queued jobs whose task may never have reached the broker, and
deletes the objects the fenced scripts dropped that their worker did not delete, and
(with `CORNU_RETENTION_DAYS`) sweeps the jobs and datasets the retention lets go, and
asks each running hyperparameter study for a step.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable

from cornu.core.config import Settings
from cornu.core.errors import ServiceUnavailable
from cornu.core.spec.resources import ReaperOutcome
from cornu.core.store import UNAVAILABLE, Store

log = logging.getLogger(__name__)


class Reaper(threading.Thread):
    def __init__(
        self,
        store: Store,
        settings: Settings,
        enqueue: Callable[[str], None],
        poke_study: Callable[..., None] | None = None,
    ) -> None:
        super().__init__(name="cornu-reaper", daemon=True)
        self.store, self.settings, self.enqueue = store, settings, enqueue
        self.poke_study = poke_study
        self.node = f"{socket.gethostname()}:{os.getpid()}"
        self._stop_event = threading.Event()
        self._swept_at = -math.inf  # monotonic time of the last retention sweep

    def run(self) -> None:
        while not self._stop_event.wait(self.settings.reaper_interval_seconds):
            try:
                self.step()
            except UNAVAILABLE:
                log.debug("reaper: Redis unreachable; trying again next round")

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)

    def step(self) -> dict[str, ReaperOutcome]:
        """One round (if elected): `{job id: what was done}`."""
        ttl_ms = int(self.settings.reaper_interval_seconds * 3000)
        if not self.store.runs.elect(self.node, ttl_ms):
            return {}
        done: dict[str, ReaperOutcome] = {}
        for job_id in self.store.runs.expired():
            outcome = self.store.runs.requeue(job_id, self.settings.max_attempts)
            if outcome is ReaperOutcome.requeued:
                log.warning("reaper: job %s lost its worker; requeued", job_id)
                self._dispatch(job_id)
            elif outcome in (ReaperOutcome.failed, ReaperOutcome.cancelled):
                log.warning("reaper: job %s lost its worker; %s", job_id, outcome)
            done[job_id] = outcome
        grace_ms = int(self.settings.dispatch_grace_seconds * 1000)
        for job_id in self.store.runs.undispatched(grace_ms):
            self._dispatch(job_id)
            done.setdefault(job_id, ReaperOutcome.dispatched)
        # Objects dropped by a worker that died before it could, and dataset objects an
        # API killed mid-upload never recorded.
        self.store.blobs.collect(self.settings.blob_pending_seconds)
        self._retention()
        self.store.uploads.sweep()  # unfinished uploads past their TTL: their parts go
        self._poke_studies()
        return done

    def _poke_studies(self) -> None:
        """A step of each running study: one whose step message was lost goes on, and
        trials held back by a full active-job quota are submitted once it has room."""
        if self.poke_study is None:
            return
        for study_id in self.store.studies.running():
            try:
                self.poke_study(study_id, force=True)  # its last task may be lost
            except ServiceUnavailable:
                log.warning("reaper: broker unreachable; study %s gets its step next round",
                            study_id)  # fmt: skip
                return

    def _retention(self) -> None:
        """With `retention_days`, a sweep (`Lifecycle.sweep`) every tenth of the period,
        at most hourly: what it deletes is late by at most that."""
        if self.settings.retention_days is None:
            return
        retention_s = self.settings.retention_days * 86400
        if time.monotonic() - self._swept_at < min(retention_s / 10, 3600):
            return
        self._swept_at = time.monotonic()
        for kind, ids in vars(self.store.lifecycle.sweep(retention_s)).items():
            for found in ids:
                log.info("reaper: retention deleted %s %s", kind.rstrip("s"), found)

    def _dispatch(self, job_id: str) -> None:
        try:
            self.enqueue(job_id)
        except ServiceUnavailable:
            log.warning("reaper: broker unreachable; job %s will be sent next round", job_id)
            return
        self.store.jobs.dispatched(job_id)
