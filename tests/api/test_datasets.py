"""POST/GET /v1/datasets over real HTTP: multipart and raw, compressed bodies, auth,
tenants, limits, problem+json."""

from __future__ import annotations

import gzip
import hashlib

import httpx
import numpy as np
import pytest
import zstandard

from cornu.core.npy import header_bytes
from tests.conftest import TEST_MAX_UPLOAD_BYTES
from tests.helpers import mlp_spec, npy_bytes, wait_for_job


def test_upload_returns_the_stored_dataset(http: httpx.Client) -> None:
    array = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32)
    data = npy_bytes(array)
    response = http.post("/v1/datasets", files={"file": ("x.npy", data)})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "shape", "dtype", "bytes", "sha256"}
    assert body["shape"] == [50, 8] and body["dtype"] == "float32" and body["bytes"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert response.headers["location"] == f"/v1/datasets/{body['id']}"
    assert http.get(f"/v1/datasets/{body['id']}").json() == body


def test_another_tenants_dataset_is_not_found(
    http: httpx.Client, api_url: str, new_api_key: object
) -> None:
    dataset_id = http.post(
        "/v1/datasets", files={"file": ("x.npy", npy_bytes(np.ones((2, 2))))}
    ).json()["id"]
    other = httpx.get(
        f"{api_url}/v1/datasets/{dataset_id}",
        headers={"Authorization": f"Bearer {new_api_key()}"},  # type: ignore[operator]
    )
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["detail"] == f"no dataset '{dataset_id}'"


def test_past_the_size_limit_is_413(http: httpx.Client) -> None:
    too_big = np.zeros(TEST_MAX_UPLOAD_BYTES // 8 + 1024, dtype=np.float64)
    response = http.post("/v1/datasets", files={"file": ("x.npy", npy_bytes(too_big))})
    assert response.status_code == 413
    problem = response.json()
    assert problem["type"] == "urn:cornu:problem:payload-too-large"
    assert str(TEST_MAX_UPLOAD_BYTES) in problem["detail"] or "larger than" in problem["detail"]


def test_a_chunked_upload_past_the_limit_is_cut_off(http: httpx.Client) -> None:
    boundary = "cornu-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.npy"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()

    def body() -> object:  # no Content-Length: the server must count
        yield head
        for _ in range(TEST_MAX_UPLOAD_BYTES // 65536 + 64):
            yield b"\0" * 65536

    response = http.post(
        "/v1/datasets",
        content=body(),  # type: ignore[arg-type]
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413
    assert "larger than this endpoint accepts" in response.json()["detail"]


def test_a_pickled_object_array_is_refused(http: httpx.Client) -> None:
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.array([object()], dtype=object), allow_pickle=True)
    response = http.post("/v1/datasets", files={"file": ("x.npy", buffer.getvalue())})
    assert response.status_code == 422
    assert response.json()["type"] == "urn:cornu:problem:invalid-dataset"
    assert "dtype object cannot be trained on" in response.json()["detail"]


def test_the_file_field_is_required(http: httpx.Client) -> None:
    response = http.post("/v1/datasets", files={"data": ("x.npy", b"123")})
    assert response.status_code == 422
    assert response.json()["detail"] == "file: 'file' is required"


def test_no_key_and_a_bad_key_are_401(api_url: str) -> None:
    missing = httpx.get(f"{api_url}/v1/datasets/ds_x")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in missing.json()["detail"]
    bad = httpx.get(f"{api_url}/v1/datasets/ds_x", headers={"Authorization": "Bearer cornu_nope"})
    assert bad.status_code == 401 and bad.json()["title"] == "Unauthorized"


def test_healthz(api_url: str) -> None:
    assert httpx.get(f"{api_url}/healthz").json() == {"status": "ok"}


def _raw(http: httpx.Client, body: object, encoding: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/octet-stream"}
    if encoding:
        headers["Content-Encoding"] = encoding
    return http.post("/v1/datasets", content=body, headers=headers)  # type: ignore[arg-type]


@pytest.mark.parametrize("encoding", [None, "identity", "gzip", "zstd"])
def test_a_raw_body_uploads_in_any_coding_and_reads_back_the_same(
    http: httpx.Client, encoding: str | None
) -> None:
    array = (np.random.default_rng(1).random((300, 40)) > 0.9).astype(np.float32)
    data = npy_bytes(array)
    compress = {"gzip": gzip.compress, "zstd": zstandard.ZstdCompressor().compress}
    body = compress.get(encoding or "", lambda b: b)(data)

    def chunks() -> object:  # streamed, no Content-Length
        for start in range(0, len(body), 7777):
            yield body[start : start + 7777]

    response = _raw(http, chunks(), encoding)
    assert response.status_code == 201, response.text
    dataset = response.json()
    assert dataset["sha256"] == hashlib.sha256(data).hexdigest()  # of the .npy, not the body
    assert dataset["bytes"] == len(data) and dataset["shape"] == [300, 40]
    # The same content, however it was sent, is one dataset to the content index.
    assert http.get("/v1/datasets", params={"sha256": dataset["sha256"]}).status_code == 200


def test_compressed_data_trains_like_the_same_data_sent_plain(
    http: httpx.Client, worker: object
) -> None:
    rng = np.random.default_rng(2)
    x, y = rng.random((64, 6)).astype(np.float32), rng.integers(0, 3, 64)
    raw = _raw(http, zstandard.ZstdCompressor().compress(npy_bytes(x)), "zstd").json()["id"]
    labels = _raw(http, gzip.compress(npy_bytes(y)), "gzip").json()["id"]
    job = http.post("/v1/jobs", json=mlp_spec(raw, labels, features=6, classes=3, epochs=2))
    assert job.status_code == 201, job.text
    assert wait_for_job(http, job.json()["id"])["status"] == "succeeded"


def test_a_compression_bomb_stops_at_what_the_header_promised(http: httpx.Client) -> None:
    header = npy_bytes(np.zeros((4, 4), np.float32))
    bomb = zstandard.ZstdCompressor().compress(header + b"\0" * (64 * 1024 * 1024))
    assert len(bomb) < 64 * 1024  # tiny on the wire
    response = _raw(http, bomb, "zstd")
    assert response.status_code == 422
    assert "longer than its header says" in response.json()["detail"]


def test_a_raw_upload_past_the_limit_is_413_from_its_header(http: httpx.Client) -> None:
    shape = (TEST_MAX_UPLOAD_BYTES // 4 + 1,)
    header = header_bytes(shape, np.dtype(np.float32))
    response = _raw(http, zstandard.ZstdCompressor().compress(header + b"\0" * 4096), "zstd")
    assert response.status_code == 413
    assert f"takes {len(header) + shape[0] * 4} bytes" in response.json()["detail"]


@pytest.mark.parametrize(
    ("encoding", "body", "detail"),
    [
        ("br", b"x", "Content-Encoding 'br' is not supported; use one of identity, gzip, zstd"),
        ("zstd", b"not zstd at all", "not valid zstd data"),
        (
            "gzip",
            gzip.compress(b"\x93NUMPY", mtime=0)[:-6],
            "gzip stream ends before its end marker",
        ),
    ],
    ids=["br", "zstd", "gzip"],  # stable: the two xdist workers must collect the same names
)
def test_bodies_that_do_not_decode_are_422(
    http: httpx.Client, encoding: str, body: bytes, detail: str
) -> None:
    response = _raw(http, body, encoding)
    assert response.status_code == 422
    assert detail in response.json()["detail"]


def test_a_content_encoding_on_a_multipart_upload_is_refused(http: httpx.Client) -> None:
    files = {"file": ("x.npy", npy_bytes(np.zeros(3, np.float32)))}
    response = http.post("/v1/datasets", files=files, headers={"Content-Encoding": "zstd"})
    assert response.status_code == 422 and "applies to a raw body" in response.json()["detail"]


def test_the_limits_are_published(http: httpx.Client) -> None:
    limits = http.get("/v1/limits").json()
    assert limits["max_upload_bytes"] == TEST_MAX_UPLOAD_BYTES
    assert limits["max_predict_values"] == 2_000_000 and limits["max_epochs"] == 10_000
