"""The OpenAPI document and /docs: every error status an operation can answer with is
declared as application/problem+json (the fuzz test checks the server keeps to it),
request bodies are typed (no unconstrained field), and /docs works without the internet
(its Swagger UI files are served by the API itself)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from cornu.api.app import create_app

# Request fields that take any JSON on purpose, and why.
ANY_ON_PURPOSE = {
    ("PredictRequest", "inputs"): "nested lists of numbers or strings, any depth (a batch)",
}


def schema() -> dict[str, Any]:
    return create_app().openapi()


def test_every_error_status_is_a_problem_json() -> None:
    doc = schema()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            errors = {s: r for s, r in operation["responses"].items() if int(s) >= 400}
            assert {"422", "503"} <= set(errors), (method, path)
            if "{" in path:
                assert "404" in errors, (method, path)
            if operation.get("security"):
                assert {"401", "403", "429"} <= set(errors), (method, path)
            for status, response in errors.items():
                content = response["content"]
                assert list(content) == ["application/problem+json"], (method, path, status)
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }


def test_request_bodies_have_no_untyped_fields() -> None:
    doc = schema()
    components = doc["components"]["schemas"]
    bodies = set()
    for operations in doc["paths"].values():
        for operation in operations.values():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                ref = content.get("schema", {}).get("$ref", "")
                if ref:
                    bodies.add(ref.rsplit("/", 1)[-1])
    assert {"JobSpec", "EvaluateRequest", "PredictRequest", "SummaryRequest"} <= bodies
    for name in {"EvaluateRequest", "PredictRequest", "SummaryRequest", "UploadRequest"}:
        for field, spec in components[name]["properties"].items():
            if (name, field) in ANY_ON_PURPOSE:
                continue
            assert spec not in ({}, {"title": spec.get("title")}), (name, field, spec)
    compile_ = components["EvaluateRequest"]["properties"]["compile"]
    assert {"$ref": "#/components/schemas/CompileSpec"} in compile_["anyOf"]


def test_docs_work_offline(api_url: str) -> None:
    with httpx.Client(base_url=api_url) as http:
        page = http.get("/docs")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
        urls = re.findall(r"https?://[^\s\"']+", page.text)
        assert not urls, urls  # nothing from a CDN
        assert "/openapi.json" in page.text
        assert {a.rsplit("/", 1)[-1] for a in assets} >= {
            "swagger-ui-bundle.js",
            "swagger-ui.css",
            "favicon-32x32.png",
        }
        for asset in assets:
            response = http.get(asset)
            assert response.status_code == 200, asset
            assert len(response.content) > 500, asset
        assert http.get("/redoc").status_code == 404  # a CDN page: not served
