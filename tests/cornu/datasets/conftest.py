"""Fixtures of the `cornu.datasets` tests: a real HTTP server on 127.0.0.1 serving Keras's
files, a fake Keras cache, and what Keras 3.15.1 itself returns (run once, in a
subprocess on torch).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import pickle
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.compat.keras_cache import write_keras_cache
from tests.cornu.datasets.support import (
    BUNDLE,
    CASES,
    DATA,
    GET_FILE_CASES,
    KERAS_SCRIPT,
    KERAS_TIMEOUT_S,
    SOURCES,
    VALIDATE_CASES,
    FileServer,
    _Handler,
    hash_named,
    point_at,
    tree,
    write_tar,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileServer]:
    root = tmp_path_factory.mktemp("www")
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Handler, directory=str(root))
    )
    httpd.daemon_threads = True
    requests: list[str] = []
    httpd.requests = requests  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield FileServer(f"http://127.0.0.1:{httpd.server_address[1]}", root, requests)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def files(server: FileServer) -> Path:
    """get_file's test files, served at `<server>/files/`."""
    folder = server.root / "files"
    folder.mkdir()
    (folder / "data.bin").write_bytes(DATA)
    write_tar(folder / "bundle.tar.gz", BUNDLE)
    with zipfile.ZipFile(folder / "bundle.zip", "w") as archive:
        for name, content in BUNDLE.items():
            archive.writestr(name, content)
    return folder


@pytest.fixture
def served(server: FileServer, files: Path) -> FileServer:
    """The server, with no request counted yet."""
    server.requests.clear()
    return server


@pytest.fixture(scope="module")
def keras_cache(tmp_path_factory: pytest.TempPathFactory, server: FileServer) -> Iterator[Path]:
    """A KERAS_HOME holding the fake cache, also served at `<server>/cache/`; removed at the
    end (CIFAR-10's part alone is 300 MB)."""
    home = tmp_path_factory.mktemp("keras-home")
    write_keras_cache(home)
    (server.root / "cache").symlink_to(home / "datasets", target_is_directory=True)
    yield home
    shutil.rmtree(home)


@pytest.fixture(scope="module")
def keras_results(
    keras_cache: Path, server: FileServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """What Keras 3.15.1 returns for every case, and where its get_file puts files."""
    work = tmp_path_factory.mktemp("keras-run")
    data = server.root / "files" / "data.bin"
    spec = {
        "loaders": CASES,
        "get_file": {
            case_id: {
                **kwargs,
                "origin": f"{server.url}/{kwargs['origin']}",
                "cache_dir": str(work / "get_file" / case_id),
            }
            for case_id, kwargs in GET_FILE_CASES.items()
        },
        "validate": [[str(data), hash_named(which), alg] for alg, which in VALIDATE_CASES],
    }
    (work / "spec.json").write_text(json.dumps(spec))
    (work / "run.py").write_text(KERAS_SCRIPT)
    env = {**os.environ, "KERAS_BACKEND": "torch", "KERAS_HOME": str(keras_cache)}
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        [sys.executable, str(work / "run.py"), str(work / "spec.json"), str(work / "out.pkl")],
        env=env,
        capture_output=True,
        text=True,
        timeout=KERAS_TIMEOUT_S,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    with open(work / "out.pkl", "rb") as f:
        results: dict[str, Any] = pickle.load(f)  # written just now by the test's own script
    results["get_file_trees"] = {
        case_id: tree(work / "get_file" / case_id) for case_id in GET_FILE_CASES
    }
    return results


@pytest.fixture
def reference(keras_results: dict[str, Any]) -> dict[str, Any]:
    loaders: dict[str, Any] = keras_results["loaders"]
    return loaders


@pytest.fixture
def cached(monkeypatch: pytest.MonkeyPatch, keras_cache: Path, served: FileServer) -> FileServer:
    """KERAS_HOME at the fake cache; every URL at a folder the server does not have, and
    every expected hash the fake file's own."""
    monkeypatch.setenv("KERAS_HOME", str(keras_cache))
    for module, function in SOURCES:
        point_at(monkeypatch, module, function, f"{served.url}/nowhere", keras_cache / "datasets")
    return served
