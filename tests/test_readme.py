"""Every shell and Python block of README.md runs here, so the README cannot rot.

A fenced ```sh or ```python block is preceded by a marker comment:

    <!-- readme: run -->                the block runs here, against the session's stack
    <!-- readme: skip: <why> -->        it cannot run here, and the marker says why

A block without a marker fails `test_every_block_is_marked`. The blocks that run share
one working folder and one tenant, in the README's order, as a reader would run them:
`CORNU_URL` and `CORNU_API_KEY` point at the session's API, `cornu` and `python` are
this environment's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from cornu.core.store import Store
from tests.conftest import Service

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(
    r"(?:<!-- readme: (?P<marker>[^>]*?) -->\n)?```(?P<lang>sh|bash|python)\n(?P<body>.*?)```",
    re.S,
)


@dataclass(frozen=True)
class Block:
    line: int
    lang: str
    marker: str | None
    body: str

    @property
    def id(self) -> str:
        return f"line{self.line}-{self.lang}"


def blocks() -> list[Block]:
    text = README.read_text()
    return [
        Block(text.count("\n", 0, m.start("lang")) + 1, m["lang"], m["marker"], m["body"])
        for m in BLOCK.finditer(text)
    ]


RUN = [b for b in blocks() if b.marker == "run"]


def test_every_block_is_marked() -> None:
    unmarked = [b.line for b in blocks() if b.marker is None]
    assert not unmarked, f"README.md blocks without a `readme:` marker at lines {unmarked}"
    for block in blocks():
        assert block.marker == "run" or re.fullmatch(r"skip: \S.*", block.marker or ""), (
            f"README.md line {block.line}: the marker is `run` or `skip: <why>`"
        )
    assert len(RUN) >= 4  # the curl, SDK and Client sections at least


@pytest.fixture(scope="module")
def reader(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str, api_url: str, worker: Service
) -> tuple[Path, dict[str, str]]:
    """The folder and environment of someone following the README."""
    store = Store.from_url(redis_url)
    try:
        key = store.tenants.create_key("readme")
    finally:
        store.close()
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "CORNU_URL": api_url,
        "CORNU_API_KEY": key,
    }
    return tmp_path_factory.mktemp("readme"), env


@pytest.mark.parametrize("block", RUN, ids=[b.id for b in RUN])
def test_block_runs(block: Block, reader: tuple[Path, dict[str, str]]) -> None:
    folder, env = reader
    command = (
        [sys.executable, "-c", block.body]
        if block.lang == "python"
        else ["bash", "-euo", "pipefail", "-c", block.body]
    )
    result = subprocess.run(
        command, cwd=folder, env=env, capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, (
        f"README.md line {block.line} failed:\n{result.stdout}\n{result.stderr}"
    )
    assert "Traceback" not in result.stderr
