"""The study commands of `cornu`: hyperparameter searches on a service, from a shell.

`cornu studies` lists the tenant's studies; `cornu study ID` shows one (its trials by
score, the best first), `--follow` prints each trial as it ends until the study does;
`cornu study ID --cancel` stops it. `study` exits 0 once the study completed, 1 failed,
2 cancelled, 3 still running (as `status` does for a job).
"""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from rich.table import Column, Table

from cornu.commands import ApiKeyOption, UrlOption, connect, console
from cornu.core.spec.study import Study, StudyEventType, StudyStatus

#: The study commands; `cornu.cli` adds them to the `cornu` command.
app = typer.Typer()

STUDY_EXIT = {
    StudyStatus.completed: 0,
    StudyStatus.failed: 1,
    StudyStatus.cancelled: 2,
    StudyStatus.running: 3,
}
StudyId = Annotated[str, typer.Argument(metavar="ID", help="the study's id", show_default=False)]


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


@app.command("studies")
def list_studies(
    limit: Annotated[int, typer.Option(min=1, max=100, help="how many studies")] = 20,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """The tenant's hyperparameter studies, newest first."""
    with connect(url, api_key) as client:
        page = client.studies(limit)
    table = Table(
        Column("ID", no_wrap=True, min_width=30),
        Column("Status", no_wrap=True, min_width=9),
        Column("Trials", justify="right"),
        Column("Best", justify="right", no_wrap=True),
        Column("Objective", no_wrap=True, max_width=18),
        Column("Name", max_width=16),
        box=None,
        pad_edge=False,
        header_style="bold",
    )
    for study in page.studies:
        table.add_row(
            study.id,
            study.status.value,
            str(study.trials),
            _score(study.best_score),
            study.objective.name,
            study.name or "",
        )
    console.print(table)


def print_study(study: Study) -> None:
    """The study's trials, best first, then the running and the others."""
    objective = study.objective
    console.print(f"Study {study.id} {study.name or ''}".rstrip())
    console.print(
        f"status: {study.status.value}   objective: {objective.name} "
        f"({objective.direction})   trials: {len(study.trials)}/{study.max_trials}   "
        f"epochs: {study.epochs}   compute: {study.run_seconds:.1f} s"
    )
    if study.error:
        console.print(f"error: {study.error}")
    scored = sorted(
        (t for t in study.trials if t.score is not None),
        key=lambda t: t.score or 0.0,
        reverse=objective.direction == "max",
    )
    rest = [t for t in study.trials if t.score is None]
    table = Table(
        Column("Trial", justify="right"),
        Column("Status", no_wrap=True),
        Column(objective.name, justify="right", no_wrap=True),
        Column("Epochs", justify="right"),
        Column("Hyperparameters"),
        box=None,
        pad_edge=False,
        header_style="bold",
    )
    for trial in [*scored, *rest]:
        values = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in trial.hyperparameters.items()
        )
        table.add_row(
            str(trial.number), trial.status.value, _score(trial.score), str(trial.epochs), values
        )
    console.print(table)
    if study.best is not None:
        console.print(
            f"best: trial {study.best.number}, {objective.name} "
            f"{study.best.score:.6g}, job {study.best.jobs[0] if study.best.jobs else '-'}"
        )


@app.command("study")
def show_study(
    study_id: StudyId,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="until it ends")] = False,
    cancel: Annotated[bool, typer.Option("--cancel", help="stop it")] = False,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
) -> NoReturn:
    """One study: its trials by score; --follow prints each trial as it ends."""
    with connect(url, api_key) as client:
        if cancel:
            client.cancel_study(study_id)
            console.print(f"Study {study_id}: cancelling its running trials")
        if follow:
            for event in client.study_stream(study_id):
                if event.event == StudyEventType.trial_ended:
                    trial = event.data
                    score = trial.get("score")
                    detail = _score(score) if score is not None else trial.get("error") or ""
                    console.print(f"trial {trial['number']} {trial['status']} {detail}".rstrip())
        study = client.study(study_id)
    print_study(study)
    raise typer.Exit(STUDY_EXIT[study.status])
