"""Input that once reached a 500 (or was accepted and then broke the worker), each
answered at the edge with its status and a message that says where: issue 11's list,
found by schemathesis and by hand. None of these may be a server error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from tests.helpers import npy_bytes, upload, wait_for_job

SPEC: dict[str, Any] = {
    "model": {"layers": [{"type": "Dense", "units": 1, "input_shape": [4]}]},
    "compile": {"loss": "mse", "optimizer": {"type": "Adam", "learning_rate": 0.01}},
    "fit": {"epochs": 1, "batch_size": 16},
}


@pytest.fixture
def data(http: httpx.Client) -> dict[str, str]:
    rng = np.random.default_rng(0)
    return {
        "x": upload(http, rng.normal(size=(32, 4)).astype(np.float32)),
        "y": upload(http, rng.normal(size=(32, 1)).astype(np.float32)),
    }


@pytest.fixture
def job(http: httpx.Client, data: dict[str, str], worker: object) -> Iterator[str]:
    response = http.post("/v1/jobs", json={**SPEC, "data": data})
    assert response.status_code == 201, response.text
    job_id = str(response.json()["id"])
    assert wait_for_job(http, job_id)["status"] == "succeeded"
    yield job_id


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def raw(spec: dict[str, Any], literal: str) -> str:
    """The spec as JSON with the learning rate written as `literal` (JSON that Python's
    json module reads, though the JSON standard has no such number)."""
    return json.dumps(spec).replace('"learning_rate": 0.01', f'"learning_rate": {literal}')


@pytest.mark.parametrize(
    ("literal", "says"),
    [("Infinity", "inf is not a finite number"), ("-Infinity", "-inf is not a finite number"),
     ("NaN", "nan is not a finite number"), ("1e999", "inf is not a finite number"),
     ("1e308", "1e+308 is beyond float32's range"), ("1" + "0" * 40, "beyond 64 bits")],
)  # fmt: skip
def test_numbers_cornu_cannot_hold_are_refused_with_their_place(
    http: httpx.Client, data: dict[str, str], literal: str, says: str
) -> None:
    """`"learning_rate": Infinity` was stored as null and the job burnt three leases;
    1e308 overflowed in torch on the worker ("internal error")."""
    response = http.post(
        "/v1/jobs",
        content=raw({**SPEC, "data": data}, literal),
        headers={"Content-Type": "application/json"},
    )
    body = problem(response, 422)
    assert body["errors"] == [
        {"loc": ["compile", "optimizer", "learning_rate"], "msg": body["errors"][0]["msg"]}
    ]
    assert says in body["detail"] and "compile.optimizer.learning_rate" in body["detail"]


def test_class_weight_keys_are_class_indices(http: httpx.Client, data: dict[str, str]) -> None:
    """A key past int64 was accepted and failed the job with TypeError on the worker."""
    for key in (str(2**70), "-1", str(2**31)):
        spec = {**SPEC, "data": data, "fit": {"epochs": 1, "class_weight": {key: 1.0}}}
        body = problem(http.post("/v1/jobs", json=spec), 422)
        assert body["errors"][0]["loc"][:2] == ["fit", "class_weight"], body


def test_a_two_output_reference_to_a_one_output_layer(
    http: httpx.Client, data: dict[str, str]
) -> None:
    model = {
        "inputs": [{"name": "a", "shape": [4]}],
        "layers": [{"name": "b", "type": "Dense", "units": 1, "inputs": ["a"]}],
        "outputs": ["b:7"],
    }
    body = problem(http.post("/v1/jobs", json={**SPEC, "model": model, "data": data}), 422)
    assert "b:7" in body["detail"]


def test_ids_in_paths_that_no_id_can_be_are_unknown_ids(http: httpx.Client, job: str) -> None:
    """`GET /v1/jobs/{id}:events` read the job's event stream as a hash: WRONGTYPE, a 500
    that also told another tenant the job existed."""
    for path in (f"/v1/jobs/{job}:events", f"/v1/jobs/{job}:events/metrics",
                 "/v1/datasets/ds_x:y", "/v1/uploads/up_%00"):  # fmt: skip
        body = problem(http.get(path), 404)
        assert body["detail"].startswith("no "), body
    anonymous = httpx.get(f"{str(http.base_url).rstrip('/')}/v1/jobs/{job}:events")
    assert anonymous.status_code == 401  # the key is checked first, as for any path


def test_evaluate_and_predict_with_bad_data_are_422(http: httpx.Client, job: str) -> None:
    body = problem(http.post(f"/v1/jobs/{job}/evaluate", json={"x": "", "y": ""}), 422)
    assert body["errors"][0]["loc"][0] == "x"
    body = problem(http.post(f"/v1/jobs/{job}/predict", json={"inputs": [{}]}), 422)
    assert "must be nested lists of numbers" in body["detail"]
    body = problem(http.post(f"/v1/jobs/{job}/predict", json={"inputs": [["a", 1, 2, 3]]}), 422)
    assert "must be nested lists of numbers" in body["detail"]


@pytest.mark.parametrize("last", ["99999999999999999999999-0", "18446744073709551616-0", "1-x"])
def test_a_last_event_id_no_stream_has_is_refused_before_the_stream_starts(
    http: httpx.Client, job: str, last: str
) -> None:
    """A huge id was accepted, then Redis refused it mid-body: 200, then a dropped
    connection."""
    response = http.get(f"/v1/jobs/{job}/stream", headers={"Last-Event-ID": last})
    body = problem(response, 422)
    assert "is not an event id of this stream" in body["detail"]


@pytest.mark.parametrize(
    "header",
    [b"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,-2", b"{'descr': '<f4')}"],
)
def test_a_npy_header_numpy_cannot_parse_is_422(http: httpx.Client, header: bytes) -> None:
    """numpy's header parser raises tokenize's and ast's errors for such junk: they were
    a 500."""
    good = npy_bytes(np.zeros(4, dtype=np.float32))
    length = int.from_bytes(good[8:10], "little")
    junk = good[:10] + header.ljust(length - 1) + b"\n" + good[10 + length :]
    response = http.post(
        "/v1/datasets", content=junk, headers={"Content-Type": "application/octet-stream"}
    )
    assert "the .npy header cannot be read" in problem(response, 422)["detail"]
