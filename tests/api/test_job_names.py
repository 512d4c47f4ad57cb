"""Runs you can tell apart: a job's `name` and `tags` come back on the job, the list
filters by a tag (newest first, paged), a deleted job leaves the tag's list, and a bad
tag or name is a 422 naming the field."""

from __future__ import annotations

import httpx

MODEL = {"type": "sequential", "layers": [{"type": "Dense", "units": 2, "input_shape": [3]}]}


def made(http: httpx.Client, name: str | None, tags: list[str]) -> dict[str, object]:
    spec = {"name": name, "tags": tags, "model": MODEL, "fit": {"epochs": 0}}
    response = http.post("/v1/jobs", json=spec)  # epochs 0: built at once, no data
    assert response.status_code == 201, response.text
    job: dict[str, object] = response.json()
    return job


def test_jobs_carry_a_name_and_tags_and_the_list_filters_by_tag(http: httpx.Client) -> None:
    original = made(http, "original", ["chapter4", "size=16"])
    smaller = made(http, "smaller", ["chapter4", "size=4", "chapter4"])
    other = made(http, None, [])
    assert (original["name"], original["tags"]) == ("original", ["chapter4", "size=16"])
    assert smaller["tags"] == ["chapter4", "size=4"]  # once each
    assert (other["name"], other["tags"]) == (None, [])
    assert http.get(f"/v1/jobs/{smaller['id']}").json()["name"] == "smaller"

    tagged = http.get("/v1/jobs", params={"tag": "chapter4"}).json()
    assert [j["id"] for j in tagged["jobs"]] == [smaller["id"], original["id"]]
    first = http.get("/v1/jobs", params={"tag": "chapter4", "limit": 1}).json()
    assert [j["id"] for j in first["jobs"]] == [smaller["id"]] and first["next_cursor"]
    rest = http.get("/v1/jobs", params={"tag": "chapter4", "cursor": first["next_cursor"]})
    assert [j["id"] for j in rest.json()["jobs"]] == [original["id"]]
    assert http.get("/v1/jobs", params={"tag": "size=4"}).json()["jobs"][0]["id"] == smaller["id"]
    assert http.get("/v1/jobs", params={"tag": "nothing"}).json()["jobs"] == []
    assert len(http.get("/v1/jobs").json()["jobs"]) == 3

    assert http.delete(f"/v1/jobs/{smaller['id']}").status_code == 204
    left = http.get("/v1/jobs", params={"tag": "chapter4"}).json()["jobs"]
    assert [j["id"] for j in left] == [original["id"]]

    bad = http.post("/v1/jobs", json={"tags": ["a b"], "model": MODEL, "fit": {"epochs": 0}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["tags", 0]
    long = http.post("/v1/jobs", json={"name": "x" * 129, "model": MODEL, "fit": {"epochs": 0}})
    assert long.status_code == 422 and long.json()["errors"][0]["loc"] == ["name"]
    assert http.get("/v1/jobs", params={"tag": "a b"}).status_code == 422
