"""`keras.utils.get_file` alone: the paths and files it leaves compared with Keras 3.15.1's
for the same arguments against the same local server, and its hash rules.
"""

from __future__ import annotations

import os
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest

from cornu.utils.file_utils import get_file, validate_file
from tests.cornu.datasets.support import (
    DATA,
    DATA_MD5,
    DATA_SHA256,
    GET_FILE_CASES,
    VALIDATE_CASES,
    FileServer,
    hash_named,
    tree,
)


@pytest.mark.parametrize("case_id", list(GET_FILE_CASES))
def test_get_file_leaves_what_keras_leaves(
    case_id: str, served: FileServer, keras_results: dict[str, Any], tmp_path: Path
) -> None:
    kwargs = GET_FILE_CASES[case_id]
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = get_file(
            **{**kwargs, "origin": f"{served.url}/{kwargs['origin']}"}, cache_dir=cache_dir
        )
    keras_path, keras_warnings = keras_results["get_file"][case_id]
    assert os.path.relpath(path, cache_dir) == keras_path
    assert [str(w.message) for w in caught] == keras_warnings
    assert tree(cache_dir) == keras_results["get_file_trees"][case_id]


def test_validate_file_agrees_with_keras(served: FileServer, keras_results: dict[str, Any]) -> None:
    data = served.root / "files" / "data.bin"
    ours = [validate_file(data, hash_named(which), algorithm=alg) for alg, which in VALIDATE_CASES]
    assert ours == keras_results["validate"]
    assert ours == [True, True, True, True, False, False, False, True, False]


@pytest.mark.parametrize(
    "hashing",
    [
        {"file_hash": DATA_SHA256},
        {"file_hash": DATA_MD5},
        {"file_hash": DATA_SHA256, "hash_algorithm": "sha256"},
        {"file_hash": DATA_MD5, "hash_algorithm": "md5"},
        {"md5_hash": DATA_MD5},
    ],
    ids=["sha256-auto", "md5-auto", "sha256", "md5", "md5_hash"],
)
def test_get_file_checks_the_hash_it_is_given(
    hashing: dict[str, str], served: FileServer, tmp_path: Path
) -> None:
    origin = f"{served.url}/files/data.bin"
    path = get_file("data.bin", origin, cache_dir=tmp_path / "good", **hashing)
    assert Path(path).read_bytes() == DATA

    wrong = {key: value[::-1] for key, value in hashing.items() if key != "hash_algorithm"}
    algorithm = {k: v for k, v in hashing.items() if k == "hash_algorithm"}
    with pytest.raises(ValueError, match="Incomplete or corrupted file detected"):
        get_file("data.bin", origin, cache_dir=tmp_path / "bad", **wrong, **algorithm)
    assert tree(tmp_path / "bad") == ["datasets/"]


def test_get_file_uses_the_cache_unless_forced(served: FileServer, tmp_path: Path) -> None:
    origin = f"{served.url}/files/data.bin"
    for _ in range(2):
        get_file("data.bin", origin, file_hash=DATA_SHA256, cache_dir=tmp_path)
    assert served.requests == ["/files/data.bin"]
    get_file("data.bin", origin, file_hash=DATA_SHA256, cache_dir=tmp_path, force_download=True)
    assert served.requests == ["/files/data.bin"] * 2


def test_get_file_extracts_again_on_every_call_as_keras_does(
    served: FileServer, tmp_path: Path
) -> None:
    origin = f"{served.url}/files/bundle.tar.gz"
    folder = Path(get_file("bundle", origin, extract=True, cache_dir=tmp_path))
    (folder / "bundle" / "a.txt").unlink()
    assert Path(get_file("bundle", origin, extract=True, cache_dir=tmp_path)) == folder
    assert (folder / "bundle" / "a.txt").read_bytes() == b"alpha\n"
    assert served.requests == ["/files/bundle.tar.gz"]


def test_get_file_cache_locations(
    served: FileServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    origin = f"{served.url}/files/data.bin"
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    assert get_file(origin=origin) == str(tmp_path / "keras-home" / "datasets" / "data.bin")
    absolute = tmp_path / "absolute" / "subdir"
    assert get_file(origin=origin, cache_subdir=absolute) == str(absolute / "data.bin")

    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    (tmp_path / "user").mkdir()
    assert get_file(origin=origin) == str(tmp_path / "user" / ".keras" / "datasets" / "data.bin")

    # Keras would fall back to /tmp/.keras for a cache_dir that does not exist yet.
    new = tmp_path / "new" / "cache"
    assert get_file(origin=origin, cache_dir=new) == str(new / "datasets" / "data.bin")


def test_get_file_refuses_what_keras_refuses(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match='specify the "origin" argument'):
        get_file("data.bin", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="Paths are no longer accepted"):
        get_file(os.path.join("a", "b"), "http://127.0.0.1:9/b", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="Can't parse the file name"):
        get_file(origin="http://127.0.0.1:9/", cache_dir=tmp_path)


def test_a_zip_member_outside_its_folder_is_refused(served: FileServer, tmp_path: Path) -> None:
    archive = served.root / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("bundle/a.txt", b"alpha\n")
        z.writestr("../escaped.txt", b"owned")
    with pytest.raises(ValueError, match="refusing to extract"):
        get_file("evil.zip", f"{served.url}/evil.zip", extract=True, cache_dir=tmp_path)
    assert not (tmp_path / "datasets" / "escaped.txt").exists()
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "datasets" / "evil_extracted").exists()
