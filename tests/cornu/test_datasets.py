"""`cornu.datasets` and `cornu.utils.file_utils` against real Keras 3.15.1 and a real HTTP
server.

1. Every loader reads a fake Keras cache (`tests/compat/keras_cache.py`) and returns the
   arrays real Keras returns for the same arguments. Keras runs once, in a subprocess
   (KERAS_BACKEND=torch), with its `validate_file` patched to accept the fake files, which
   cannot carry the real hashes; Cornu's hash checks stay on: its expected hashes are set
   to the fake files' own, and its URLs at a server that records any request (none come).
2. Downloads run for real, from `http.server` on 127.0.0.1: only the module-level URL and
   hash are changed, to those of the served file. Download, hashing, caching, extraction
   and parsing are Cornu's own code.
3. `get_file` alone: the paths and files it leaves compared with Keras's for the same
   arguments against the same server, and its hash rules.
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import http.server
import inspect
import io
import json
import os
import pickle
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cornu import datasets
from cornu.datasets import fashion_mnist
from cornu.utils.file_utils import DownloadError, get_file, validate_file
from tests.compat.keras_cache import write_keras_cache

ROOT = Path(__file__).resolve().parents[2]
CORNU_OFFLINE = ROOT / "tests" / "compat" / "keras_offline" / "cornu_sdk"
KERAS_TIMEOUT_S = 300


# --- What each loader downloads ---------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A loader function's download: the module attributes holding its URL (a folder URL
    for Fashion-MNIST) and its hash (None: Keras checks none), and what it caches under
    `$KERAS_HOME/datasets`."""

    origin: str
    file_hash: str | None
    files: tuple[str, ...]


SOURCES: dict[tuple[str, str], Source] = {
    ("mnist", "load_data"): Source("ORIGIN", "FILE_HASH", ("mnist.npz",)),
    ("fashion_mnist", "load_data"): Source(
        "BASE_ORIGIN", None, tuple(f"fashion-mnist/{name}" for name in fashion_mnist.FILES)
    ),
    ("cifar10", "load_data"): Source(
        "ORIGIN", "FILE_HASH", ("cifar-10-batches-py-target_archive",)
    ),
    ("cifar100", "load_data"): Source("ORIGIN", "FILE_HASH", ("cifar-100-python-target_archive",)),
    ("imdb", "load_data"): Source("ORIGIN", "FILE_HASH", ("imdb.npz",)),
    ("imdb", "get_word_index"): Source(
        "WORD_INDEX_ORIGIN", "WORD_INDEX_HASH", ("imdb_word_index.json",)
    ),
    ("reuters", "load_data"): Source("ORIGIN", "FILE_HASH", ("reuters.npz",)),
    ("reuters", "get_word_index"): Source(
        "WORD_INDEX_ORIGIN", "WORD_INDEX_HASH", ("reuters_word_index.json",)
    ),
    ("boston_housing", "load_data"): Source("ORIGIN", "FILE_HASH", ("boston_housing.npz",)),
    ("california_housing", "load_data"): Source("ORIGIN", "FILE_HASH", ("california_housing.npz",)),
}

#: (case id, module, function, keyword arguments), run under Keras and Cornu alike.
CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("mnist", "mnist", "load_data", {}),
    ("fashion_mnist", "fashion_mnist", "load_data", {}),
    ("cifar10", "cifar10", "load_data", {}),
    ("cifar100", "cifar100", "load_data", {}),
    ("cifar100-coarse", "cifar100", "load_data", {"label_mode": "coarse"}),
    ("cifar100-bad-label-mode", "cifar100", "load_data", {"label_mode": "medium"}),
    ("imdb", "imdb", "load_data", {}),
    (
        "imdb-vocabulary",
        "imdb",
        "load_data",
        {"num_words": 1000, "skip_top": 20, "maxlen": 300, "seed": 7},
    ),
    ("imdb-no-marks", "imdb", "load_data", {"start_char": None, "oov_char": None, "index_from": 0}),
    ("imdb-shifted", "imdb", "load_data", {"start_char": None, "index_from": 5, "num_words": 200}),
    ("imdb-oov-dropped", "imdb", "load_data", {"num_words": 500, "oov_char": None, "maxlen": 100}),
    ("imdb-maxlen-keeps-nothing", "imdb", "load_data", {"maxlen": 3}),
    ("imdb-unknown-kwarg-ignored", "imdb", "load_data", {"nb_words": 10}),
    ("imdb-word-index", "imdb", "get_word_index", {}),
    ("reuters", "reuters", "load_data", {}),
    (
        "reuters-vocabulary",
        "reuters",
        "load_data",
        {"num_words": 2000, "skip_top": 5, "maxlen": 150, "test_split": 0.3, "seed": 1},
    ),
    (
        "reuters-no-marks",
        "reuters",
        "load_data",
        {"start_char": None, "oov_char": None, "index_from": 0},
    ),
    ("reuters-word-index", "reuters", "get_word_index", {}),
    ("reuters-label-names", "reuters", "get_label_names", {}),
    ("boston_housing", "boston_housing", "load_data", {}),
    ("boston-split", "boston_housing", "load_data", {"test_split": 0.1, "seed": 3}),
    ("boston-no-test", "boston_housing", "load_data", {"test_split": 0}),
    ("boston-bad-split", "boston_housing", "load_data", {"test_split": 1}),
    ("california_housing", "california_housing", "load_data", {}),
    ("california-small", "california_housing", "load_data", {"version": "small"}),
    (
        "california-small-split",
        "california_housing",
        "load_data",
        {"version": "small", "test_split": 0.5, "seed": 0},
    ),
    ("california-bad-version", "california_housing", "load_data", {"version": "medium"}),
    ("california-bad-split", "california_housing", "load_data", {"test_split": -0.1}),
]
CASE = {case_id: (module, function, kwargs) for case_id, module, function, kwargs in CASES}
#: The cases that download: each loader function with its defaults.
DOWNLOADS = [
    "mnist",
    "fashion_mnist",
    "cifar10",
    "cifar100",
    "imdb",
    "imdb-word-index",
    "reuters",
    "reuters-word-index",
    "boston_housing",
    "california_housing",
]

# --- get_file's cases: served files, and the arguments compared with Keras ----------------

DATA = b"Cornu is Latin for horn.\n" * 4000
DATA_SHA256 = hashlib.sha256(DATA).hexdigest()
DATA_MD5 = hashlib.md5(DATA).hexdigest()
#: What the test archives hold.
BUNDLE = {"bundle/a.txt": b"alpha\n", "bundle/nested/b.txt": b"beta\n"}

GET_FILE_CASES: dict[str, dict[str, Any]] = {
    "plain": {"fname": "data.bin", "origin": "files/data.bin"},
    "name-from-url": {"origin": "files/data.bin"},
    "sha256": {"fname": "data.bin", "origin": "files/data.bin", "file_hash": DATA_SHA256},
    "md5": {"fname": "data.bin", "origin": "files/data.bin", "file_hash": DATA_MD5},
    "md5-hash-argument": {"fname": "data.bin", "origin": "files/data.bin", "md5_hash": DATA_MD5},
    "tar-name-without-dot": {"fname": "bundle", "origin": "files/bundle.tar.gz", "extract": True},
    "tar-name-with-dot": {
        "fname": "bundle.tar.gz",
        "origin": "files/bundle.tar.gz",
        "extract": True,
    },
    "tar-name-from-url": {"origin": "files/bundle.tar.gz", "extract": True},
    "untar": {"fname": "bundle", "origin": "files/bundle.tar.gz", "untar": True},
    "zip": {"fname": "bundle.zip", "origin": "files/bundle.zip", "extract": True},
    "zip-tar-only": {
        "fname": "bundle.zip",
        "origin": "files/bundle.zip",
        "extract": True,
        "archive_format": "tar",
    },
    "no-archive-format": {
        "fname": "bundle",
        "origin": "files/bundle.tar.gz",
        "extract": True,
        "archive_format": None,
    },
    "cache-subdir": {"fname": "data.bin", "origin": "files/data.bin", "cache_subdir": "models"},
    "nested-cache-subdir": {
        "origin": "files/data.bin",
        "cache_subdir": os.path.join("datasets", "deep"),
    },
}

#: (algorithm, which hash) given to validate_file for data.bin.
VALIDATE_CASES = [
    ("auto", "sha256"),
    ("auto", "md5"),
    ("sha256", "sha256"),
    ("md5", "md5"),
    ("sha256", "md5"),
    ("md5", "sha256"),
    ("auto", "sha256-uppercase"),
    ("sha1", "md5"),  # Keras: any name but "sha256" means md5
    ("auto", "wrong"),
]


def hash_named(which: str) -> str:
    return {
        "sha256": DATA_SHA256,
        "md5": DATA_MD5,
        "sha256-uppercase": DATA_SHA256.upper(),
        "wrong": "0" * 64,
    }[which]


# --- A file server that counts requests ------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class FileServer:
    url: str
    root: Path
    requests: list[str]


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


def write_tar(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)


def file_hash(path: Path, algorithm: str) -> str:
    return hashlib.new(algorithm, path.read_bytes()).hexdigest()


def point_at(
    monkeypatch: pytest.MonkeyPatch, module: str, function: str, base_url: str, cache: Path
) -> Source:
    """Make `module.function` download from `base_url` (which holds the cache's layout) and
    expect the hash of the file in `cache`, by the algorithm Keras's own hash implies."""
    source = SOURCES[(module, function)]
    target = getattr(datasets, module)
    if source.file_hash is None:
        folder = os.path.dirname(source.files[0])
        monkeypatch.setattr(target, source.origin, f"{base_url}/{folder}/")
        return source
    (name,) = source.files
    monkeypatch.setattr(target, source.origin, f"{base_url}/{name}")
    algorithm = "sha256" if len(getattr(target, source.file_hash)) == 64 else "md5"
    monkeypatch.setattr(target, source.file_hash, file_hash(cache / name, algorithm))
    return source


def call(case_id: str) -> Any:
    module, function, kwargs = CASE[case_id]
    return getattr(getattr(datasets, module), function)(**kwargs)


def assert_same(ours: Any, theirs: Any, where: str = "result") -> None:
    """Same types, shapes, dtypes and values, all the way down."""
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray), where
        assert (ours.shape, ours.dtype) == (theirs.shape, theirs.dtype), where
        if theirs.dtype == object:
            assert ours.tolist() == theirs.tolist(), where
        else:
            np.testing.assert_array_equal(ours, theirs, err_msg=where, strict=True)
    elif isinstance(theirs, list | tuple):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    else:
        assert type(ours) is type(theirs) and ours == theirs, where


def writeable_flags(value: Any) -> Any:
    """Each array's writeable flag, nested as the value (as the Keras script reports it)."""
    if isinstance(value, list | tuple):
        return [writeable_flags(item) for item in value]
    return value.flags.writeable if isinstance(value, np.ndarray) else None


def assert_matches_keras(case_id: str, reference: dict[str, Any]) -> None:
    expected = reference[case_id]
    if expected[0] == "error":
        _, kind, message = expected
        with pytest.raises(getattr(builtins, kind)) as raised:
            call(case_id)
        assert str(raised.value) == message
    else:
        _, value, writeable = expected
        ours = call(case_id)
        assert_same(ours, value, case_id)
        assert writeable_flags(ours) == writeable, f"{case_id}: read-only arrays differ"


def tree(base: Path) -> list[str]:
    return sorted(str(p.relative_to(base)) + ("/" if p.is_dir() else "") for p in base.rglob("*"))


# --- Real Keras, once -------------------------------------------------------------------

KERAS_SCRIPT = """
import inspect, json, os, pickle, sys, warnings

import keras
from keras.src.utils import file_utils

def writeable(value):  # each array's writeable flag: pickling does not keep it
    if isinstance(value, (list, tuple)):
        return [writeable(item) for item in value]
    return value.flags.writeable if hasattr(value, "flags") else None


spec = json.load(open(sys.argv[1]))
results = {"loaders": {}, "get_file": {}, "validate": [], "signatures": {}, "names": {}}

for module in dir(keras.datasets):
    if not module.startswith("_"):
        api = getattr(keras.datasets, module)
        names = [name for name in dir(api) if not name.startswith("_")]
        results["names"][module] = names
        for name in names:
            results["signatures"][f"{module}.{name}"] = str(inspect.signature(getattr(api, name)))
results["signatures"]["get_file"] = str(inspect.signature(keras.utils.get_file))

# The fake files cannot carry Keras's real hashes (see tests/compat/keras_cache.py).
validate_file = file_utils.validate_file
file_utils.validate_file = lambda *args, **kwargs: True
for case_id, module, function, kwargs in spec["loaders"]:
    try:
        value = getattr(getattr(keras.datasets, module), function)(**kwargs)
        results["loaders"][case_id] = ("ok", value, writeable(value))
    except Exception as e:
        results["loaders"][case_id] = ("error", type(e).__name__, str(e))
file_utils.validate_file = validate_file

for case_id, kwargs in spec["get_file"].items():
    os.makedirs(kwargs["cache_dir"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = keras.utils.get_file(**kwargs)
    results["get_file"][case_id] = (
        os.path.relpath(path, kwargs["cache_dir"]), [str(w.message) for w in caught]
    )
for path, file_hash, algorithm in spec["validate"]:
    results["validate"].append(validate_file(path, file_hash, algorithm=algorithm))

with open(sys.argv[2], "wb") as f:
    pickle.dump(results, f)
"""


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


# --- 1. Loaders against Keras, from the cache --------------------------------------------


@pytest.mark.parametrize("case_id", list(CASE))
def test_loader_returns_what_keras_returns(
    case_id: str, cached: FileServer, reference: dict[str, Any]
) -> None:
    assert_matches_keras(case_id, reference)
    assert cached.requests == [], "a cached file that Keras would use was downloaded"


def bare_signature(function: Callable[..., Any]) -> str:
    """The signature as Keras's unannotated functions print it."""
    signature = inspect.signature(function)
    return str(
        signature.replace(
            parameters=[p.replace(annotation=p.empty) for p in signature.parameters.values()],
            return_annotation=signature.empty,
        )
    )


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


# --- 2. Downloads, for real ------------------------------------------------------------


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


class _Gadget:
    """Pickles as a call of os.system: what a tampered data file would hold."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[[str], int], tuple[str]]:
        return os.system, (f"touch {self.marker}",)


def _evil_cifar(path: Path, marker: Path) -> None:
    batch = {b"data": np.zeros((1, 3072), np.uint8), b"fine_labels": [_Gadget(marker)]}
    write_tar(path, {"cifar-100-python/train": pickle.dumps(batch, protocol=4)})


def _evil_imdb(path: Path, marker: Path) -> None:
    x = np.empty(1, dtype=object)
    x[0] = _Gadget(marker)
    with open(path, "wb") as f:
        np.savez(f, x_train=x, y_train=np.zeros(1), x_test=x, y_test=np.zeros(1))


@pytest.mark.parametrize(
    ("module", "write"), [("cifar100", _evil_cifar), ("imdb", _evil_imdb)], ids=["cifar", "npz"]
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


# --- 3. get_file on its own ----------------------------------------------------------------


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
