"""POST/GET /v1/datasets over real HTTP: auth, tenants, limits, problem+json."""

from __future__ import annotations

import hashlib

import httpx
import numpy as np

from tests.conftest import TEST_MAX_UPLOAD_BYTES
from tests.helpers import npy_bytes


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
