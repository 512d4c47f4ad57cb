"""Submitting jobs (the API's side): check completely, record, queue — once per
Idempotency-Key. Running them is `core.runner`'s; giving lost ones back, `core.reaper`'s.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from cornu.core.config import Settings
from cornu.core.engine import plan_job
from cornu.core.engine.memory import data_bytes, estimate_bytes
from cornu.core.engine.plan import Plan, stateful_layers
from cornu.core.engine.weight_checks import check_initial_weights, check_keras_weights
from cornu.core.errors import NotFound, ServiceUnavailable, SpecError
from cornu.core.ids import new_id
from cornu.core.spec import Job, JobEventType, JobSpec
from cornu.core.store import Store
from cornu.core.store.fleet import AcceleratorClass, describe

log = logging.getLogger(__name__)

IDEMPOTENCY_SCOPE = "jobs"


def check_limits(spec: JobSpec, plan: Plan, settings: Settings) -> None:
    """The service's configured bounds on what one job may ask for."""
    asked = [
        (("fit", "epochs"), "epochs", spec.fit.epochs, settings.max_epochs),
        (("fit", "batch_size"), "batch_size", spec.fit.batch_size, settings.max_batch_size),
        (("model", "layers"), "layers", len(spec.model.layers), settings.max_layers),
        (("model",), "parameters", plan.params, settings.max_params),
    ]
    for loc, what, value, limit in asked:
        if value > limit:
            raise SpecError(f"{what}: {value} is more than this service allows ({limit})", loc)


def check_resources(spec: JobSpec, store: Store, settings: Settings) -> str | None:
    """SpecError for `resources` no accelerator class of the fleet could ever serve
    (the message lists the classes), or a `max_cost` where no class has a price; else a
    note for the job's events when none of the asked-for class is up right now (it waits
    queued), or None."""
    asked = spec.resources
    if asked.max_cost is not None and not settings.prices:
        raise SpecError(
            "max_cost: this service sets no price per device-hour (CORNU_PRICES), so a job's "
            "cost is not counted; use max_device_hours",
            ("resources", "max_cost"),
        )
    if asked.devices > 1:
        _check_data_parallel(spec)
    if asked.accelerator == "any" and not asked.min_memory_gb and asked.devices == 1:
        return None
    classes = store.fleet.classes()
    if not classes:
        return "no worker has registered with the fleet yet; the job waits for one"
    if asked.accelerator != "any" and asked.accelerator not in classes:
        raise SpecError(
            f"no worker class {asked.accelerator!r}; this fleet has: {describe(classes)}",
            ("resources", "accelerator"),
        )
    named = [classes[asked.accelerator]] if asked.accelerator != "any" else list(classes.values())
    needs: list[tuple[str, str, Callable[[AcceleratorClass], bool]]] = []
    if asked.min_memory_gb:
        needs.append(("min_memory_gb", f"min_memory_gb {asked.min_memory_gb:g}",
                      lambda c: c.memory_gb >= asked.min_memory_gb))  # fmt: skip
    if asked.devices > 1:
        needs.append(("devices", f"devices {asked.devices}", lambda c: c.devices >= asked.devices))
    fitting = named
    for field, what, fits in needs:
        fitting = [c for c in fitting if fits(c)]
        if not fitting:
            raise SpecError(
                f"{what} is more than any worker class has; this fleet has: {describe(classes)}",
                ("resources", field),
            )
    if len(fitting) < len(named):  # "any" would also reach workers that cannot serve it
        raise SpecError(
            f"{' and '.join(what for _, what, _ in needs)} is met only by "
            f"{', '.join(c.name for c in fitting)}: ask for one of them as the accelerator",
            ("resources", "accelerator"),
        )
    if asked.accelerator != "any" and not fitting[0].workers:
        return f"no {asked.accelerator} worker is up right now; the job waits queued for one"
    return None


def _check_data_parallel(spec: JobSpec) -> None:
    """What `resources.devices` above 1 cannot train: a global batch smaller than the
    devices (a replica would have no part of it), and stateful recurrent layers (their
    carried states belong to one replica's rows of the batch)."""
    devices = spec.resources.devices
    if spec.fit.batch_size < devices:
        raise SpecError(
            f"batch_size {spec.fit.batch_size} is smaller than devices {devices}: the batch "
            "is split across the devices (MirroredStrategy's global batch)",
            ("fit", "batch_size"),
        )
    stateful = stateful_layers(spec.model)
    if stateful:
        raise SpecError(
            f"stateful recurrent layers ({', '.join(stateful)}) train on one device: their "
            "carried states follow the rows of one batch, which devices > 1 splits",
            ("resources", "devices"),
        )


def _check_initial_weights(
    store: Store, tenant: str, given: str | dict[str, str], plan: Plan
) -> None:
    if isinstance(given, dict):  # Keras's weights, uploaded as datasets
        shapes = store.datasets.shapes(tenant, given.values())
        missing = sorted(name for name, d in given.items() if d not in shapes)
        if missing:
            raise SpecError(
                f"initial_weights: no dataset for {', '.join(missing)}; upload them first",
                ("fit", "initial_weights"),
            )
        check_keras_weights(plan, {name: shapes[d] for name, d in given.items()})
        return
    try:
        shapes = store.jobs.trained_shapes(tenant, given)
    except NotFound as exc:
        hint = "initial_weights names a job of yours that succeeded"
        raise SpecError(f"{exc.detail}; {hint}", ("fit", "initial_weights")) from None
    check_initial_weights(plan, given, shapes)


def ack_epoch(
    store: Store, tenant: str, job_id: str, epoch: int, learning_rate: float | None
) -> None:
    """The client's callbacks are done with epoch `epoch`, having set `learning_rate`
    (if not None). SpecError for a rate when the job's optimizer follows a schedule
    (Keras: such a rate is not settable); Conflict once the job has finished."""
    if learning_rate is not None:
        store.jobs.get(tenant, job_id)  # the tenant's, or NotFound
        compiled = store.jobs.spec(job_id).compile
        if compiled is not None and compiled.optimizer.has_schedule:
            raise SpecError(
                "learning_rate: the job's optimizer follows a learning-rate schedule, so "
                "its rate cannot be set (as in Keras)",
                ("learning_rate",),
            )
    store.jobs.ack_epoch(tenant, job_id, epoch, learning_rate)


def submit_job(
    store: Store,
    tenant: str,
    spec: JobSpec,
    settings: Settings,
    enqueue: Callable[[str], None],
    idempotency_key: str | None = None,
    run_inline: Callable[[str], object] | None = None,
    idempotency_scope: str = IDEMPOTENCY_SCOPE,
) -> tuple[Job, bool]:
    """Check `spec` against the tenant's datasets and limits, record it, queue it.

    Returns the job and whether it is new: with an `idempotency_key` already used for
    the same spec, the original job comes back (and a different spec is a Conflict).

    A job with `fit.epochs: 0` only builds the model and stores its initial weights
    (what Keras's `get_weights()` on a fresh model, or `set_weights()`, needs): no data.
    With `run_inline`, one of at most `max_inline_params` runs at once in the caller's
    process, so such a request never waits behind training jobs for a worker; the job
    comes back finished. It stays on the dispatch list until then: should that process
    die mid-way, the reaper sends it to a worker as it does any job the broker lost.
    `idempotency_scope` keeps the keys of the service's own submissions (a study's
    trials) apart from the keys clients send.
    """
    fingerprint = hashlib.sha256(spec.model_dump_json().encode()).hexdigest()
    if idempotency_key is not None:
        existing = store.idempotency.begin(tenant, idempotency_scope, idempotency_key, fingerprint)
        if existing is not None:
            return store.jobs.get(tenant, existing), False
    try:
        shapes = store.datasets.shapes(tenant, spec.dataset_ids())
        plan = plan_job(spec, shapes)
        check_limits(spec, plan, settings)
        waiting = check_resources(spec, store, settings)
        if spec.fit.initial_weights is not None:
            _check_initial_weights(store, tenant, spec.fit.initial_weights, plan)
        quota = store.quotas.get(tenant)
        job = store.jobs.create(
            tenant,
            new_id("job"),
            spec,
            max_active=quota.active_jobs,
            max_kept=quota.jobs_kept,
            verify=True,
            memory_bytes=estimate_bytes(spec, plan, data_bytes(shapes)),
        )
    except BaseException:
        if idempotency_key is not None:
            store.idempotency.abandon(tenant, idempotency_scope, idempotency_key)
        raise
    if idempotency_key is not None:
        store.idempotency.complete(tenant, idempotency_scope, idempotency_key, fingerprint, job.id)
    for text in spec.model.warnings():  # what Keras would warn about while reading the model
        store.runs.note(job.id, JobEventType.warning, text=text)
    if waiting is not None:
        store.runs.note(job.id, JobEventType.waiting_for_worker, detail=waiting)
    if (
        run_inline is not None
        and spec.fit.epochs == 0
        and plan.params <= settings.max_inline_params
    ):
        run_inline(job.id)
        store.jobs.dispatched(job.id)
        return store.jobs.get(tenant, job.id), True
    try:
        enqueue(job.id)
        store.jobs.dispatched(job.id)
    except ServiceUnavailable:
        # The job is recorded and marked undispatched: the reaper sends it when it can.
        log.warning("job %s recorded but not sent to the broker yet", job.id)
    return job, True
