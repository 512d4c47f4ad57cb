"""Downloads for real, from `http.server` on 127.0.0.1 (only a module's URL and hash are
changed, to the served file's): caching, hashing, extraction and parsing are Cornu's own
code, and what is broken or hostile is refused with where to put the file instead.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cornu import datasets
from cornu.utils.file_utils import DownloadError
from tests.cornu.datasets.support import (
    CASE,
    DOWNLOADS,
    FileServer,
    assert_matches_keras,
    evil_cifar,
    evil_imdb,
    file_hash,
    point_at,
    tree,
    write_tar,
)


@pytest.mark.parametrize("case_id", DOWNLOADS)
def test_first_call_downloads_the_second_reads_the_cache(
    case_id: str,
    served: FileServer,
    keras_cache: Path,
    reference: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    module, function, _ = CASE[case_id]
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    source = point_at(
        monkeypatch, module, function, f"{served.url}/cache", keras_cache / "datasets"
    )

    assert_matches_keras(case_id, reference)
    assert sorted(served.requests) == sorted(f"/cache/{name}" for name in source.files)
    for name in source.files:  # where Keras keeps them, byte for byte
        cached = tmp_path / "datasets" / name
        assert cached.read_bytes() == (keras_cache / "datasets" / name).read_bytes()
    assert not list((tmp_path / "datasets").rglob(".*")), "a temporary file was left"

    served.requests.clear()
    assert_matches_keras(case_id, reference)
    assert served.requests == []
    shutil.rmtree(tmp_path / "datasets")


def test_download_says_where_from_and_draws_keras_bar_on_stderr(
    served: FileServer,
    keras_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    point_at(monkeypatch, "mnist", "load_data", f"{served.url}/cache", keras_cache / "datasets")
    datasets.mnist.load_data()
    out, err = capsys.readouterr()
    size = (keras_cache / "datasets" / "mnist.npz").stat().st_size
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == f"Downloading data from {served.url}/cache/mnist.npz"
    assert re.fullmatch(rf"{size}/{size} ━{{20}} \d+s \d+(us|ms|s)/step", lines[1])


def test_a_corrupted_cached_file_is_downloaded_again(
    served: FileServer,
    keras_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    point_at(monkeypatch, "mnist", "load_data", f"{served.url}/cache", keras_cache / "datasets")
    (x_train, _), _ = datasets.mnist.load_data()
    cached = tmp_path / "datasets" / "mnist.npz"
    cached.write_bytes(cached.read_bytes()[:1000])  # a download cut short
    served.requests.clear()

    (again, _), _ = datasets.mnist.load_data()

    assert served.requests == ["/cache/mnist.npz"]
    err = capsys.readouterr().err
    assert "A local file was found, but it seems to be incomplete or outdated" in err
    np.testing.assert_array_equal(again, x_train, strict=True)
    assert cached.read_bytes() == (keras_cache / "datasets" / "mnist.npz").read_bytes()


def test_a_download_whose_hash_differs_is_refused_and_not_cached(
    served: FileServer, keras_cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(datasets.mnist, "ORIGIN", f"{served.url}/cache/mnist.npz")
    # FILE_HASH stays Keras's: the served fake file cannot match it.
    with pytest.raises(ValueError, match="Incomplete or corrupted file detected"):
        datasets.mnist.load_data()
    assert served.requests == ["/cache/mnist.npz"]
    assert tree(tmp_path / "datasets") == []


def test_a_404_names_the_url_and_where_to_put_the_file(
    served: FileServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    url = f"{served.url}/missing/imdb.npz"
    monkeypatch.setattr(datasets.imdb, "ORIGIN", url)
    with pytest.raises(DownloadError) as raised:
        datasets.imdb.load_data()
    message = str(raised.value)
    assert url in message and "HTTP 404" in message
    assert str(tmp_path / "datasets" / "imdb.npz") in message
    assert tree(tmp_path / "datasets") == []


def test_no_server_names_the_url_and_where_to_put_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/cifar-10-python.tar.gz"
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(datasets.cifar10, "ORIGIN", url)
    with pytest.raises(DownloadError, match="could not download") as raised:
        datasets.cifar10.load_data()
    assert url in str(raised.value)
    assert str(tmp_path / "datasets" / "cifar-10-batches-py-target_archive") in str(raised.value)


@pytest.mark.parametrize(
    ("members", "links"),
    [
        ({"cifar-100-python/meta": b"x", "../escaped.txt": b"owned"}, {}),
        ({"cifar-100-python/meta": b"x", "/tmp/cornu-absolute-escape.txt": b"owned"}, {}),
        ({"cifar-100-python/meta": b"x"}, {"cifar-100-python/out": "../../.."}),
    ],
    ids=["dot-dot", "absolute", "symlink-out"],
)
def test_an_archive_member_outside_its_folder_is_refused(
    members: dict[str, bytes],
    links: dict[str, str],
    served: FileServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    archive = served.root / f"{tmp_path.name}.tar.gz"
    write_tar(archive, members, links)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(datasets.cifar100, "ORIGIN", f"{served.url}/{archive.name}")
    monkeypatch.setattr(datasets.cifar100, "FILE_HASH", file_hash(archive, "sha256"))
    with pytest.raises(ValueError, match="refusing to extract .*may be corrupted or malicious"):
        datasets.cifar100.load_data()
    assert not (tmp_path / "home" / "datasets" / "escaped.txt").exists()
    assert not Path("/tmp/cornu-absolute-escape.txt").exists()
    folder = tmp_path / "home" / "datasets" / "cifar-100-python-target"
    assert not os.path.lexists(folder / "cifar-100-python" / "out")


@pytest.mark.parametrize(
    ("module", "write"), [("cifar100", evil_cifar), ("imdb", evil_imdb)], ids=["cifar", "npz"]
)
def test_a_pickle_naming_another_global_is_refused_and_never_run(
    module: str,
    write: Callable[[Path, Path], None],
    served: FileServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    marker = tmp_path / "code-ran"
    served_file = served.root / f"evil-{module}"
    write(served_file, marker)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    target = getattr(datasets, module)
    monkeypatch.setattr(target, "ORIGIN", f"{served.url}/{served_file.name}")
    monkeypatch.setattr(target, "FILE_HASH", file_hash(served_file, "sha256"))
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to unpickle `posix\.system`"):
        target.load_data()
    assert not marker.exists()
