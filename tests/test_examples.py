"""Every example runs in CI, so none can rot."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_make_demo_trains_digits_to_keras_accuracy() -> None:
    """`make demo`'s script: embedded stack, digits over HTTP, 50 epochs, ≥ 0.95."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "digits_demo.py")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    epochs = re.findall(
        r"^\s+(\d+)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+$", result.stdout, re.M
    )
    assert [int(e) for e in epochs] == list(range(1, 51))
    accuracy = float(re.search(r"final validation accuracy: ([\d.]+)", result.stdout).group(1))  # type: ignore[union-attr]
    assert accuracy >= 0.95
    assert "stack stopped" in result.stdout
