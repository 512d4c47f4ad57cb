"""The docs a newcomer reads first name only things that exist: every repository path in
`docs/*.md` (in backticks, under a top-level folder) and every relative link."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
FOLDERS = ("api/", "benchmarks/", "core/", "cornu/", "docs/", "tests/", "worker/")


def named_paths(text: str) -> set[str]:
    """Backticked repository paths: `core/runner.py`, `api/routes/`."""
    found = set()
    for token in re.findall(r"`([^`\s]+)`", text):
        path = token.rstrip(".,:;")
        if path.startswith(FOLDERS) and "…" not in path and "<" not in path:
            found.add(path)
    return found


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_every_path_and_link_a_doc_names_exists(doc: Path) -> None:
    text = doc.read_text()
    missing = sorted(p for p in named_paths(text) if not (ROOT / p).exists())
    assert not missing, f"{doc.name} names paths that do not exist: {missing}"
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    broken = sorted(link for link in links
                    if "://" not in link and not (doc.parent / link).exists())  # fmt: skip
    assert not broken, f"{doc.name} links to nothing: {broken}"


def test_the_architecture_page_names_the_modules_it_maps() -> None:
    names = named_paths((ROOT / "docs" / "architecture.md").read_text())
    assert len(names) > 40, sorted(names)
