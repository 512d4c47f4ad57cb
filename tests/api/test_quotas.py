"""Quotas per tenant: a tenant at every one of its quotas (bytes, datasets, active jobs,
jobs kept, streams, request rate) is refused with the right status and problem type,
while another tenant's uploads, submits, streams and running job carry on; usage is
counted where it changes and shown at /v1/usage; the admin API changes quotas and keys."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import httpx
import numpy as np

from tests.conftest import Stack, wait_until
from tests.helpers import mlp_spec, npy_bytes, upload, wait_for_job

QUOTA_BYTES = 4096  # a few small .npy files
RATE, BURST = 20, 40


def post_npy(http: httpx.Client, array: np.ndarray) -> httpx.Response:
    return http.post(
        "/v1/datasets",
        content=npy_bytes(array),
        headers={"Content-Type": "application/octet-stream"},
    )


def problem(response: httpx.Response, status: int, slug: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"urn:cornu:problem:{slug}", body
    return str(body["detail"])


def admin_client(api_url: str, redis_url: str) -> httpx.Client:
    from cornu.core.store import Store

    store = Store.from_url(redis_url)
    key, _ = store.tenants.issue(f"ops{time.time_ns()}", scope="admin")
    store.close()
    return httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def test_a_tenant_at_every_quota_leaves_another_tenant_untouched(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(
        workers=1,
        CORNU_QUOTA_STORED_BYTES=str(QUOTA_BYTES),
        CORNU_MAX_ACTIVE_JOBS="2",
        CORNU_MAX_STREAMS_PER_TENANT="2",
        CORNU_QUOTA_REQUESTS_PER_SECOND=str(RATE),
        CORNU_QUOTA_REQUEST_BURST=str(BURST),
    )
    with stack.client() as greedy, stack.client() as other, contextlib.ExitStack() as held:
        # The other tenant has a quota of its own (as an operator sets one), and its job
        # is running before the greedy one starts.
        from cornu.core.spec import QuotaChange
        from cornu.core.store import Store

        store = Store.from_url(stack.redis_url)
        store.quotas.set(other.get("/v1/usage").json()["tenant"],
                         QuotaChange(stored_bytes=2**20))  # fmt: skip
        store.close()
        x = np.random.default_rng(0).normal(size=(256, 4)).astype(np.float32)
        y = (x[:, 0] > 0).astype(np.int64)
        spec = mlp_spec(upload(other, x), upload(other, y), features=4, classes=2, epochs=40)
        theirs = other.post("/v1/jobs", json=spec)
        assert theirs.status_code == 201, theirs.text
        their_job = theirs.json()["id"]
        wait_until(lambda: other.get(f"/v1/jobs/{their_job}").json()["status"] == "running",
                   60, "the other tenant's job to start")  # fmt: skip

        # Bytes: uploads fit until the next one would not; that one is a 413, its bytes
        # not kept; the refusal comes before the body when Content-Length says so.
        stored = []
        while True:
            response = post_npy(greedy, np.full(100, len(stored), np.float64))  # 928 bytes
            if response.status_code != 201:
                break
            stored.append(response.json()["id"])
        detail = problem(response, 413, "quota-exceeded")
        assert "bytes of datasets" in detail and str(QUOTA_BYTES) in detail
        assert len(stored) == QUOTA_BYTES // 928
        usage = greedy.get("/v1/usage").json()
        assert usage["datasets"] == len(stored)
        assert usage["stored_bytes"] == 928 * len(stored)
        assert usage["quota"]["stored_bytes"] == QUOTA_BYTES
        # A resumable upload that cannot fit is refused at its start, before any part.
        declared = {"dtype": "<f8", "shape": [100], "bytes": 928}
        problem(greedy.post("/v1/uploads", json=declared), 413, "quota-exceeded")

        # A delete frees its bytes: the next upload fits.
        assert greedy.delete(f"/v1/datasets/{stored.pop()}").status_code == 204
        assert greedy.get("/v1/usage").json()["stored_bytes"] == 928 * len(stored)
        gx = post_npy(greedy, np.zeros((8, 4), np.float32))
        assert gx.status_code == 201, gx.text
        gy = post_npy(greedy, np.zeros(8, np.int64))
        assert gy.status_code == 201, gy.text  # 3 × 928 + 256 + 192 bytes
        problem(post_npy(greedy, np.ones(100)), 413, "quota-exceeded")  # full again

        # Active jobs: two queued behind the other tenant's running job, the third a 429.
        spec = mlp_spec(gx.json()["id"], gy.json()["id"], features=4, classes=2, epochs=1)
        mine = [greedy.post("/v1/jobs", json=spec) for _ in range(2)]
        assert [r.status_code for r in mine] == [201, 201]
        refused = greedy.post("/v1/jobs", json=spec)
        problem(refused, 429, "too-many-jobs")
        assert refused.headers["retry-after"]

        # Streams: two open, the third a 429 before its first byte.
        path = f"/v1/jobs/{mine[0].json()['id']}/stream"
        opened = [held.enter_context(greedy.stream("GET", path)) for _ in range(2)]
        assert [r.status_code for r in opened] == [200, 200]
        problem(greedy.get(path), 429, "too-many-streams")

        # Request rate: a burst past the quota's is refused with the wait that helps.
        answers = [greedy.get("/v1/limits") for _ in range(BURST + 20)]
        limited = [r for r in answers if r.status_code == 429]
        assert limited, [r.status_code for r in answers]
        assert all(r.status_code in (200, 429) for r in answers)
        problem(limited[0], 429, "too-many-requests")
        assert 1 <= int(limited[0].headers["retry-after"]) <= 2
        assert 0 < limited[0].json()["retry_after"] <= 1 / RATE + 0.01

        # Meanwhile the other tenant uploads, submits and streams as if alone.
        ox = upload(other, np.ones((8, 4), np.float32))
        oy = upload(other, np.ones(8, np.int64))
        submitted = other.post("/v1/jobs", json=mlp_spec(ox, oy, features=4, classes=2, epochs=1))
        assert submitted.status_code == 201, submitted.text
        with other.stream("GET", f"/v1/jobs/{their_job}/stream") as live:
            assert live.status_code == 200
            assert next(live.iter_lines()).startswith(("id:", "event:", "data:", ":"))
        assert other.get("/v1/usage").json()["datasets"] == 4

        for response in opened:
            response.close()
        assert wait_for_job(other, their_job, 240)["status"] == "succeeded"
        assert wait_for_job(other, submitted.json()["id"], 120)["status"] == "succeeded"
        for job in mine:
            assert wait_for_job(greedy, job.json()["id"], 120)["status"] == "succeeded"
        # Their compute is counted: at least the 41 epochs' own wall time, at most all of
        # the time since the first one started.
        trained = sum(
            sum(e["seconds"] for e in other.get(f"/v1/jobs/{j}/metrics").json()["epochs"])
            for j in (their_job, submitted.json()["id"])
        )
        compute = other.get("/v1/usage").json()["compute_seconds"]
        assert trained * 0.99 <= compute <= trained + 30, (trained, compute)


def test_the_admin_api_sets_a_tenants_quota_and_the_tenant_meets_it(
    api_url: str, redis_url: str, http: httpx.Client
) -> None:
    tenant = http
    with admin_client(api_url, redis_url) as admin:
        name = tenant.get("/v1/usage").json()["tenant"]
        x = upload(tenant, np.zeros((8, 2), np.float32))
        y = upload(tenant, np.zeros(8, np.int64))
        spec = mlp_spec(x, y, features=2, classes=2)

        changed = admin.patch(
            f"/v1/admin/tenants/{name}/quota", json={"jobs_kept": 1, "datasets": 2}
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["jobs_kept"] == 1
        assert tenant.get("/v1/usage").json()["quota"]["jobs_kept"] == 1

        first = tenant.post("/v1/jobs", json=spec)
        assert first.status_code == 201, first.text
        detail = problem(tenant.post("/v1/jobs", json=spec), 413, "quota-exceeded")
        assert "keeps 1 jobs" in detail
        detail = problem(post_npy(tenant, np.ones(3)), 413, "quota-exceeded")
        assert "2 datasets" in detail

        # Back to the default: the second job is taken.
        reset = admin.patch(f"/v1/admin/tenants/{name}/quota", json={"jobs_kept": None})
        assert reset.json()["jobs_kept"] == 10_000
        assert tenant.post("/v1/jobs", json=spec).status_code == 201
        seen = admin.get(f"/v1/admin/tenants/{name}/usage").json()
        assert (seen["jobs_kept"], seen["datasets"]) == (2, 2)
        assert seen["active_jobs"] <= 2  # the session's worker may have run them already

        # A bad quota is a 422 naming the field; a tenant key is 403 on the admin API.
        bad = admin.patch(f"/v1/admin/tenants/{name}/quota", json={"streams": 0})
        assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["streams"]
        problem(tenant.get("/v1/admin/keys"), 403, "forbidden")
        problem(tenant.patch(f"/v1/admin/tenants/{name}/quota", json={}), 403, "forbidden")


def test_the_admin_api_issues_lists_and_revokes_keys(api_url: str, redis_url: str) -> None:
    acme_name = f"acme{time.time_ns()}"
    with admin_client(api_url, redis_url) as admin:
        made = admin.post("/v1/admin/keys", json={"tenant": acme_name, "scope": "read-only"})
        assert made.status_code == 201, made.text
        key = made.json()
        assert key["key"].startswith(key["hint"]) and key["scope"] == "read-only"
        listed = admin.get("/v1/admin/keys", params={"tenant": acme_name}).json()
        assert [k["id"] for k in listed] == [key["id"]]
        assert "key" not in listed[0]

        with httpx.Client(base_url=api_url,
                          headers={"Authorization": f"Bearer {key['key']}"}) as acme:  # fmt: skip
            assert acme.get("/v1/usage").json()["tenant"] == acme_name
            problem(acme.post("/v1/jobs", json={}), 403, "forbidden")
            revoked = admin.delete(f"/v1/admin/keys/{key['id']}")
            assert revoked.status_code == 200 and revoked.json()["id"] == key["id"]
            problem(acme.get("/v1/usage"), 401, "unauthorized")
        problem(admin.delete(f"/v1/admin/keys/{key['id']}"), 404, "not-found")
        expired = {"tenant": acme_name, "expires_at": "2020-01-01T00:00:00Z"}
        past = admin.post("/v1/admin/keys", json=expired)
        assert past.status_code == 422 and "in the past" in past.text
