"""API keys over HTTP: a revoked key is refused at once, an expired one too, and a
read-only key reads but may not write (`cornu keys create --read-only`)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx

from cornu.core.store import Store
from tests.api.test_bad_input import problem


def test_a_revoked_or_expired_key_is_401_and_a_read_only_key_cannot_write(
    api_url: str, redis_url: str
) -> None:
    """`cornu keys revoke`: refused at once. Read-only keys (`--read-only`) read."""
    store = Store.from_url(redis_url)
    try:
        key, info = store.tenants.issue("readers")
        reader, _ = store.tenants.issue("readers", scope="read-only")
        soon, _ = store.tenants.issue(
            "readers", expires_at=datetime.now(UTC) + timedelta(seconds=1)
        )

        def get(api_key: str, path: str = "/v1/jobs") -> httpx.Response:
            return httpx.get(f"{api_url}{path}", headers={"Authorization": f"Bearer {api_key}"})

        assert get(key).status_code == 200
        store.tenants.revoke(info.id)
        body = problem(get(key), 401)
        assert "revoked" in body["detail"] and key not in body["detail"]

        assert get(reader).status_code == 200
        write = httpx.post(
            f"{api_url}/v1/jobs", json={}, headers={"Authorization": f"Bearer {reader}"}
        )
        assert "is read-only; POST needs a read-write key" in problem(write, 403)["detail"]

        assert get(soon).status_code == 200
        time.sleep(1.1)
        problem(get(soon), 401)
    finally:
        store.close()
