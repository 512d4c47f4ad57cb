"""The dashboard's page and files: served without a key, with the right content types."""

from __future__ import annotations

import re

import httpx
import pytest

CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".html": "text/html"}


def test_the_page_needs_no_key(api_url: str) -> None:
    response = httpx.get(f"{api_url}/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert '<script type="module" src="/static/app.js"' in response.text
    assert httpx.get(f"{api_url}/v1/jobs").status_code == 401  # the API itself still does


def test_every_file_the_page_names_or_imports_is_served(api_url: str) -> None:
    page = httpx.get(f"{api_url}/").text
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert {"/static/app.js", "/static/style.css"} <= set(assets)
    assert any("uPlot" in asset for asset in assets)
    app = httpx.get(f"{api_url}/static/app.js").text
    modules = [f"/static/{name}" for name in re.findall(r'from "\./([\w.]+)"', app)]
    assert {"/static/api.js", "/static/charts.js", "/static/stream.js"} <= set(modules)
    for asset in assets + modules:
        response = httpx.get(f"{api_url}{asset}")
        assert response.status_code == 200, asset
        expected = CONTENT_TYPES[asset[asset.rindex(".") :]]
        assert expected in response.headers["content-type"], (asset, response.headers)
        assert response.content


@pytest.mark.parametrize(
    "path", ["/static/nope.js", "/static/%2e%2e/routes/dashboard.py", "/static/vendor"]
)
def test_nothing_else_is_served(api_url: str, path: str) -> None:
    response = httpx.get(f"{api_url}{path}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"]


def test_the_vendored_library_keeps_its_license(api_url: str) -> None:
    response = httpx.get(f"{api_url}/static/vendor/uplot/LICENSE")
    assert response.status_code == 200 and "MIT License" in response.text
