"""When Redis stops answering the API says 503 (problem+json, fast) and recovers by itself."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx

from cornu.core.embedded import DURABLE_REDIS_ARGS, free_port, wait_until
from cornu.core.store import Store
from tests.conftest import start_api, start_redis_server


def test_503_while_redis_is_down_then_recovery(tmp_path: Path) -> None:
    redis_port, api_port = free_port(), free_port()
    redis_dir = tmp_path / "redis"
    redis = start_redis_server(redis_dir, redis_port, *DURABLE_REDIS_ARGS)
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    api = start_api({"CORNU_REDIS_URL": redis_url}, tmp_path / "api.log", api_port)
    url = f"http://127.0.0.1:{api_port}"
    try:
        store = Store.from_url(redis_url)
        headers = {"Authorization": f"Bearer {store.tenants.create_key('outage')}"}
        store.close()
        assert httpx.get(f"{url}/v1/jobs", headers=headers).status_code == 200

        redis.stop(signal.SIGKILL)
        for path, kwargs in (("/healthz", {}), ("/v1/jobs", {"headers": headers})):
            started = time.monotonic()
            response = httpx.get(f"{url}{path}", timeout=10, **kwargs)  # type: ignore[arg-type]
            assert time.monotonic() - started < 5
            assert response.status_code == 503, path
            assert response.headers["content-type"] == "application/problem+json"
            assert "Traceback" not in response.text

        redis = start_redis_server(redis_dir, redis_port, *DURABLE_REDIS_ARGS)
        wait_until(lambda: httpx.get(f"{url}/healthz").status_code == 200, 20, "API recovery")
        assert httpx.get(f"{url}/v1/jobs", headers=headers).status_code == 200
    finally:
        api.stop()
        redis.stop()
