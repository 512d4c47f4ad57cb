"""What the `cornu.datasets` tests share: each loader's download and Keras's cases, a
local HTTP server, and helpers that compare Cornu's results with Keras 3.15.1's.
"""

from __future__ import annotations

import builtins
import hashlib
import http.server
import inspect
import io
import os
import pickle
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cornu import datasets
from cornu.datasets import fashion_mnist

ROOT = Path(__file__).resolve().parents[3]


CORNU_OFFLINE = ROOT / "tests" / "compat" / "keras_offline" / "cornu_sdk"


KERAS_TIMEOUT_S = 300


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


def bare_signature(function: Callable[..., Any]) -> str:
    """The signature as Keras's unannotated functions print it."""
    signature = inspect.signature(function)
    return str(
        signature.replace(
            parameters=[p.replace(annotation=p.empty) for p in signature.parameters.values()],
            return_annotation=signature.empty,
        )
    )


class Gadget:
    """Pickles as a call of os.system: what a tampered data file would hold."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[[str], int], tuple[str]]:
        return os.system, (f"touch {self.marker}",)


def evil_cifar(path: Path, marker: Path) -> None:
    batch = {b"data": np.zeros((1, 3072), np.uint8), b"fine_labels": [Gadget(marker)]}
    write_tar(path, {"cifar-100-python/train": pickle.dumps(batch, protocol=4)})


def evil_imdb(path: Path, marker: Path) -> None:
    x = np.empty(1, dtype=object)
    x[0] = Gadget(marker)
    with open(path, "wb") as f:
        np.savez(f, x_train=x, y_train=np.zeros(1), x_test=x, y_test=np.zeros(1))
