"""The book's chapter 3 at full size: IMDB (25,000 reviews as 10,000-wide float64
multi-hot vectors, 2 GB each for training and test) and Reuters (8,982 newswires), as
its code is written — the corpus's programs with the book's own sizes and epochs put
back. They train unchanged, and the SDK's process never holds much more than the
user's own arrays: the uploads convert, hash and compress a slice at a time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cornu.core.embedded import free_port
from tests.compat.keras_cache import write_keras_cache
from tests.conftest import start_api

ROOT = Path(__file__).resolve().parent.parent.parent
PROGRAMS = ROOT / "tests" / "compat" / "programs"
OFFLINE = ROOT / "tests" / "compat" / "keras_offline" / "cornu_sdk"
MEMORY_RATIO = 1.35  # peak over the user's arrays: the issue allows 1.5; 1.16 and 1.22 measured,
# and a second float32 copy of IMDB's x_train (1.41×) would fail

# What the corpus changed for test time, put back as the book has it (each must be found).
BOOK_SIZES = {
    "book1_ch3_imdb.py": {
        "= x_train[:128]": "= x_train[:10000]",
        "= x_train[128:]": "= x_train[10000:]",
        "= y_train[:128]": "= y_train[:10000]",
        "= y_train[128:]": "= y_train[10000:]",
        "epochs=2,": "epochs=20,",
        "epochs=1,": "epochs=4,",
    },
    "book1_ch3_reuters.py": {
        "= x_train[:128]": "= x_train[:1000]",
        "= x_train[128:]": "= x_train[1000:]",
        "= one_hot_train_labels[:128]": "= one_hot_train_labels[:1000]",
        "= one_hot_train_labels[128:]": "= one_hot_train_labels[1000:]",
        "epochs=2,": "epochs=20,",
        "epochs=1,": "epochs=9,",
    },
}
ARRAYS = {
    "book1_ch3_imdb.py": "x_train, x_test, y_train, y_test",
    "book1_ch3_reuters.py": "x_train, x_test, one_hot_train_labels, one_hot_test_labels",
}
# The program's own peak: VmHWM belongs to its address space, while getrusage's
# ru_maxrss also counts the parent's (pytest's) resident size when it was spawned.
MEASURE = """
import json as _json, os as _os, re as _re
_peak = _re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read())
_json.dump(
    {{"peak_bytes": int(_peak.group(1)) * 1024,
      "array_bytes": sum(_a.nbytes for _a in ({arrays}))}},
    open(_os.environ["CH3_MEMORY"], "w"),
)
"""


@pytest.fixture(scope="module")
def full_size_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("keras-full")
    # IMDB: 25,000 + 25,000 reviews; Reuters: 8,982 + 2,246 newswires (test_split 0.2).
    write_keras_cache(home, train=25_000, test=25_000, only=("imdb",))
    write_keras_cache(home, train=8_982, test=2_246, only=("reuters",))
    return home


@pytest.fixture(scope="module")
def big_api_url(service_env: dict[str, str], session_dir: Path) -> Iterator[str]:
    """An API of the session's stack whose upload limit takes IMDB's 1 GB of float32."""
    port = free_port()
    env = {**service_env, "CORNU_MAX_UPLOAD_BYTES": str(2 * 1024**3)}
    service = start_api(env, session_dir / "chapter3-api.log", port)
    yield f"http://127.0.0.1:{port}"
    service.stop()


@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", list(BOOK_SIZES))
def test_the_books_chapter_3_trains_at_full_size_in_bounded_memory(
    name: str,
    full_size_cache: Path,
    big_api_url: str,
    new_api_key: Callable[[], str],
    worker: object,
    tmp_path: Path,
) -> None:
    source = (PROGRAMS / name).read_text()
    for small, book in BOOK_SIZES[name].items():
        assert source.count(small) == 1, f"{name}: {small!r} is not in the corpus's program"
        source = source.replace(small, book)
    (tmp_path / name).write_text(source + MEASURE.format(arrays=ARRAYS[name]))
    memory = tmp_path / "memory.json"
    env = {
        **os.environ,
        "KERAS_HOME": str(full_size_cache),
        "COMPAT_REPORT": str(tmp_path / "report.json"),
        "CH3_MEMORY": str(memory),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(OFFLINE)]),
        "CORNU_URL": big_api_url,
        "CORNU_API_KEY": new_api_key(),
    }
    result = subprocess.run(
        [sys.executable, name], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=850
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    epochs = {"book1_ch3_imdb.py": 20, "book1_ch3_reuters.py": 20}[name]
    assert report["history"]["epochs"] == epochs
    used = json.loads(memory.read_text())
    assert used["array_bytes"] > 700_000_000  # the book's float64 arrays, at full size
    assert used["peak_bytes"] < MEMORY_RATIO * used["array_bytes"], used
