"""Run every corpus program under real Keras and write tests/compat/reference.json.

    python tests/compat/make_reference.py [--python /work/keras-ref/bin/python] [NAME ...]

Each program is copied to a fresh temporary directory with its imports turned back into
Keras's (`import cornu as keras` → `import keras`, `from cornu` → `from keras`) and its own
`keras3:` rewrites applied, then run by a Python that has Keras 3.15.1 and torch
(KERAS_BACKEND=torch) with KERAS_HOME at a fake cache (`keras_cache.py`),
PYTHONPATH=<repo root> for `tests.compat.harness` plus `keras_offline/` (which lets Keras
read the fake cache), and COMPAT_REPORT at a file. Each report goes into reference.json
with Keras's version and the program's wall time. Given names, only those programs are run
and the others' entries are kept.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from tests.compat import corpus  # noqa: E402
from tests.compat.keras_cache import write_keras_cache  # noqa: E402

DEFAULT_PYTHON = "/work/keras-ref/bin/python"
TIMEOUT_S = 600


def keras_version(python: str) -> str:
    out = subprocess.run(
        [python, "-c", "import keras; print(keras.__version__)"],
        env={**os.environ, "KERAS_BACKEND": "torch"},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def run(program: corpus.Program, python: str, cache: Path) -> tuple[dict[str, object], str]:
    """Run one program under real Keras; returns its reference entry and its output."""
    with tempfile.TemporaryDirectory(prefix="compat-") as tmp:
        workdir = Path(tmp)
        script = workdir / program.name
        script.write_text(corpus.to_keras(program.path.read_text(), program.keras3_rewrites))
        report = workdir / "report.json"
        env = {
            **os.environ,
            "KERAS_BACKEND": "torch",
            "KERAS_HOME": str(cache),
            "COMPAT_REPORT": str(report),
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE / "keras_offline")]),
            "OMP_NUM_THREADS": "1",
            "MPLBACKEND": "Agg",
        }
        start = time.monotonic()
        result = subprocess.run(
            [python, script.name],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
        seconds = round(time.monotonic() - start, 1)
        output = result.stdout + result.stderr
        if result.returncode != 0:
            raise RuntimeError(f"{program.name} failed under Keras:\n{output[-4000:]}")
        if not report.exists():
            raise RuntimeError(f"{program.name} wrote no report:\n{output[-4000:]}")
        entry: dict[str, object] = json.loads(report.read_text())
        return {"seconds": seconds, **entry}, output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="program files to run (default: all)")
    parser.add_argument("--python", default=DEFAULT_PYTHON, help="a Python with Keras")
    args = parser.parse_args()

    version = keras_version(args.python)
    reference: dict[str, dict[str, object]] = {}
    if args.names and corpus.REFERENCE.exists():
        reference = json.loads(corpus.REFERENCE.read_text())
    selected = [p for p in corpus.programs() if not args.names or p.name in set(args.names)]
    failures = []
    with tempfile.TemporaryDirectory(prefix="keras-home-") as home:
        cache = Path(home)
        write_keras_cache(cache)
        for program in selected:
            try:
                entry, _ = run(program, args.python, cache)
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
                failures.append(program.name)
                print(f"FAIL {program.name}: {e}", file=sys.stderr)
                continue
            reference[program.name] = {"keras": version, **entry}
            print(f"ok   {program.name} ({entry['seconds']} s)", flush=True)
    present = {p.name for p in corpus.programs()}
    reference = {name: reference[name] for name in sorted(reference) if name in present}
    corpus.REFERENCE.write_text(json.dumps(reference, indent=1, sort_keys=True) + "\n")
    total = sum(float(str(entry["seconds"])) for entry in reference.values())
    print(f"{len(reference)} programs in reference.json, {total:.0f} s under Keras")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
