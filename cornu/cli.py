"""The `cornu` command: train through a service, and run one.

The client commands (`submit`, `jobs`, `status`, `logs`, `cancel`, `download`,
`summary`) and their exit codes are in `cornu.commands`; they need only the SDK. The
server's commands (`up`, `api`, `worker`, `keys create`) are in `cornu.core.launch` and
need the `server` extra: `cornu up` runs everything on one machine, `cornu api` and
`cornu worker` one role each against `CORNU_REDIS_URL` (what docker-compose and
multi-machine setups use), `cornu keys create` makes an API key.
"""

from __future__ import annotations

import typer

from cornu import commands, study_commands
from cornu.core import launch

app = typer.Typer(
    help="Cornu: Keras-style deep learning as a service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
launch.register(app)
app.add_typer(commands.app)  # submit, jobs, status, …: no name, so at the top level (Typer 0.15)
app.add_typer(study_commands.app)


def main() -> None:
    app()


__all__ = ["app", "main"]
