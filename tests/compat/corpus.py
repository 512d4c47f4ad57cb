"""The corpus's programs and what their docstrings declare, shared by the reference maker
and the test runner."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
REFERENCE = HERE / "reference.json"
KINDS = ("declarative", "user-code")


@dataclass(frozen=True)
class Program:
    """One program file and the fields of its docstring."""

    path: Path
    title: str
    source: str
    kind: str
    #: `keras3: OLD => NEW` lines (NEW may be empty): Keras 2 spellings that Keras 3 removed,
    #: rewritten only for the reference run under real Keras (Cornu is meant to accept the
    #: original).
    keras3_rewrites: list[tuple[str, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name


def load(path: Path) -> Program:
    """Parse a program's docstring; raises ValueError when a field is missing or wrong."""
    doc = ast.get_docstring(ast.parse(path.read_text()))
    if not doc:
        raise ValueError(f"{path.name}: no module docstring")
    fields: dict[str, str] = {}
    rewrites: list[tuple[str, str]] = []
    for line in doc.splitlines():
        match = re.match(r"^(source|license|kind|changed|keras3):\s*(.*)$", line)
        if not match:
            continue
        key, value = match.groups()
        if key == "keras3":
            rewrite = re.match(r"^(.+?) =>(?: (.*))?$", value)
            if not rewrite:
                raise ValueError(f"{path.name}: keras3 line needs 'OLD => NEW': {value!r}")
            rewrites.append((rewrite[1], rewrite[2] or ""))
        else:
            fields[key] = value
    for key in ("source", "license", "kind", "changed"):
        if key not in fields:
            raise ValueError(f"{path.name}: docstring has no '{key}:' line")
    if fields["kind"] not in KINDS:
        raise ValueError(f"{path.name}: kind must be one of {KINDS}, not {fields['kind']!r}")
    return Program(path, doc.splitlines()[0], fields["source"], fields["kind"], rewrites)


def programs() -> list[Program]:
    return [load(path) for path in sorted(PROGRAMS.glob("*.py"))]


def to_keras(text: str, rewrites: list[tuple[str, str]]) -> str:
    """The program for real Keras: imports of cornu turned back into Keras's, then the
    program's own `keras3:` rewrites (each must apply)."""
    text = re.sub(r"^(\s*)import cornu\.tuner as ", r"\1import keras_tuner as ", text, flags=re.M)
    text = re.sub(r"^(\s*)import cornu as keras\b", r"\1import keras", text, flags=re.M)
    text = re.sub(r"^(\s*)import cornu\b", r"\1import keras", text, flags=re.M)
    text = re.sub(r"^(\s*)from cornu(\.|\s)", r"\1from keras\2", text, flags=re.M)
    # The rewrites apply to the code after the docstring (which quotes them).
    lines = text.splitlines(keepends=True)
    end = ast.parse(text).body[0].end_lineno or 0
    head, body = "".join(lines[:end]), "".join(lines[end:])
    for old, new in rewrites:
        if old not in body:
            raise ValueError(f"keras3 rewrite {old!r} matches nothing")
        body = body.replace(old, new)
    return head + body
