"""The `cornu` command: run the service, manage API keys, and train through the service.

`cornu up` runs everything on one machine; `cornu api` and `cornu worker` run one
role each against `CORNU_REDIS_URL` (what docker-compose and multi-machine setups use);
`cornu keys create` makes an API key.

The client commands (`submit`, `jobs`, `status`, `logs`, `cancel`, `download`,
`summary`) and their exit codes are in `cornu.commands`.
"""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Cornu: Keras-style deep learning as a service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@app.command()
def up(
    host: Annotated[str, typer.Option(help="address the API listens on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port of the API")] = 8000,
    home: Annotated[
        Path | None, typer.Option(help="data directory (default: CORNU_HOME, else ~/.cornu)")
    ] = None,
) -> None:
    """Redis, one worker and the API on this machine; Ctrl-C stops them all."""
    from core.config import get_settings
    from cornu.embedded import stack

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


@app.command()
def api(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
) -> None:
    """The HTTP API (uvicorn), against CORNU_REDIS_URL."""
    import uvicorn

    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, log_level=log_level)


@app.command()
def worker(
    queues: Annotated[str, typer.Option(help="comma-separated queues (default: CORNU_QUEUE)")] = "",
    concurrency: Annotated[
        int, typer.Option(min=1, help="jobs at once; 1 (one per GPU) uses Celery's solo pool")
    ] = 1,
    loglevel: Annotated[str, typer.Option(help="Celery log level")] = "INFO",
) -> None:
    """A training worker (Celery), against CORNU_REDIS_URL."""
    from core.config import get_settings
    from worker.main import LOG_FORMAT, supervise

    settings = get_settings()
    queue = queues or settings.queue
    if concurrency == 1:
        raise typer.Exit(supervise([f"--queues={queue}", f"--loglevel={loglevel}"]))
    # Several jobs at once: Celery's prefork pool recycles its children itself.
    from worker.app import app as celery_app

    logging.basicConfig(level=loglevel.upper(), format=LOG_FORMAT)
    celery_app.worker_main(
        [
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            f"--max-tasks-per-child={settings.worker_max_jobs}",
            f"--queues={queue}",
            f"--loglevel={loglevel}",
        ]
    )


@keys_app.command("create")
def create_key(tenant: Annotated[str, typer.Argument(help="tenant the key belongs to")]) -> None:
    """Create an API key for TENANT; the key is printed alone on the last line."""
    from core.config import get_settings
    from core.store import Store

    store = Store.from_settings(get_settings())
    try:
        key = store.tenants.create_key(tenant)
    finally:
        store.close()
    typer.echo(f"API key for tenant {tenant!r} (shown once; Cornu keeps only its hash):")
    typer.echo(key)


# The client commands (submit, jobs, status, …) register themselves on `app`.
from cornu import commands  # noqa: E402


def main() -> None:
    app()


__all__ = ["app", "commands", "main"]
