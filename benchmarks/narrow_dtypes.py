"""The book's multi-hot IMDB matrix (25,000 × 10,000 of 0/1) on the wire: as uint8
against float32, each made into its .npy stream, hashed (SHA-256, the content index) and
zstd-compressed exactly as the SDK's `Client.upload` does (`NpyStream`), plus the book's
own float64 array, which the SDK now sends as uint8 after checking that it holds only
small whole numbers (the scan's time is included). Client side only: bytes and seconds.

    .venv/bin/python -m benchmarks.narrow_dtypes [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks.upload import imdb_like
from cornu.uploads import NpyStream


def measure(array: np.ndarray, keras_dtypes: bool) -> tuple[str, int, int, float]:
    """The dtype sent, .npy bytes, compressed bytes and seconds (scan, hash, compress)."""
    started = time.perf_counter()
    stream = NpyStream(array, keras_dtypes=keras_dtypes)  # scans float data for uint8
    stream.sha256()
    wire = sum(len(piece) for piece in stream.compressed())
    return stream.dtype.name, stream.nbytes, wire, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    book = imdb_like()  # float64, as vectorize_sequences builds it
    forms: dict[str, tuple[np.ndarray, bool]] = {
        "uint8 (given as uint8)": (book.astype(np.uint8), False),
        "float32 (the SDK before: float64 → float32)": (book.astype(np.float32), False),
        "float64 as the book builds it (SDK now: → uint8)": (book, True),
    }
    for label, (array, keras_dtypes) in forms.items():
        runs = [measure(array, keras_dtypes) for _ in range(args.repeats)]
        dtype, npy, wire = runs[0][:3]
        seconds = ", ".join(f"{r[3]:.2f} s" for r in runs)
        print(f"{label}: sent as {dtype}, .npy {npy / 1e6:.0f} MB, on the wire "
              f"{wire / 1e6:.2f} MB ({npy / wire:.0f}× smaller), {seconds}")  # fmt: skip


if __name__ == "__main__":
    main()
