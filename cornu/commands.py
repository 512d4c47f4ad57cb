"""The client commands of `cornu`: a service's jobs from a shell.

`submit`, `jobs`, `status`, `logs`, `cancel`, `rm`, `download`, `summary` and
`datasets rm` talk to a running service at `--url` (default `CORNU_URL`, else
http://127.0.0.1:8000) with `--api-key` (default `CORNU_API_KEY`, else the key file that
`cornu up` wrote).

Exit codes: 0 done; 1 an error, printed as `error: <message>` on stderr; 2 a usage error.
`status`, `logs --follow` and `submit --wait` exit with the job's status instead:
0 succeeded, 1 failed, 2 cancelled, 3 queued or running.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import numpy as np
import typer
from rich.console import Console
from rich.table import Column, Table

from cornu.client import Client
from cornu.core.errors import CornuError
from cornu.core.spec import ExportFormat, Job, JobStatus
from cornu.display import format_logs, print_summary

#: The client commands; `cornu.cli` adds them to the `cornu` command.
app = typer.Typer()

# -- client commands: the service's jobs from a shell ------------------------------------

STATUS_EXIT = {
    JobStatus.succeeded: 0,
    JobStatus.failed: 1,
    JobStatus.cancelled: 2,
    JobStatus.pruned: 2,  # stopped by its study's pruner: not a success, not a failure
    JobStatus.queued: 3,
    JobStatus.running: 3,
}

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="CORNU_URL",
        show_default=False,
        help="the service (default: http://127.0.0.1:8000)",
    ),
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="CORNU_API_KEY",
        show_default=False,
        help="the tenant's API key (default: the key file of `cornu up`)",
    ),
]
JobId = Annotated[str, typer.Argument(metavar="ID", help="the job's id", show_default=False)]
SpecFile = Annotated[
    Path, typer.Argument(metavar="SPEC.json", exists=True, dir_okay=False, show_default=False)
]


def npy_option(help: str) -> Any:
    return typer.Option(exists=True, dir_okay=False, show_default=False, help=help)


# Text from the service (errors, layer names) is printed as is: no rich markup, no wrapping.
console = Console(highlight=False, markup=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def connect(url: str | None, api_key: str | None) -> Iterator[Client]:
    """A client whose errors end the command with `error: …` on stderr and exit code 1."""
    client = Client(url, api_key)
    try:
        yield client
    except CornuError as error:
        fail(str(error))
    except httpx.TransportError as error:
        reason = str(error) or type(error).__name__
        fail(f"cannot reach the Cornu service at {client.url} ({reason}); is it running?")
    except ValueError as error:  # JSON or pydantic: something else answers at that address
        fail(f"{client.url} did not answer as a Cornu service does ({error}); check --url")
    finally:
        client.close()


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        fail(f"{path}: not a JSON file ({error})")


def upload_file(client: Client, path: Path) -> str:
    """Upload one .npy file; the service keeps one copy of each content."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)  # read as it is sent
    except (OSError, ValueError) as error:
        fail(f"{path}: not a .npy file ({error})")
    if not isinstance(array, np.ndarray):
        fail(f"{path}: holds several arrays; give one .npy file per array")
    dataset = client.upload(array)
    console.print(f"{path}: dataset {dataset.id}, shape {tuple(dataset.shape)}, {dataset.dtype}")
    return dataset.id


def with_data(section: object, client: Client, x: Path, y: Path) -> dict[str, Any]:
    """`section` (a spec's `data` or `validation_data`) with x and y uploaded from files."""
    ids = {"x": upload_file(client, x), "y": upload_file(client, y)}
    return {**section, **ids} if isinstance(section, dict) else ids


def when(moment: datetime | str | None) -> str:
    """A time from the service, in this machine's time zone."""
    try:
        parsed = moment if isinstance(moment, datetime) else datetime.fromisoformat(str(moment))
    except ValueError:
        return str(moment)
    return parsed.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def epoch_line(entry: Mapping[str, Any], epochs: int) -> str:
    """`Epoch 3/10 - 1.2s - loss: 0.1234 - accuracy: 0.9500`, from an epoch's logs."""
    logs = {k: v for k, v in entry.items() if k not in ("epoch", "seconds")}
    parts = [f"Epoch {entry.get('epoch')}/{epochs}", f"{float(entry.get('seconds', 0)):.1f}s"]
    return " - ".join([*parts, format_logs(logs)] if logs else parts)


def event_line(fields: Mapping[str, Any]) -> str:
    """`2025-05-01 12:00:03  started  worker=w1 attempt=1`, from a job event."""
    details = " ".join(f"{k}={v}" for k, v in fields.items() if k not in ("time", "type"))
    return f"{when(fields.get('time'))}  {fields.get('type')}  {details}".rstrip()


def progress_line(data: Mapping[str, Any]) -> str:
    """`Epoch 3/10 - batch 12/40 - loss: 0.2345`, from a running epoch's progress report."""
    get, logs = data.get, data.get("logs")
    line = f"Epoch {get('epoch')}/{get('epochs')} - batch {get('batch')}/{get('batches')}"
    return f"{line} - {format_logs(logs)}" if logs else line


def outcome_line(job: Job) -> str:
    return f"Job {job.id} {job.status.value}" + (f": {job.error}" if job.error else "")


def follow_job(client: Client, job: Job) -> Job:
    """Print the job's feed as it comes until the job ends; its live progress shows in a
    spinner line on a terminal. Returns the job as it ended."""
    spinner = console.status(f"Job {job.id} is {job.status.value}") if console.is_terminal else None
    with spinner or nullcontext():
        for event in client.stream(job.id):
            if event.event == "progress":
                if spinner is not None:
                    spinner.update(progress_line(event.data))
            elif event.event == "epoch":
                console.print(epoch_line(event.data, job.epochs))
            elif event.event == "end":
                return Job.model_validate(event.data)
            elif event.event != "checkpoint":  # one per epoch at least: `logs` lists them
                console.print(event_line(event.data), style="dim")
    return client.job(job.id)


def end_with_status(job: Job) -> NoReturn:
    raise typer.Exit(STATUS_EXIT[job.status])


@app.command(epilog="The job id is printed alone on the last line of the output.")
def submit(
    spec_file: SpecFile,
    x: Annotated[Path | None, npy_option("inputs, a .npy file")] = None,
    y: Annotated[Path | None, npy_option("targets, a .npy file")] = None,
    val_x: Annotated[Path | None, npy_option("validation inputs, a .npy file")] = None,
    val_y: Annotated[Path | None, npy_option("validation targets, a .npy file")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="follow the job until it ends")] = False,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Submit a training job: the JobSpec in SPEC.json, with its data from .npy files.

    The arrays in --x and --y (and --val-x, --val-y for validation_data) are uploaded first.
    Without them, SPEC.json's "data" must name datasets already uploaded.

    With --wait, follow the job as `logs --follow` does and exit with its status:
    0 succeeded, 1 failed, 2 cancelled.
    """
    spec = read_json(spec_file)
    if not isinstance(spec, dict):
        fail(f"{spec_file}: expected a JobSpec, a JSON object with model, compile and data")
    if (x is None) != (y is None) or (val_x is None) != (val_y is None):
        fail("give --x with --y, and --val-x with --val-y", 2)
    if x is None and "data" not in spec:
        fail(f'{spec_file} has no "data": give the arrays to train on with --x and --y', 2)
    with connect(url, api_key) as client:
        if x is not None and y is not None:
            spec["data"] = with_data(spec.get("data"), client, x, y)
        if val_x is not None and val_y is not None:
            fit = spec["fit"] = spec.get("fit") or {}
            fit["validation_data"] = with_data(fit.get("validation_data"), client, val_x, val_y)
        job = client.submit(spec)
        console.print(f"Submitted job {job.id} ({job.status.value}, {job.epochs} epochs)")
        if wait:
            job = follow_job(client, job)
            console.print(outcome_line(job))
    typer.echo(job.id)
    if wait:
        end_with_status(job)


@app.command("jobs")
def list_jobs(
    limit: Annotated[int, typer.Option(min=1, max=100, help="how many jobs")] = 20,
    tag: Annotated[str | None, typer.Option(help="only jobs with this tag")] = None,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """The tenant's jobs, newest first."""
    with connect(url, api_key) as client:
        page = client.jobs(limit, tag=tag)
    table = Table(
        Column("ID", no_wrap=True),
        Column("Name"),
        Column("Status", no_wrap=True),
        Column("Epoch", justify="right", no_wrap=True),
        Column("Created", no_wrap=True),
        Column("Loss", justify="right", no_wrap=True),
        box=None,
        pad_edge=False,
        header_style="bold",
    )
    for job in page.jobs:
        loss = job.metrics.get("loss")
        table.add_row(
            job.id,
            job.name or "",
            job.status.value,
            f"{job.epoch}/{job.epochs}",
            when(job.created_at),
            "" if loss is None else f"{loss:.4f}",
        )
    console.print(table)
    if page.next_cursor:
        console.print(f"(the newest {len(page.jobs)}; --limit shows more)", style="dim")


@app.command()
def usage(
    start: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="first UTC day (default: the 1st)")
    ] = None,
    end: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="last UTC day (default: today)")
    ] = None,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """What the tenant holds and has used next to its quota, and its device time and cost
    over a period (this month so far unless asked), by accelerator class."""
    with connect(url, api_key) as client:
        found = client.usage(start and start.date(), end and end.date())
    table = Table(
        Column("", no_wrap=True),
        Column("Used", justify="right", no_wrap=True),
        Column("Quota", justify="right", no_wrap=True),
        box=None,
        pad_edge=False,
        header_style="bold",
    )
    for name, limit in found.quota.model_dump().items():
        used = getattr(found, name, None)
        table.add_row(name, "" if used is None else f"{used:,}", f"{limit:,}")
    table.add_row("compute_seconds", f"{found.compute_seconds:,.1f}", "")
    console.print(f"Tenant {found.tenant}")
    console.print(table)
    period = found.period
    if period is None:
        return
    money = partial(_money, currency=found.currency)
    spent = Table("Accelerator", Column("Device-hours", justify="right"),
                  Column("Cost", justify="right"), box=None, pad_edge=False,
                  header_style="bold")  # fmt: skip
    for name, part in period.by_accelerator.items():
        spent.add_row(name, f"{part.device_seconds / 3600:,.4f}", money(part.cost))
    spent.add_row("all", f"{period.device_seconds / 3600:,.4f}", money(period.cost), style="bold")
    console.print(f"\n{period.start} to {period.end}")
    console.print(spent)
    console.print(
        f"All time: {found.device_seconds / 3600:,.4f} device-hours, {money(found.cost)}",
        style="dim",
    )


def _money(cost: float | None, currency: str) -> str:
    """A cost as the CLI prints it: 4 significant digits below one unit."""
    if cost is None:
        return "—"
    return f"{cost:.4g} {currency}" if cost < 1 else f"{cost:,.2f} {currency}"


@app.command()
def status(job_id: JobId, url: UrlOption = None, api_key: ApiKeyOption = None) -> None:
    """The job's status, epochs done, latest metrics and error.

    Exit code: 0 succeeded, 1 failed, 2 cancelled, 3 queued or running.
    """
    with connect(url, api_key) as client:
        job = client.job(job_id)
    rows = {
        "job": job.id,
        "status": job.status.value,
        "epoch": f"{job.epoch}/{job.epochs}",
        "metrics": format_logs(job.metrics),
        "error": job.error,
        "created": when(job.created_at),
        "started": job.started_at and when(job.started_at),
        "finished": job.finished_at and when(job.finished_at),
    }
    for name, value in rows.items():
        if value:
            console.print(f"{name:<9}{value}")
    end_with_status(job)


@app.command()
def logs(
    job_id: JobId,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="print epochs as they end, until the job does")
    ] = False,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """The job's events and epochs so far; with --follow, live until the job ends.

    Epochs print as Keras does: `Epoch 3/10 - 1.2s - loss: 0.1234 - accuracy: 0.9500`.
    With --follow the exit code is the job's: 0 succeeded, 1 failed, 2 cancelled.
    """
    with connect(url, api_key) as client:
        job = client.job(job_id)
        if follow:
            job = follow_job(client, job)
        else:
            for event in client.events(job_id):
                console.print(event_line(event.model_dump(mode="json")), style="dim")
            for entry in client.metrics(job_id).epochs:
                console.print(epoch_line(entry.model_dump(), job.epochs))
    console.print(outcome_line(job))
    if follow:
        end_with_status(job)


@app.command()
def cancel(job_id: JobId, url: UrlOption = None, api_key: ApiKeyOption = None) -> None:
    """Cancel a queued job at once, or stop a running one after its current batch."""
    with connect(url, api_key) as client:
        job = client.cancel(job_id)
    if job.status is JobStatus.cancelled:
        console.print(f"Job {job.id} cancelled")
    else:
        console.print(f"Job {job.id} is {job.status.value}: it stops after its current batch")


@app.command("rm")
def remove_job(job_id: JobId, url: UrlOption = None, api_key: ApiKeyOption = None) -> None:
    """Delete a finished job: its record, metrics, events, checkpoints, weights and
    exports. A queued or running job must be cancelled first."""
    with connect(url, api_key) as client:
        client.delete_job(job_id)
    console.print(f"Job {job_id} deleted")


datasets_app = typer.Typer(help="The tenant's datasets.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")


@datasets_app.command("rm")
def remove_dataset(
    dataset_id: Annotated[
        str, typer.Argument(metavar="ID", help="the dataset's id", show_default=False)
    ],
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Delete a dataset and its bytes. Refused while a queued or running job uses it."""
    with connect(url, api_key) as client:
        client.delete_dataset(dataset_id)
    console.print(f"Dataset {dataset_id} deleted")


@app.command()
def download(
    job_id: JobId,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="where to write (default: ID.FORMAT)"),
    ] = None,
    format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            "-f",
            help="safetensors: the weights; keras / h5: Keras's own model files "
            "(keras.models.load_model reads them); onnx; torchscript",
        ),
    ] = ExportFormat.safetensors,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Save the trained model of a succeeded job: its weights (safetensors) or the whole
    model in another format."""
    extension = {ExportFormat.torchscript: "pt"}.get(format, format.value)
    path = output or Path(f"{job_id}.{extension}")
    if not path.parent.is_dir():
        fail(f"{path.parent} is not a directory")
    with connect(url, api_key) as client:
        client.download(job_id, path, format=format.value)
    console.print(f"{path} ({path.stat().st_size:,} bytes)")


@app.command()
def summary(spec_file: SpecFile, url: UrlOption = None, api_key: ApiKeyOption = None) -> None:
    """The model's layers, output shapes and parameters, as Keras's model.summary().

    SPEC.json is a model (Sequential, functional or Keras JSON) or a JobSpec.
    """
    spec = read_json(spec_file)
    model = spec["model"] if isinstance(spec, dict) and "model" in spec else spec
    with connect(url, api_key) as client:
        result = client.summary(model)
    print_summary(result, console)
