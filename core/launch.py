"""The server's commands on the `cornu` command line: `up`, `api`, `worker`, `keys create`
/ `list` / `revoke`, `quota show` / `set`, `migrate-blobs`.

They run the service's roles, so they need the `server` extra (torch, Celery, Redis,
FastAPI). This module imports none of those at import time: the SDK's `cornu` command
lists these commands in every install, and an SDK-only install that runs one is told
what to install instead of being shown an ImportError.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

# What the server roles import; any one missing means the extra is not installed.
SERVER_MODULES = ("celery", "fastapi", "redis", "torch", "uvicorn")


def require_server() -> None:
    """Exit with an instruction when the `server` extra is not installed."""
    missing = [name for name in SERVER_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        typer.echo(
            f"cornu: this command runs the service, which needs {', '.join(missing)}; "
            "install Cornu with its server extra: pip install 'cornu[server]'",
            err=True,
        )
        raise typer.Exit(2)


def up(
    host: Annotated[str, typer.Option(help="address the API listens on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port of the API")] = 8000,
    home: Annotated[
        Path | None, typer.Option(help="data directory (default: CORNU_HOME, else ~/.cornu)")
    ] = None,
) -> None:
    """Redis, one worker and the API on this machine; Ctrl-C stops them all."""
    require_server()
    from cornu.core.config import get_settings
    from cornu.core.embedded import stack

    home = (home or get_settings().home_dir).expanduser()
    # SIGTERM (docker stop, kill) stops the stack as Ctrl-C does, and so does SIGINT
    # even where a shell started us with it ignored (`cornu up &`).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with stack(home, host, port) as running:
            typer.echo(f"Cornu is up at {running.url} (docs at {running.url}/docs)")
            typer.echo(f"Redis: {running.redis_url}; data under {home}")
            typer.echo(f"API key (also in {home / 'api_key'}):")
            typer.echo(running.api_key)
            stopped = running.wait()
            typer.echo(f"cornu: the {stopped} process exited; stopping the stack", err=True)
            raise typer.Exit(1)
    except KeyboardInterrupt:
        typer.echo("cornu: stopped")


def api(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="processes serving the port (uvicorn's workers)")
    ] = 1,
) -> None:
    """The HTTP API (uvicorn), against CORNU_REDIS_URL. With `--workers N`, N processes
    share the port (each its own reaper candidate, Redis pools and stream slots)."""
    require_server()
    import uvicorn

    uvicorn.run(
        "cornu.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_level=log_level,
        workers=workers,
    )


def worker(
    queues: Annotated[
        str,
        typer.Option(
            help="comma-separated queues (default: CORNU_QUEUE and CORNU_INFERENCE_QUEUE, "
            "training and evaluate/predict/export)"
        ),
    ] = "",
    concurrency: Annotated[
        int, typer.Option(min=1, help="jobs at once; 1 (one per GPU) uses Celery's solo pool")
    ] = 1,
    loglevel: Annotated[str, typer.Option(help="Celery log level")] = "INFO",
    accelerator: Annotated[
        str | None,
        typer.Option(
            help="this worker's accelerator class, which jobs ask for in `resources` "
            "(default: CORNU_ACCELERATOR, else its device's name: cpu, nvidia-h200, …)"
        ),
    ] = None,
    slots: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="training processes sharing this host's device: each takes a job when "
            "its estimated memory fits what the others leave (default: CORNU_WORKER_SLOTS, 1)",
        ),
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65535,
            help="serve the training worker's Prometheus metrics (epoch and batch times, "
            "jobs ended, GPU use) on this port (default: CORNU_WORKER_METRICS_PORT, off)",
        ),
    ] = None,
) -> None:
    """A worker (Celery): trains jobs, and runs their evaluate, predict and export; against
    CORNU_REDIS_URL. It joins the fleet registry with its accelerator class, and takes the
    jobs that ask for that class as well as those that ask for any."""
    require_server()
    from cornu.core.config import get_settings
    from cornu.core.fleet import detect
    from cornu.core.queue import accelerator_queue
    from cornu.core.runner import default_device
    from cornu.worker.main import LOG_FORMAT, children_for, supervise

    if accelerator is not None:
        os.environ["CORNU_ACCELERATOR"] = accelerator
    if metrics_port is not None:
        os.environ["CORNU_WORKER_METRICS_PORT"] = str(metrics_port)
    if slots is not None:
        os.environ["CORNU_WORKER_SLOTS"] = str(slots)
    if accelerator is not None or metrics_port is not None or slots is not None:
        get_settings.cache_clear()
    settings = get_settings()  # checks the name
    name = detect(default_device(settings), settings.accelerator)[0]
    os.environ["CORNU_ACCELERATOR"] = name  # the children register and route by it
    queue = queues or f"{settings.queue},{settings.inference_queue}"
    if concurrency == 1:
        stop_s = settings.worker_stop_seconds
        children = children_for(queue.split(","), accelerator=name, slots=settings.worker_slots)
        raise typer.Exit(supervise(children, loglevel, stop_s))
    # Several jobs at once: Celery's prefork pool recycles its children itself.
    from cornu.worker.app import app as celery_app

    logging.basicConfig(level=loglevel.upper(), format=LOG_FORMAT)
    celery_app.worker_main(
        [
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            f"--max-tasks-per-child={settings.worker_max_jobs}",
            f"--queues={queue},{accelerator_queue(settings.queue, name)}",
            f"--loglevel={loglevel}",
        ]
    )


def create_key(
    tenant: Annotated[str, typer.Argument(help="tenant the key belongs to")],
    expires_days: Annotated[
        float | None, typer.Option(min=0.0001, help="the key stops working after this many days")
    ] = None,
    read_only: Annotated[bool, typer.Option(help="the key may only read (GET)")] = False,
    admin: Annotated[
        bool, typer.Option(help="the key may also use the admin API (every tenant's keys)")
    ] = False,
) -> None:
    """Create an API key for TENANT; the key is printed alone on the last line."""
    require_server()
    from datetime import UTC, datetime, timedelta

    from cornu.core.errors import CornuError

    expires_at = datetime.now(UTC) + timedelta(days=expires_days) if expires_days else None
    if admin and read_only:
        raise typer.BadParameter("a key is --admin or --read-only, not both")
    scope = "admin" if admin else "read-only" if read_only else "read-write"
    with _store() as store:
        try:
            key, info = store.tenants.issue(tenant, expires_at=expires_at, scope=scope)
        except CornuError as exc:
            raise typer.BadParameter(exc.detail) from None
    until = f", until {info.expires_at}" if info.expires_at else ""
    typer.echo(f"API key {info.id} for tenant {tenant!r}, {scope}{until} (shown once; Cornu "
               "keeps only its hash):")  # fmt: skip
    typer.echo(key)


def list_keys(
    tenant: Annotated[str | None, typer.Argument(help="only this tenant's keys")] = None,
) -> None:
    """List API keys: id, tenant, scope, created, expires, and the key's first characters
    (never the key: Cornu keeps only its hash)."""
    require_server()
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    with _store() as store:
        found = store.tenants.list_keys(tenant)
    typer.echo(f"{'ID':<30}  {'TENANT':<20}  {'SCOPE':<10}  {'KEY':<12}  {'CREATED':<19}  EXPIRES")
    for key in found:
        expires = (key.expires_at or "never")[:19] + (" (expired)" if key.expired(now) else "")
        typer.echo(f"{key.id:<30}  {key.tenant:<20}  {key.scope:<10}  {key.hint + '…':<12}  "
                   f"{key.created_at[:19]:<19}  {expires}")  # fmt: skip


def revoke_key(
    key_id: Annotated[str, typer.Argument(help="the key's id (cornu keys list)")],
) -> None:
    """Revoke an API key: it is refused from its next request on."""
    require_server()
    from cornu.core.errors import NotFound

    with _store() as store:
        try:
            info = store.tenants.revoke(key_id)
        except NotFound as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"revoked {info.id} ({info.hint}…, tenant {info.tenant!r})")


# The fields of `cornu.core.spec.Quota` (not imported here: see the module's docstring).
QUOTA_NAMES = (
    "stored_bytes", "datasets", "jobs_kept", "active_jobs", "streams", "requests_per_second",
    "request_burst",
)  # fmt: skip


def show_quota(tenant: Annotated[str, typer.Argument(help="the tenant")]) -> None:
    """A tenant's usage next to its quota."""
    require_server()
    with _store() as store:
        usage = store.quotas.usage(tenant)
    _print_usage(usage)


def set_quota(
    tenant: Annotated[str, typer.Argument(help="the tenant")],
    values: Annotated[
        list[str],
        typer.Argument(
            metavar="NAME=VALUE...",
            help=f"quota fields ({', '.join(QUOTA_NAMES)}); NAME=default: the service's",
        ),
    ],
) -> None:
    """Set some of a tenant's quota, in force from its next request."""
    require_server()
    from pydantic import ValidationError

    from cornu.core.spec import QuotaChange

    change: dict[str, str | None] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or name not in QUOTA_NAMES:
            names = ", ".join(QUOTA_NAMES)
            raise typer.BadParameter(f"{item!r}: write NAME=VALUE, NAME one of {names}")
        change[name] = None if value == "default" else value
    try:
        parsed = QuotaChange.model_validate(change)
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from None
    with _store() as store:
        store.quotas.set(tenant, parsed)
        usage = store.quotas.usage(tenant)
    _print_usage(usage)


def _print_usage(usage: Any) -> None:
    typer.echo(f"tenant {usage.tenant}")
    typer.echo(f"{'':<20}  {'USED':>16}  {'QUOTA':>16}")
    for name, value in usage.quota.model_dump().items():
        used = getattr(usage, name, "")
        typer.echo(f"{name:<20}  {used!s:>16}  {value!s:>16}")
    typer.echo(f"{'compute_seconds':<20}  {usage.compute_seconds!s:>16}")


@contextlib.contextmanager
def _store() -> Iterator[Any]:
    from cornu.core.config import get_settings
    from cornu.core.store import Store

    store = Store.from_settings(get_settings())
    try:
        yield store
    finally:
        store.close()


def migrate_blobs(
    delete_unreferenced: Annotated[
        bool,
        typer.Option(help="also delete Redis blobs no record names (left over by crashes)"),
    ] = False,
    quiet: Annotated[bool, typer.Option(help="print only the totals")] = False,
) -> None:
    """Move the datasets, weights and checkpoints an older Cornu kept in Redis
    (CORNU_REDIS_URL) into the blob store (CORNU_BLOB_URL), and point their records at
    them. Safe to run while the service runs, and to run again."""
    require_server()
    from cornu.core.config import get_settings
    from cornu.core.store import Store
    from cornu.core.store.migrate import migrate_blobs as migrate

    settings = get_settings()
    store = Store.from_settings(settings)
    try:
        typer.echo(f"moving Redis blobs to {store.blobs.store.url}")
        counts = migrate(
            store,
            delete_unreferenced=delete_unreferenced,
            progress=(lambda _: None) if quiet else typer.echo,
        )
    finally:
        store.close()
    moved = counts.pop("bytes", 0)
    summary = ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "nothing to move"
    typer.echo(f"{summary}; {moved} bytes moved")


def register(app: typer.Typer) -> None:
    """Add the server's commands to the `cornu` command line."""
    for command in (up, api, worker):
        app.command()(command)
    app.command("migrate-blobs")(migrate_blobs)
    keys = typer.Typer(help="API keys (server side: needs the server extra).", no_args_is_help=True)
    keys.command("create")(create_key)
    keys.command("list")(list_keys)
    keys.command("revoke")(revoke_key)
    app.add_typer(keys, name="keys")
    quota = typer.Typer(help="Tenants' quotas (server side).", no_args_is_help=True)
    quota.command("show")(show_quota)
    quota.command("set")(set_quota)
    app.add_typer(quota, name="quota")
