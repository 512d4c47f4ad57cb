"""How the SDK sends the book's IMDB `x_train` (Deep Learning with Python, 3.5): 25,000
reviews as 10,000-wide multi-hot float64 vectors, 2 GB, as `vectorize_sequences` builds
them. Measures, on loopback against a stack started here:

- the time of `Client.upload` as fit calls it (float32 as Keras trains, SHA-256 for the
  content index, one zstd stream, the API decoding and checking it, Redis storing it),
  for a tenant that has not sent it before (so it is really sent);
- the bytes that went over the wire;
- the process's peak memory during the upload over the array's own size.

    .venv/bin/python benchmarks/upload.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np

from cornu.client import Client
from cornu.core.embedded import free_port, stack
from cornu.core.store import Store
from cornu.uploads import NpyStream


def imdb_like(reviews: int = 25_000, words: int = 10_000, seed: int = 0) -> np.ndarray:
    """The book's `vectorize_sequences` of IMDB-like reviews: about 240 words a review
    (the real mean), ranks from a Zipf-like law kept under `words` as `num_words` keeps
    them, so about 130 distinct words are set per row as in the real data set."""
    rng = np.random.default_rng(seed)
    x = np.zeros((reviews, words))  # float64, as the book makes it
    for i in range(reviews):
        ranks = rng.zipf(1.07, int(rng.gamma(2.0, 120.0)) + 10)
        x[i, ranks[ranks < words]] = 1.0
    return x


def peak_bytes() -> int:
    """This process's peak resident size (Linux's VmHWM: unlike getrusage's ru_maxrss,
    it does not count a parent's size at the spawn)."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--dense", action="store_true", help="uniform random floats instead: incompressible"
    )
    args = parser.parse_args()
    x_train = np.random.default_rng(0).random((25_000, 10_000)) if args.dense else imdb_like()
    density = x_train.sum(axis=1).mean()
    print(f"x_train: {x_train.shape} {x_train.dtype}, {x_train.nbytes / 1e9:.2f} GB, "
          f"{density:.0f} words set a review")  # fmt: skip
    before = peak_bytes()

    with tempfile.TemporaryDirectory() as home:
        os.environ["CORNU_MAX_UPLOAD_BYTES"] = str(2 * 1024**3)
        os.environ.pop("CORNU_REDIS_URL", None)
        with stack(Path(home), "127.0.0.1", free_port()) as running:
            stream = NpyStream(x_train)
            started = time.perf_counter()
            sent = sum(len(piece) for piece in stream.compressed())
            compress_s = time.perf_counter() - started
            started = time.perf_counter()
            stream.sha256()
            hash_s = time.perf_counter() - started
            size = f"{stream.nbytes / 1e6:.0f} MB of .npy → {sent / 1e6:.1f} MB of zstd"
            print(f"alone: hash {hash_s:.2f} s, compress {compress_s:.2f} s, {size}")
            for repeat in range(args.repeats):
                store = Store.from_url(running.redis_url)
                key = store.tenants.create_key(f"bench-{repeat}")  # a tenant new to the array
                store.close()
                with Client(running.url, key) as client:
                    started = time.perf_counter()
                    dataset = client.upload(x_train, keras_dtypes=True)
                    seconds = time.perf_counter() - started
                print(f"upload {repeat + 1}: {seconds:.2f} s ({dataset.dtype} {dataset.shape})")
    print(
        f"peak memory: {peak_bytes() / 1e9:.2f} GB, of which {before / 1e9:.2f} GB before "
        f"the uploads; {peak_bytes() / x_train.nbytes:.2f}× the array"
    )


if __name__ == "__main__":
    main()
