""".npz uploads over real HTTP: one archive, a dataset per named array, a two-input
two-output model trained from them; malformed and oversized archives refused as 4xx
problem+json from their headers, never a 500."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import zstandard

from tests.conftest import TEST_MAX_UPLOAD_BYTES, Service
from tests.helpers import npy_bytes, wait_for_job

KERAS = Path(__file__).parents[1] / "data" / "keras"
NPZ = {"Content-Type": "application/x-npz"}


def npz_bytes(arrays: dict[str, Any], compressed: bool = False) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue()


def zip_of(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def two_input_arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(64, 16)).astype(np.float32)
    b = rng.normal(size=(64, 16)).astype(np.float16)  # narrow: stored as it came
    cls = ((a[:, 0] > 0).astype(np.int64) + (b[:, 0] > 0)).astype(np.uint8)
    reg = (a[:, 1] - b[:, 1])[:, None].astype(np.float32)
    return {"a": a, "b": b, "cls": cls, "reg": reg}


def assert_problem(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    detail = response.json()["detail"]
    for word in words:
        assert word in detail, detail


def test_an_archive_becomes_a_dataset_per_array(http: httpx.Client) -> None:
    arrays = two_input_arrays()
    body = zstandard.ZstdCompressor().compress(npz_bytes(arrays, compressed=True))
    response = http.post("/v1/datasets", content=body, headers={**NPZ, "Content-Encoding": "zstd"})
    assert response.status_code == 201, response.text
    datasets = response.json()["datasets"]
    assert list(datasets) == ["a", "b", "cls", "reg"]  # the archive's order
    for name, array in arrays.items():
        data = npy_bytes(array)
        stored = datasets[name]
        assert stored["shape"] == list(array.shape) and stored["dtype"] == array.dtype.name
        assert stored["bytes"] == len(data) and stored["sha256"] == hashlib.sha256(data).hexdigest()
        assert http.get(f"/v1/datasets/{stored['id']}").json() == stored
        found = http.get("/v1/datasets", params={"sha256": stored["sha256"]}).json()
        assert found["id"] == stored["id"]  # the SDK finds each array by its content


def test_a_multipart_npz_file_and_an_idempotent_repeat(http: httpx.Client) -> None:
    body = npz_bytes({"x": np.arange(6.0).reshape(3, 2), "y": np.array([0, 1, 0])})
    first = http.post(
        "/v1/datasets", files={"file": ("data.npz", body)}, headers={"Idempotency-Key": "k1"}
    )
    assert first.status_code == 201, first.text
    again = http.post(
        "/v1/datasets", files={"file": ("data.npz", body)}, headers={"Idempotency-Key": "k1"}
    )
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()


def test_an_archive_feeds_a_two_input_two_output_model(http: httpx.Client, worker: Service) -> None:
    response = http.post("/v1/datasets", content=npz_bytes(two_input_arrays()), headers=NPZ)
    assert response.status_code == 201, response.text
    ids = {name: d["id"] for name, d in response.json()["datasets"].items()}
    spec = {
        "model": (KERAS / "keras3_functional.json").read_text(),
        "compile": {
            "optimizer": "adam",
            "loss": {"cls": "sparse_categorical_crossentropy", "reg": "mse"},
            "metrics": {"cls": ["accuracy"]},
        },
        "fit": {"epochs": 3, "batch_size": 8, "seed": 0},
        "data": {"x": {"a": ids["a"], "b": ids["b"]}, "y": {"cls": ids["cls"], "reg": ids["reg"]}},
    }
    created = http.post("/v1/jobs", json=spec)
    assert created.status_code == 201, created.text
    job = wait_for_job(http, created.json()["id"])
    assert job["status"] == "succeeded", job["error"]
    history = http.get(f"/v1/jobs/{job['id']}/metrics").json()["history"]
    assert len(history["loss"]) == 3 and history["loss"][-1] < history["loss"][0]


def _lying_member() -> bytes:
    """A member whose .npy header promises 10 float32 (168 bytes) but holds 5 of them."""
    full = npy_bytes(np.zeros(10, np.float32))
    return zip_of({"x.npy": full[:-20]})


def _bomb(members: int = 1, each: int = TEST_MAX_UPLOAD_BYTES + 1) -> bytes:
    """Deflated zeros: a few KB on the wire that would decode to `each` bytes a member."""
    data = npy_bytes(np.zeros(each // 8, np.float64))
    return zip_of({f"m{i}.npy": data for i in range(members)}, zipfile.ZIP_DEFLATED)


def _size_lies_in_the_directory() -> bytes:
    """A zip whose central directory gives a member a size smaller than its data: zipfile
    stops there, and the member's own header promises more."""
    body = bytearray(zip_of({"x.npy": npy_bytes(np.zeros(100, np.float64))}))
    directory = body.rfind(b"PK\x01\x02")
    struct.pack_into("<I", body, directory + 24, 200)  # uncompressed size
    return bytes(body)


MALFORMED = {
    "not a zip": (b"this is not an archive" * 10, 422, ["not an .npz archive"]),
    "an empty zip": (zip_of({}), 422, ["holds no arrays"]),
    "an object member (pickle)": (
        npz_bytes({"x": np.array([{"a": 1}, None], dtype=object)}),
        422,
        ["dtype object", "'x'"],
    ),
    "a member that is not .npy": (zip_of({"x.txt": b"hello"}), 422, ["not an array"]),
    "a member whose header lies about its size": (
        _lying_member(),
        422,
        ["'x'", "takes 168 bytes", "holds 148"],
    ),
    "a directory size that lies": (_size_lies_in_the_directory(), 422, ["'x'", "CRC"]),
    "a bad member header": (zip_of({"x.npy": b"\x93NUMPY\x01\x00junk" * 4}), 422, ["'x'"]),
    "too many members": (
        npz_bytes({f"a{i}": np.zeros(1) for i in range(65)}),
        413,
        ["65 members", "at most 64"],
    ),
    "a zip bomb": (_bomb(), 413, ["m0", str(TEST_MAX_UPLOAD_BYTES)]),
    "members too large together": (_bomb(3, TEST_MAX_UPLOAD_BYTES // 2), 413, ["m1.npy"]),
    "a truncated zip": (npz_bytes({"x": np.zeros(50)})[:-30], 422, ["not an .npz archive"]),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_archive_is_refused(http: httpx.Client, case: str) -> None:
    body, status, words = MALFORMED[case]
    assert len(body) < TEST_MAX_UPLOAD_BYTES  # refused for what it holds, not its size
    assert_problem(http.post("/v1/datasets", content=body, headers=NPZ), status, *words)


def test_a_corrupt_member_is_refused_and_nothing_is_kept(http: httpx.Client) -> None:
    good = np.arange(40_000, dtype=np.float32)  # past the bytes read for the header check
    body = bytearray(zip_of({"a.npy": npy_bytes(good), "b.npy": npy_bytes(good + 1)}))
    body[body.find(b"PK\x01\x02") - 8] ^= 0xFF  # a byte of b's data: its CRC fails
    assert_problem(http.post("/v1/datasets", content=bytes(body), headers=NPZ), 422, "'b'", "CRC")
    digest = hashlib.sha256(npy_bytes(good)).hexdigest()
    assert http.get("/v1/datasets", params={"sha256": digest}).status_code == 404  # a: gone


def test_a_zip_sent_as_npy_says_how_to_send_it(http: httpx.Client) -> None:
    response = http.post(
        "/v1/datasets",
        content=npz_bytes({"x": np.zeros(3)}),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert_problem(response, 422, "application/x-npz")
