"""Runs every corpus program against Cornu and compares what it reports with real Keras.

Each program in programs/ runs in a fresh interpreter, in a temporary directory, with
KERAS_HOME at a fake Keras cache (keras_cache.py), CORNU_URL at the session's API and
CORNU_API_KEY for a fresh tenant. A declarative program must exit 0 and report what Keras
3.15.1 reported (reference.json, made by make_reference.py); a user-code program must
fail with Cornu's message that it never runs the user's Python code on its workers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cornu.core.embedded import free_port
from tests.compat import corpus
from tests.compat.keras_cache import write_keras_cache
from tests.conftest import start_api

ROOT = Path(__file__).resolve().parent.parent.parent
#: Makes Cornu's dataset loaders (and Keras's) accept the fake cache's files, whose hashes
#: cannot be the real ones; on PYTHONPATH only when present.
OFFLINE = Path(__file__).resolve().parent / "keras_offline" / "cornu_sdk"
TIMEOUT_S = 120
PROGRAMS = corpus.programs()
#: Entries of a reference that describe the Keras run, not the program's results.
RUN_FACTS = ("keras", "seconds")
CORPUS_MAX_UPLOAD_BYTES = 1024**3


@pytest.fixture(scope="session")
def corpus_api_url(service_env: dict[str, str], session_dir: Path) -> Iterator[str]:
    """An API of the session's stack (same Redis, same worker) that takes the corpus's
    arrays: the book's IMDB and Reuters vectors are tens of MB, past the suite's small
    upload limit (which the 413 tests need)."""
    port = free_port()
    env = {**service_env, "CORNU_MAX_UPLOAD_BYTES": str(CORPUS_MAX_UPLOAD_BYTES)}
    service = start_api(env, session_dir / "corpus-api.log", port)
    yield f"http://127.0.0.1:{port}"
    service.stop()


@pytest.fixture(scope="session")
def keras_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("keras-home")
    write_keras_cache(home)
    return home


@pytest.fixture(scope="session")
def reference() -> dict[str, dict[str, object]]:
    result: dict[str, dict[str, object]] = json.loads(corpus.REFERENCE.read_text())
    return result


def tail(output: str, lines: int = 40) -> str:
    return "\n".join(output.splitlines()[-lines:])


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.path.stem for p in PROGRAMS])
def test_program(
    program: corpus.Program,
    keras_home: Path,
    reference: dict[str, dict[str, object]],
    corpus_api_url: str,
    new_api_key: Callable[[], str],
    worker: object,
    tmp_path: Path,
) -> None:
    report = tmp_path / "report.json"
    env = {
        **os.environ,
        "KERAS_HOME": str(keras_home),
        "COMPAT_REPORT": str(report),
        "PYTHONPATH": os.pathsep.join([str(ROOT), *([str(OFFLINE)] if OFFLINE.is_dir() else [])]),
        "CORNU_URL": corpus_api_url,
        "CORNU_API_KEY": new_api_key(),
        "MPLBACKEND": "Agg",
    }
    script = tmp_path / program.name
    script.write_text(program.path.read_text())
    try:
        result = subprocess.run(
            [sys.executable, script.name],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as e:
        output = (e.stdout or b"").decode(errors="replace") + (e.stderr or b"").decode(
            errors="replace"
        )
        pytest.fail(f"{program.name} ran past {TIMEOUT_S} s; its output ends:\n{tail(output)}")
    output = result.stdout + result.stderr

    if program.kind == "user-code":
        assert result.returncode != 0, (
            f"{program.name} needs the user's code on the workers, yet it ran:\n{tail(output)}"
        )
        assert "never runs" in output.lower(), (
            f"{program.name} failed without saying Cornu never runs user code:\n{tail(output)}"
        )
        return

    assert result.returncode == 0, (
        f"{program.name} exited {result.returncode}; its output ends:\n{tail(output)}"
    )
    assert report.exists(), f"{program.name} wrote no report; its output ends:\n{tail(output)}"
    expected = {k: v for k, v in reference[program.name].items() if k not in RUN_FACTS}
    assert json.loads(report.read_text()) == expected


def test_the_corpus_covers_what_issue_8_asks(reference: dict[str, dict[str, object]]) -> None:
    """At least 60 programs from each kind of public source, each with its origin and,
    when it must run, Keras's own reference."""
    assert len(PROGRAMS) >= 60
    origins = {p.path.stem.split("_", 1)[0] for p in PROGRAMS}
    assert {"book1", "book2", "issue", "keras", "kerasio"} <= origins
    for program in PROGRAMS:
        assert program.source.startswith("https://"), program.name
        if program.kind == "declarative":
            assert program.name in reference, f"{program.name} has no Keras reference"
    declarative = [p for p in PROGRAMS if p.kind == "declarative"]
    assert len(declarative) >= 0.9 * len(PROGRAMS)
