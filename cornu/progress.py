"""Keras's progress bar for a fit that runs on the service.

    Epoch 1/10
    469/469 ━━━━━━━━━━━━━━━━━━━━ 2s 4ms/step - accuracy: 0.8712 - loss: 0.4466

`verbose=1` redraws the bar in place as progress events arrive wherever Keras does — on
a terminal, in Jupyter/IPython kernels (Colab), and on any POSIX system (Keras's
`Progbar._dynamic_display` rule) — and otherwise writes each epoch's final line;
`verbose=2` writes one line per epoch, `verbose=0` nothing.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console

from cornu.display import format_logs

if TYPE_CHECKING:
    from cornu.uploads import NpyStream

SHOWN_UPLOAD_BYTES = 32 * 1024 * 1024  # smaller uploads take a moment: no bar

WIDTH = 20  # Keras's bar width, in characters


def _logs(logs: Mapping[str, float]) -> str:
    return f" - {format_logs(logs)}" if logs else ""


def format_step(seconds: float) -> str:
    """Time per step as Keras writes it: `4ms/step`, `850us/step`, `2s/step`."""
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def dynamic_display(out: TextIO) -> bool:
    """Keras's rule for redrawing a bar in place (keras/src/utils/progbar.py)."""
    return (
        (hasattr(out, "isatty") and out.isatty())
        or "ipykernel" in sys.modules
        or "posix" in sys.modules
        or "PYCHARM_HOSTED" in os.environ
    )


def print_steps(
    out: TextIO,
    verbose: Any,
    steps: int,
    seconds: float,
    logs: Mapping[str, float] | None = None,
) -> None:
    """The bar Keras's `evaluate` and `predict` end with (`verbose` 1 or "auto"):
    `4/4 ━━━━━━━━━━━━━━━━━━━━ 0s 3ms/step - accuracy: 0.9000 - loss: 0.3000`."""
    if verbose not in (1, True, "auto") or steps < 1:
        return
    digits = len(str(steps))
    line = f"{steps:>{digits}}/{steps} {'━' * WIDTH} {seconds:.0f}s {format_step(seconds / steps)}"
    out.write(line + _logs(logs or {}) + "\n")
    out.flush()


class ProgressBar:
    """Draws one fit's epochs; fed by the job's stream (see `TrainedModel._follow`)."""

    def __init__(self, out: TextIO, verbose: int = 1, live: bool | None = None) -> None:
        self.out, self.verbose = out, verbose
        self.live = verbose == 1 and (dynamic_display(out) if live is None else live)
        self.batches: int | None = None
        self._drawn = 0  # characters of the line drawn in place, to blank on redraw

    def start_epoch(self, epoch: int, epochs: int, batches: int | None) -> None:
        self.batches = batches
        self._drawn = 0
        if self.verbose:
            self._write(f"Epoch {epoch}/{epochs}\n")

    def update(self, batch: int, logs: Mapping[str, float]) -> None:
        """Redraw the bar at `batch` of the epoch (only on a terminal, with verbose=1)."""
        if not self.live or not self.batches:
            return
        line = f"{self._bar(batch)}{_logs(logs)}"
        self._write("\r" + line.ljust(self._drawn))
        self._drawn = len(line)

    def end_epoch(self, logs: Mapping[str, float], seconds: float) -> None:
        """The epoch's final line: its steps, time, time per step and metrics."""
        if not self.verbose:
            return
        if self.verbose == 2:
            steps = f"{self.batches}/{self.batches} - " if self.batches else ""
            timing = f"{seconds:.0f}s" + (
                f" - {format_step(seconds / self.batches)}" if self.batches else ""
            )
            line = f"{steps}{timing}{_logs(logs)}"
        elif self.batches:
            line = f"{self._bar(self.batches)} {seconds:.0f}s {format_step(seconds / self.batches)}"
            line += _logs(logs)
        else:
            line = f"{seconds:.0f}s{_logs(logs)}"
        prefix = "\r" if self._drawn else ""
        self._write(prefix + line.ljust(self._drawn) + "\n")
        self._drawn = 0

    def message(self, text: str) -> None:
        if self.verbose:
            self._write(("\n" if self._drawn else "") + text + "\n")
            self._drawn = 0

    def _bar(self, batch: int) -> str:
        total = self.batches or 1
        filled = min(WIDTH, WIDTH * batch // total)
        digits = len(str(total))
        return f"{batch:>{digits}}/{total} {'━' * filled}{'─' * (WIDTH - filled)}"

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()


@contextlib.contextmanager
def upload_progress(
    name: str, stream: NpyStream, *, shown: bool
) -> Iterator[Callable[[int], None] | None]:
    """A bar for a large upload; yields the function that advances it by the .npy bytes
    sent (None when no bar is shown: small uploads take a moment)."""
    if not shown or stream.nbytes < SHOWN_UPLOAD_BYTES:
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    label = f"Uploading {name} {stream.shape} {stream.dtype.name}"
    columns = (TextColumn(label), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, TimeRemainingColumn(), console=Console(file=sys.stdout)) as bar:
        task = bar.add_task(label, total=stream.nbytes)
        yield lambda sent: bar.advance(task, sent)
        bar.update(task, completed=stream.nbytes)
