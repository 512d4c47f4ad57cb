"""Keras's progress bar, as the SDK draws it from a job's stream."""

from __future__ import annotations

import io
import sys

import pytest

from cornu.display import format_value
from cornu.progress import ProgressBar, dynamic_display, format_step


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_verbose_1_on_a_terminal_redraws_the_bar_then_ends_the_line() -> None:
    out = Terminal()
    bar = ProgressBar(out, 1)
    bar.start_epoch(1, 10, 469)
    bar.update(100, {"accuracy": 0.5, "loss": 1.25})
    bar.update(469, {"accuracy": 0.75, "loss": 0.5})
    bar.end_epoch({"accuracy": 0.75, "loss": 0.5}, 1.88)
    text = out.getvalue()
    assert text.startswith("Epoch 1/10\n\r100/469 ━━━━────────────────")
    assert text.count("\r") == 3 and text.endswith("\n")
    final = text.rsplit("\r", 1)[1]
    assert (
        final.rstrip()
        == "469/469 ━━━━━━━━━━━━━━━━━━━━ 2s 4ms/step - accuracy: 0.7500 - loss: 0.5000"
    )


def test_where_keras_would_not_redraw_only_each_epochs_final_line_is_written() -> None:
    out = io.StringIO()
    bar = ProgressBar(out, 1, live=False)
    bar.start_epoch(3, 3, 10)
    bar.update(5, {"loss": 1.0})
    bar.end_epoch({"loss": 0.0001}, 0.5)
    assert (
        out.getvalue() == "Epoch 3/3\n10/10 ━━━━━━━━━━━━━━━━━━━━ 0s 50ms/step - loss: 1.0000e-04\n"
    )


def test_verbose_2_writes_one_line_per_epoch_and_0_nothing() -> None:
    out = Terminal()
    bar = ProgressBar(out, 2)
    bar.start_epoch(1, 2, 3)
    bar.update(1, {"loss": 1.0})
    bar.end_epoch({"loss": 0.25, "val_loss": 0.5}, 0.003)
    assert out.getvalue() == "Epoch 1/2\n3/3 - 0s - 1ms/step - loss: 0.2500 - val_loss: 0.5000\n"

    silent = Terminal()
    quiet = ProgressBar(silent, 0)
    quiet.start_epoch(1, 1, 1)
    quiet.end_epoch({"loss": 1.0}, 1.0)
    quiet.message("job cancelled")
    assert silent.getvalue() == ""


def test_keras_number_formats() -> None:
    assert format_value(0.12345) == "0.1235" and format_value(0.0002) == "2.0000e-04"
    assert [format_step(s) for s in (2.4, 0.0042, 0.00085)] == ["2s/step", "4ms/step", "850us/step"]


def test_the_bar_redraws_where_keras_s_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keras redraws on a terminal, in an IPython kernel (Jupyter, Colab) and on any POSIX
    system (keras/src/utils/progbar.py's `_dynamic_display`)."""
    assert dynamic_display(Terminal())
    monkeypatch.delitem(sys.modules, "posix", raising=False)
    monkeypatch.delenv("PYCHARM_HOSTED", raising=False)
    plain = io.StringIO()
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    assert not dynamic_display(plain)  # a log file on a system that is not POSIX
    monkeypatch.setitem(sys.modules, "ipykernel", sys)
    assert dynamic_display(plain)  # a notebook's stdout is no terminal, and still redraws
