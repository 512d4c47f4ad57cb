"""Every loader of `cornu.datasets` reads a fake Keras cache (`tests/compat/keras_cache.py`)
and returns the arrays real Keras 3.15.1 returns for the same arguments; Cornu's hash
checks stay on (its expected hashes are the fake files' own) and its URLs point at a
server that records any request (none come). The module's names and signatures are
Keras's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cornu import datasets
from cornu.utils.file_utils import get_file
from tests.cornu.datasets.support import (
    CASE,
    CORNU_OFFLINE,
    ROOT,
    FileServer,
    assert_matches_keras,
    bare_signature,
)


@pytest.mark.parametrize("case_id", list(CASE))
def test_loader_returns_what_keras_returns(
    case_id: str, cached: FileServer, reference: dict[str, Any]
) -> None:
    assert_matches_keras(case_id, reference)
    assert cached.requests == [], "a cached file that Keras would use was downloaded"


def test_the_modules_names_signatures_and_defaults_are_keras(
    keras_results: dict[str, Any],
) -> None:
    names: dict[str, list[str]] = keras_results["names"]
    assert sorted(names) == sorted(datasets.__all__)
    for module, functions in names.items():
        for function in functions:
            ours = getattr(getattr(datasets, module), function)
            expected = keras_results["signatures"][f"{module}.{function}"]
            assert bare_signature(ours) == expected, f"{module}.{function}"
    assert bare_signature(get_file) == keras_results["signatures"]["get_file"]


def test_importing_datasets_imports_neither_torch_nor_keras() -> None:
    code = (
        "import sys, cornu.datasets, cornu.utils.file_utils;"
        "print([m for m in ('torch', 'keras', 'redis', 'celery', 'fastapi') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_compat_switch_lets_cornu_read_the_fake_cache_offline(keras_cache: Path) -> None:
    """tests/compat/keras_offline/cornu_sdk on PYTHONPATH: Cornu's hash check accepts the fake
    files, so the loaders read them with Cornu's real URLs and hashes (and no network)."""
    code = (
        "from cornu.datasets import mnist, reuters;"
        "(x, y), _ = mnist.load_data(); print(x.shape, len(reuters.get_word_index()))"
    )
    env = {
        **os.environ,
        "KERAS_HOME": str(keras_cache),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(CORNU_OFFLINE)]),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["(512,", "28,", "28)", "30979"]
