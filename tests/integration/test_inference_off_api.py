"""Evaluate, predict and export run on workers (`core.calls`), never in the API: three
concurrent predicts over a 100 MB dataset leave the API's memory where it was and
another tenant's plain GETs fast; a worker busy training does not hold a predict back
(its inference process takes it); export is built once per format, then kept."""

from __future__ import annotations

import io
import statistics
import threading
import time
from collections.abc import Callable

import httpx
import numpy as np
import pytest

from tests.conftest import Stack, wait_until
from tests.helpers import MemorySampler, npy_bytes, upload, wait_for_job

MiB = 1024 * 1024
ROWS, FEATURES = 100_000, 256  # 102.4 MB of float32


def linear_job(http: httpx.Client, epochs: int = 1) -> str:
    x = np.random.default_rng(0).normal(size=(256, FEATURES)).astype(np.float32)
    y = x[:, :1] * 0.5
    spec = {
        "model": {"type": "sequential", "layers": [
            {"type": "Dense", "units": 1, "input_shape": [FEATURES]}]},
        "compile": {"optimizer": "sgd", "loss": "mse"},
        "fit": {"batch_size": 32, "epochs": epochs},
        "data": {"x": upload(http, x), "y": upload(http, y)},
    }  # fmt: skip
    response = http.post("/v1/jobs", json=spec)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_concurrent_predicts_over_100_mb_leave_the_api_small_and_fast(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(workers=1)
    api = stack.services[0]
    with stack.client() as heavy, stack.client() as other:
        job = linear_job(heavy)
        assert wait_for_job(heavy, job)["status"] == "succeeded"
        big = np.random.default_rng(1).normal(size=(ROWS, FEATURES)).astype(np.float32)
        body = npy_bytes(big)
        stored = heavy.post("/v1/datasets", content=body,
                            headers={"Content-Type": "application/octet-stream"})  # fmt: skip
        assert stored.status_code == 201, stored.text
        del body
        theirs = linear_job(other)
        assert wait_for_job(other, theirs)["status"] == "succeeded"
        # The trained Dense, read back through predict: f(0) = bias, f(e_i) = w_i + bias.
        probe = np.vstack([np.zeros(FEATURES), np.eye(FEATURES)]).tolist()
        read = heavy.post(f"/v1/jobs/{job}/predict", json={"inputs": probe})
        assert read.status_code == 200, read.text
        values = np.asarray(read.json()["predictions"], np.float64)[:, 0]
        bias, kernel = values[0], values[1:] - values[0]

        memory = MemorySampler(api.process.pid)
        memory.start()
        answers: list[httpx.Response] = []

        asked = {"x": stored.json()["id"], "batch_size": 4096}

        def predict() -> None:
            with httpx.Client(base_url=stack.api_url, headers=heavy.headers, timeout=300) as h:
                answers.append(h.post(f"/v1/jobs/{job}/predict", json=asked))

        threads = [threading.Thread(target=predict) for _ in range(3)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        latencies = []
        while any(t.is_alive() for t in threads):
            started = time.perf_counter()
            assert other.get(f"/v1/jobs/{theirs}").status_code == 200
            latencies.append(time.perf_counter() - started)
            time.sleep(0.02)
        elapsed = time.perf_counter() - began
        start, peak = memory.stop()

    assert [a.status_code for a in answers] == [200, 200, 200], answers[0].text
    predictions = np.asarray(answers[0].json()["predictions"], np.float32)
    assert predictions.shape == (ROWS, 1)
    np.testing.assert_allclose(predictions[:100, 0], big[:100] @ kernel + bias, rtol=1e-4,
                               atol=1e-4)  # fmt: skip
    p99 = statistics.quantiles(latencies, n=100)[98]
    print(f"API resident +{(peak - start) / MiB:.1f} MiB during 3 predicts of "
          f"{big.nbytes / MiB:.0f} MiB in {elapsed:.1f} s; other tenant's GET p99 "
          f"{p99 * 1000:.0f} ms over {len(latencies)} requests")  # fmt: skip
    assert peak - start < 50 * MiB
    # An API that waited for a predict on its event loop would hold a GET back for a whole
    # predict (a third of `elapsed`: the worker runs them one at a time). A ratio within one
    # run, because the suite's machine is shared; the absolute figure (25 ms alone on 2
    # cores) is in benchmarks/README.md.
    assert p99 < elapsed / 4


def test_a_worker_busy_training_still_answers_predict_evaluate_and_export(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(workers=1)
    with stack.client() as http:
        done = linear_job(http)
        assert wait_for_job(http, done)["status"] == "succeeded"
        busy = linear_job(http, epochs=10_000)  # holds the training process
        wait_until(lambda: http.get(f"/v1/jobs/{busy}").json()["status"] == "running", 60,
                   "the long job to start")  # fmt: skip
        started = time.monotonic()
        x = upload(http, np.ones((4, FEATURES), np.float32))
        y = upload(http, np.ones((4, 1), np.float32))
        predicted = http.post(f"/v1/jobs/{done}/predict", json={"x": x})
        evaluated = http.post(f"/v1/jobs/{done}/evaluate", json={"x": x, "y": y})
        exported = http.get(f"/v1/jobs/{done}/export", params={"format": "onnx"})
        again = http.get(f"/v1/jobs/{done}/export", params={"format": "onnx"})
        elapsed = time.monotonic() - started
        assert predicted.status_code == 200 and len(predicted.json()["predictions"]) == 4
        assert evaluated.status_code == 200 and set(evaluated.json()) == {"loss"}
        assert exported.status_code == 200 and exported.content == again.content
        assert http.get(f"/v1/jobs/{busy}").json()["status"] == "running"
        assert elapsed < 30, elapsed
        # A failure on the worker comes back as the API's own problem+json.
        wrong = http.post(f"/v1/jobs/{done}/predict", json={"x": y})
        assert wrong.status_code == 422, wrong.text
        assert wrong.headers["content-type"] == "application/problem+json"
        assert "shape" in wrong.json()["detail"]

        # A call waiting for its answer holds a slot of the tenant's `streams` quota.
        from cornu.core.spec import QuotaChange
        from cornu.core.store import Store

        store = Store.from_url(stack.redis_url)
        store.quotas.set(http.get("/v1/usage").json()["tenant"], QuotaChange(streams=1))
        store.close()
        with http.stream("GET", f"/v1/jobs/{busy}/stream") as live:  # open while it runs
            assert live.status_code == 200
            refused = http.post(f"/v1/jobs/{done}/predict", json={"x": x})
            assert refused.status_code == 429, refused.text
            assert "streams and calls" in refused.json()["detail"]
        # The stream's slot is free once the API notices the client went away.
        deadline = time.monotonic() + 10
        while (after := http.post(f"/v1/jobs/{done}/predict", json={"x": x})).status_code == 429:
            assert time.monotonic() < deadline, after.text
            time.sleep(0.2)
        assert after.status_code == 200, after.text
        assert http.post(f"/v1/jobs/{busy}/cancel").status_code == 202  # stopping


def test_a_predict_too_big_for_json_is_answered_as_an_npy_file(
    make_stack: Callable[..., Stack],
) -> None:
    from cornu.client import Client
    from cornu.core.errors import PayloadTooLarge

    stack = make_stack(workers=1, CORNU_MAX_PREDICT_VALUES="100")
    with stack.client() as http, stack.client() as other:
        job = linear_job(http)
        assert wait_for_job(http, job)["status"] == "succeeded"
        x = np.random.default_rng(2).normal(size=(256, FEATURES)).astype(np.float32)
        dataset = upload(http, x)
        refused = http.post(f"/v1/jobs/{job}/predict", json={"x": dataset})
        assert refused.status_code == 413 and '"answer": "npy"' in refused.json()["detail"]

        answer = http.post(f"/v1/jobs/{job}/predict", json={"x": dataset, "answer": "npy"})
        assert answer.status_code == 200, answer.text
        found = answer.json()
        assert list(found["outputs"].values()) == [[256, 1]]
        file = http.get(found["predictions_url"])
        assert file.status_code == 200 and len(file.content) == found["bytes"]
        predicted = np.load(io.BytesIO(file.content), allow_pickle=False)
        assert predicted.dtype == np.float32 and predicted.shape == (256, 1)
        inline = http.post(f"/v1/jobs/{job}/predict", json={"inputs": x[:20].tolist()})
        np.testing.assert_allclose(predicted[:20], inline.json()["predictions"], rtol=1e-6)

        # Only the job's owner may read it, and only a name a predict gave.
        assert other.get(found["predictions_url"]).status_code == 404
        assert http.get(f"/v1/jobs/{job}/predictions/pred_x.npy").status_code == 404

        # The SDK downloads the file and gives the array.
        key = http.headers["Authorization"].removeprefix("Bearer ")
        with Client(stack.api_url, key) as client:
            with pytest.raises(PayloadTooLarge):
                client.predict(job, x=dataset)
            np.testing.assert_array_equal(client.predict(job, x=dataset, answer="npy"), predicted)
