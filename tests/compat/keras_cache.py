"""A fake Keras cache: small files in Keras 3.15's own on-disk formats, so that
`keras.datasets.<name>.load_data()` (and Cornu's copy of it) reads them without a network.

`write_keras_cache(root)` writes under `root / "datasets"` what Keras's loaders
(`keras/src/datasets/*.py`) find in `$KERAS_HOME/datasets/` after a real download, with each
sample's shape and dtype as in the real data set and random contents from a fixed seed:

- mnist: `mnist.npz`, `x_*` uint8 (n, 28, 28), `y_*` uint8 in 0..9.
- fashion_mnist: `fashion-mnist/{train,t10k}-{labels-idx1,images-idx3}-ubyte.gz`, gzipped
  idx files (big-endian header, then uint8 data).
- cifar10: `cifar-10-batches-py-target_archive` (a tar.gz) and its extraction
  `cifar-10-batches-py-target/cifar-10-batches-py/`: pickled `data_batch_1..5` and
  `test_batch` dicts with `data` uint8 (n, 3072) and `labels` (list of int), `batches.meta`.
- cifar100: `cifar-100-python-target_archive` and `cifar-100-python-target/cifar-100-python/`
  with `train`/`test` (`fine_labels` 0..99, `coarse_labels` 0..19) and `meta`.
- imdb: `imdb.npz` (`x_*` object arrays of lists of word ranks, 1 = most frequent,
  Zipf-distributed, log-normal lengths; `y_*` int64 0/1) and `imdb_word_index.json`.
- reuters: `reuters.npz` (`x` object array of lists, `y` int64 in 0..45) and
  `reuters_word_index.json`.
- boston_housing: `boston_housing.npz`, `x` float64 (n, 13), `y` float64.
- california_housing: `california_housing.npz`, `x` float32 (n, 8), `y` float32.

Two facts of Keras 3.15 that a user of this cache must know:

- Every loader passes a `file_hash` to `get_file`, and a cached file whose hash differs is
  downloaded again. These files cannot have the real hashes, so real Keras reads them only
  with `keras.src.utils.file_utils.validate_file` patched to accept them (the reference
  runner does this with `tests/compat/keras_offline/sitecustomize.py`).
- `cifar10.load_data` fills a preallocated array of exactly 50,000 training images from
  five batches of 10,000, so CIFAR-10's training set is always 50,000 samples here whatever
  `train` is (its test batch has `test` samples). CIFAR-100 has no such limit.

The loaders that split one array themselves (reuters, boston_housing, california_housing,
all with `test_split=0.2` by default) get `train + test` samples, which they split 4:1 —
exactly `train`/`test` with the defaults 512/128.
"""

from __future__ import annotations

import gzip
import io
import json
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np

SEED = 1337
#: Real vocabulary sizes: the word-index JSON files map this many words to ranks 1..n.
IMDB_VOCABULARY = 88584
REUTERS_VOCABULARY = 30979
REUTERS_TOPICS = 46
#: CIFAR-10's loader in Keras 3.15 hard-codes five training batches of this many images.
CIFAR10_BATCH = 10_000


DATASETS = (
    "mnist",
    "fashion_mnist",
    "cifar10",
    "cifar100",
    "imdb",
    "reuters",
    "boston_housing",
    "california_housing",
)


def write_keras_cache(
    root: Path | str, *, train: int = 512, test: int = 128, only: tuple[str, ...] = DATASETS
) -> None:
    """Write the built-in data sets' cache files (all, or those named in `only`) under
    `root / "datasets"`.

    Set `KERAS_HOME=root` and `keras.datasets.<name>.load_data()` returns arrays of `train`
    and `test` samples (CIFAR-10's training set excepted: see the module docstring).
    Contents are random but the same on every call with the same arguments.
    """
    root = Path(root)
    datasets = root / "datasets"
    datasets.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    writers = {
        "mnist": lambda: _write_mnist(datasets, rng, train, test),
        "fashion_mnist": lambda: _write_fashion_mnist(datasets, rng, train, test),
        "cifar10": lambda: _write_cifar10(datasets, rng, test),
        "cifar100": lambda: _write_cifar100(datasets, rng, train, test),
        "imdb": lambda: _write_imdb(datasets, rng, train, test),
        "reuters": lambda: _write_reuters(datasets, rng, train + test),
        "boston_housing": lambda: _write_housing(
            datasets / "boston_housing.npz", rng, train + test, 13, "float64"
        ),
        "california_housing": lambda: _write_housing(
            datasets / "california_housing.npz", rng, train + test, 8, "float32"
        ),
    }
    for name in DATASETS:
        if name in only:
            writers[name]()


def _images(rng: np.random.Generator, n: int, *shape: int) -> np.ndarray:
    return rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)


def _labels(rng: np.random.Generator, n: int, classes: int, dtype: str) -> np.ndarray:
    return rng.integers(0, classes, size=n).astype(dtype)


def _write_mnist(datasets: Path, rng: np.random.Generator, train: int, test: int) -> None:
    np.savez_compressed(
        datasets / "mnist.npz",
        x_train=_images(rng, train, 28, 28),
        y_train=_labels(rng, train, 10, "uint8"),
        x_test=_images(rng, test, 28, 28),
        y_test=_labels(rng, test, 10, "uint8"),
    )


def _idx(array: np.ndarray) -> bytes:
    """The idx format of LeCun's MNIST files: magic (0x08 = ubyte, ndim), big-endian sizes."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_fashion_mnist(datasets: Path, rng: np.random.Generator, train: int, test: int) -> None:
    directory = datasets / "fashion-mnist"
    directory.mkdir(exist_ok=True)
    for prefix, n in (("train", train), ("t10k", test)):
        labels = _labels(rng, n, 10, "uint8")
        images = _images(rng, n, 28, 28)
        (directory / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx(labels)))
        (directory / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx(images)))


def _pickle(value: object) -> bytes:
    # Protocol 4: bytes are pickled as bytes (protocol 2 goes through `_codecs.encode`) and
    # arrays through `multiarray._reconstruct` (protocol 5 uses `_frombuffer`): the only
    # globals Keras's restricted unpickler allows are numpy's ndarray, dtype, _reconstruct.
    return pickle.dumps(value, protocol=4)


def _cifar_batch(rng: np.random.Generator, n: int, label: str, **labels: list[int]) -> bytes:
    batch: dict[bytes, object] = {
        b"batch_label": label.encode(),
        b"data": _images(rng, n, 3 * 32 * 32),
        b"filenames": [f"image_{i:05d}.png".encode() for i in range(n)],
    }
    batch.update({key.encode(): value for key, value in labels.items()})
    return _pickle(batch)


def _write_extracted_archive(
    datasets: Path, name: str, inner: str, files: dict[str, bytes]
) -> None:
    """What `get_file(name, extract=True)` leaves: `<name>_archive` (a tar.gz) and its
    extraction in `<name>/`, whose single folder `inner` holds the files."""
    archive = datasets / f"{name}_archive"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        for filename, content in files.items():
            info = tarfile.TarInfo(f"{inner}/{filename}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    folder = datasets / name / inner
    folder.mkdir(parents=True, exist_ok=True)
    for filename, content in files.items():
        (folder / filename).write_bytes(content)


def _write_cifar10(datasets: Path, rng: np.random.Generator, test: int) -> None:
    names = ["airplane", "automobile", "bird", "cat", "deer"]
    names += ["dog", "frog", "horse", "ship", "truck"]
    files = {"batches.meta": _pickle({b"label_names": [n.encode() for n in names]})}
    for i in range(1, 6):
        labels = _labels(rng, CIFAR10_BATCH, 10, "int64").tolist()
        files[f"data_batch_{i}"] = _cifar_batch(
            rng, CIFAR10_BATCH, f"training batch {i} of 5", labels=labels
        )
    labels = _labels(rng, test, 10, "int64").tolist()
    files["test_batch"] = _cifar_batch(rng, test, "testing batch 1 of 1", labels=labels)
    _write_extracted_archive(datasets, "cifar-10-batches-py-target", "cifar-10-batches-py", files)


def _write_cifar100(datasets: Path, rng: np.random.Generator, train: int, test: int) -> None:
    meta = {
        b"fine_label_names": [f"fine_{i}".encode() for i in range(100)],
        b"coarse_label_names": [f"coarse_{i}".encode() for i in range(20)],
    }
    files = {"meta": _pickle(meta)}
    for split, n in (("train", train), ("test", test)):
        fine = _labels(rng, n, 100, "int64")
        files[split] = _cifar_batch(
            rng,
            n,
            f"{split}ing batch 1 of 1",
            fine_labels=fine.tolist(),
            coarse_labels=(fine // 5).tolist(),
        )
    _write_extracted_archive(datasets, "cifar-100-python-target", "cifar-100-python", files)


def _sequences(rng: np.random.Generator, n: int, vocabulary: int, mean_length: float) -> np.ndarray:
    """`n` reviews or newswires: lists of word ranks (1 = most frequent), Zipf-distributed,
    with log-normal lengths (the real sets: IMDB mean 239 words, Reuters 146)."""
    lengths = np.clip(rng.lognormal(np.log(mean_length) - 0.3, 0.75, size=n), 8, 2000)
    ranks = np.arange(1, vocabulary + 1)
    p = 1.0 / ranks**1.05
    p /= p.sum()
    words = rng.choice(ranks, size=int(lengths.astype(int).sum()), p=p)
    out = np.empty(n, dtype=object)
    start = 0
    for i, length in enumerate(lengths.astype(int)):
        out[i] = [int(w) for w in words[start : start + length]]
        start += length
    return out


def _word_index(vocabulary: int) -> dict[str, int]:
    return {f"word{rank}": rank for rank in range(1, vocabulary + 1)}


def _write_imdb(datasets: Path, rng: np.random.Generator, train: int, test: int) -> None:
    # np.savez pickles object arrays (allow_pickle defaults to True when saving).
    np.savez_compressed(
        datasets / "imdb.npz",
        x_train=_sequences(rng, train, IMDB_VOCABULARY, 239),
        y_train=_labels(rng, train, 2, "int64"),
        x_test=_sequences(rng, test, IMDB_VOCABULARY, 239),
        y_test=_labels(rng, test, 2, "int64"),
    )
    (datasets / "imdb_word_index.json").write_text(json.dumps(_word_index(IMDB_VOCABULARY)))


def _write_reuters(datasets: Path, rng: np.random.Generator, n: int) -> None:
    np.savez_compressed(
        datasets / "reuters.npz",
        x=_sequences(rng, n, REUTERS_VOCABULARY, 146),
        y=_labels(rng, n, REUTERS_TOPICS, "int64"),
    )
    (datasets / "reuters_word_index.json").write_text(json.dumps(_word_index(REUTERS_VOCABULARY)))


def _write_housing(path: Path, rng: np.random.Generator, n: int, features: int, dtype: str) -> None:
    x = rng.lognormal(0.0, 1.0, size=(n, features)) * rng.uniform(1, 100, size=features)
    y = rng.uniform(5.0, 50.0, size=n)
    np.savez_compressed(path, x=x.astype(dtype), y=y.astype(dtype))
