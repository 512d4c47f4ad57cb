"""Every example runs in CI, so none can rot."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Service

ROOT = Path(__file__).resolve().parent.parent


def run_example(script: str, **env: str) -> str:
    """Run examples/`script` as a user would; its output, once it exited 0."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def figure(pattern: str, out: str) -> float:
    """The number the pattern's group captures in `out`."""
    match = re.search(pattern, out)
    assert match, f"{pattern!r} not in:\n{out}"
    return float(match.group(1))


def test_make_demo_trains_digits_to_keras_accuracy() -> None:
    """`make demo`'s script: embedded stack, digits over HTTP, 50 epochs, ≥ 0.95."""
    out = run_example("digits_demo.py")
    epochs = re.findall(r"^\s+(\d+)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+$", out, re.M)
    assert [int(e) for e in epochs] == list(range(1, 51))
    assert figure(r"final validation accuracy: ([\d.]+)", out) >= 0.95
    assert "stack stopped" in out


def test_chapter3_workflow_with_the_sdk(
    api_url: str, new_api_key: Callable[[], str], worker: Service
) -> None:
    """The book's chapter 3 (binary, multiclass, K-fold regression) on bundled data."""
    out = run_example("chapter3.py", CORNU_URL=api_url, CORNU_API_KEY=new_api_key())
    assert "Epoch 20/20" in out  # the progress bar of the first fit
    assert figure(r"breast cancer: test accuracy ([\d.]+)", out) >= 0.93
    assert figure(r"digits: test accuracy ([\d.]+)", out) >= 0.93
    assert "each prediction sums to 1: True" in out
    assert len(re.findall(r"diabetes: fold \d/4 validation MAE", out)) == 4
    assert figure(r"test MAE ([\d.]+)", out) < 60  # the targets' own spread is about 77
