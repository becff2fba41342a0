"""The JSON API v1 over a real built database and index."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb.build import build
from kb.db import make_engine
from kb.settings import Settings
from search_index.build import build_index

FIRST = "us-xx-example-county/ordinance-2010-3"
SECOND = "us-xx-example-county/ordinance-2012-9"


@pytest.fixture
def client(content: Path, database_url: str, tmp_path: Path) -> TestClient:
    build(content, database_url)
    build_index(make_engine(database_url), tmp_path / "index")
    app = create_app(Settings(database_url=database_url, index_dir=tmp_path / "index"))
    return TestClient(app)


def test_lists_are_paginated_with_next_links_and_carry_the_dataset(client: TestClient) -> None:
    first = client.get("/api/v1/protocols", params={"limit": 1}).json()
    assert [p["id"] for p in first["data"]] == [FIRST]
    assert first["total"] == 2
    assert first["dataset"]["version"] and first["dataset"]["built_at"]
    second = client.get(first["next"]).json()
    assert [p["id"] for p in second["data"]] == [SECOND]
    assert second["next"] is None


def test_protocol_filters_include_codebook_keys(client: TestClient) -> None:
    def ids(**params: str) -> list[str]:
        return [p["id"] for p in client.get("/api/v1/protocols", params=params).json()["data"]]

    assert ids(status="superseded") == [FIRST]
    assert ids(year="2012") == [SECOND]
    assert ids(level="county", detainer_response="declines_all") == [SECOND]
    assert ids(max_hold_hours="48") == [FIRST]
    assert ids(pending_charges_qualify="null") == [FIRST, SECOND]


def test_items_by_id_with_slashes(client: TestClient) -> None:
    protocol = client.get(f"/api/v1/protocols/{SECOND}").json()["data"]
    assert protocol["predecessors"] == [FIRST]
    provisions = client.get(f"/api/v1/protocols/{SECOND}/provisions").json()["data"]
    assert [p["anchor"] for p in provisions] == ["sec-1", "sec-2", "sec-3"]
    provision = client.get(f"/api/v1/provisions/{SECOND}/sec-2").json()["data"]
    assert provision["topics"] == ["jail-access", "information-sharing", "local-resources"]
    assert client.get("/api/v1/jurisdictions/us-xx").json()["data"]["level"] == "state"
    assert len(client.get("/api/v1/codebook").json()["data"]) == 16
    assert client.get("/api/v1/context").json()["data"][0]["id"] == "detainer-regulation"
    assert client.get("/api/v1/topics").json()["data"][0]["id"] == "findings-purpose"


def test_search_compare_and_diff(client: TestClient) -> None:
    found = client.get("/api/v1/search", params={"q": "criminal warrant"}).json()["data"]
    assert [h["id"] for h in found["hits"]] == [f"{SECOND}/sec-2"]
    compared = client.get("/api/v1/compare", params={"protocols": f"{FIRST},{SECOND}"}).json()[
        "data"
    ]
    assert (
        next(r for r in compared["rows"] if r["key"] == "detainer_response")["strongest"]
        == "declines_all"
    )
    csv = client.get("/api/v1/compare", params={"protocols": f"{FIRST},{SECOND}", "format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.startswith("\ufeffkey,")
    md = client.get("/api/v1/compare", params={"protocols": f"{FIRST},{SECOND}", "format": "md"})
    assert md.headers["content-type"].startswith("text/markdown") and "(most protective)" in md.text
    changes = client.get("/api/v1/diff", params={"from": FIRST, "to": SECOND}).json()["data"]
    assert changes["counts"] == {"added": 2, "removed": 0, "changed": 1, "unchanged": 0}


@pytest.mark.parametrize(
    ("path", "params", "status", "detail"),
    [
        ("/api/v1/protocols/us-xx/none", {}, 404, "no protocol with id 'us-xx/none'"),
        ("/api/v1/provisions/us-xx/none/sec-1", {}, 404, "no provision with id"),
        ("/api/v1/jurisdictions/us-zz", {}, 404, "no jurisdiction with id 'us-zz'"),
        ("/api/v1/search", {"q": '"unclosed'}, 400, "quotation mark"),
        ("/api/v1/search", {"q": "a\x00b"}, 400, "control characters"),
        ("/api/v1/search", {"page": "0"}, 422, "page"),
        ("/api/v1/compare", {"protocols": ",".join(f"p{i}" for i in range(7))}, 400, "at most 6"),
        ("/api/v1/compare", {"protocols": FIRST, "keys": "colour"}, 400, "unknown codebook key"),
        ("/api/v1/compare", {}, 422, "protocols"),
        ("/api/v1/protocols", {"colour": "blue"}, 400, "unknown codebook key 'colour'"),
        ("/api/v1/protocols", {"limit": "100000"}, 422, "limit"),
        ("/api/v1/diff", {"from": FIRST}, 422, "to"),
        ("/api/v1/protocols/<script>", {}, 404, "no protocol with id '<script>'"),
    ],
)
def test_bad_input_is_a_4xx_problem(
    client: TestClient, path: str, params: dict[str, str], status: int, detail: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert detail in body["detail"]
    assert body["status"] == status and "Traceback" not in response.text


def test_strong_etags_from_the_build_and_304s(
    client: TestClient, content: Path, database_url: str
) -> None:
    first = client.get("/api/v1/protocols")
    tag = first.headers["etag"]
    assert tag.startswith('"') and not tag.startswith("W/")
    assert first.headers["cache-control"] == "public, max-age=300"
    assert client.get("/api/v1/protocols", params={"limit": 1}).headers["etag"] != tag
    again = client.get("/api/v1/protocols", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    path = content / "us-xx-example-county" / "ordinance-2012-9.md"
    path.write_text(path.read_text().replace("## Notice {#sec-3", "## Notice given {#sec-3"))
    build(content, database_url)
    rebuilt = client.get("/api/v1/protocols", headers={"If-None-Match": tag})
    assert rebuilt.status_code == 200 and rebuilt.headers["etag"] != tag


def test_errors_are_not_cached(client: TestClient) -> None:
    response = client.get("/api/v1/protocols/us-xx/none")
    assert response.status_code == 404 and "etag" not in response.headers


def test_cors_is_open_for_get_and_closed_for_anything_else(client: TestClient) -> None:
    got = client.get("/api/v1/topics", headers={"Origin": "https://advocates.example"})
    assert got.headers["access-control-allow-origin"] == "*"
    preflight = client.options(
        "/api/v1/topics",
        headers={"Origin": "https://advocates.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 400
    assert "POST" not in preflight.headers.get("access-control-allow-methods", "")


def test_a_search_notices_a_newer_build_and_the_index_catches_up(
    content: Path, tmp_path: Path
) -> None:
    import time

    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    build(content, url)  # database only: this node has no index yet
    client = TestClient(create_app(Settings(database_url=url, index_dir=tmp_path / "fresh-index")))
    first = client.get("/api/v1/search", params={"q": "warrant"})
    assert first.status_code in (200, 503)
    deadline = time.monotonic() + 20
    while client.get("/api/v1/search", params={"q": "warrant"}).status_code != 200:
        assert time.monotonic() < deadline, "the index was never rebuilt"
        time.sleep(0.1)
    version = client.get("/api/v1/topics").json()["dataset"]["version"]
    assert (
        client.get("/api/v1/search", params={"q": "warrant"}).json()["data"]["version"] == version
    )


def test_every_operation_has_an_example_in_openapi() -> None:
    schema = create_app().openapi()
    assert schema["info"]["description"]
    for path, methods in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in methods.items():
            params = [p for p in operation.get("parameters", []) if p["in"] != "header"]
            examples_in_params = [
                p
                for p in params
                if p.get("example") or p.get("examples") or p["schema"].get("examples")
            ]
            response = operation["responses"]["200"]["content"].get("application/json", {})
            has_response_example = "example" in response or "examples" in response
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            if body:  # a request body documents itself with examples
                assert body.get("examples") or body.get("example"), f"{method.upper()} {path}"
                continue
            named = [
                p
                for p in params
                if p["name"]
                not in ("limit", "offset", "page", "per_page", "sort", "format", "differences_only")
            ]
            assert has_response_example or (named and len(examples_in_params) >= 1), (
                f"{method.upper()} {path}"
            )
            for p in named:
                assert p.get("example") or p.get("examples") or p["schema"].get("examples"), (
                    f"{path}: {p['name']}"
                )


HOSTILE = [
    "x" * 20_000,
    "'; DROP TABLE protocol; --",
    "<script>alert(1)</script>",
    "\u202e\u0000\u0007evil",
    "%00%2e%2e/%2e%2e/etc/passwd",
    "日本語 ü ß 🙂",
    '"',
    "year:..",
]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_never_gets_a_500(client: TestClient, value: str) -> None:
    requests = [
        ("/api/v1/search", {"q": value}),
        ("/api/v1/compare", {"protocols": value}),
        ("/api/v1/compare", {"protocols": FIRST, "keys": value}),
        ("/api/v1/diff", {"from": value, "to": SECOND}),
        ("/api/v1/protocols", {"jurisdiction": value, "status": value}),
        ("/api/v1/protocols", {"detainer_response": value}),
        (f"/api/v1/protocols/{quote(value, safe='')}", {}),
        (f"/api/v1/provisions/{quote(value, safe='')}", {}),
        (f"/api/v1/jurisdictions/{quote(value, safe='')}", {}),
    ]
    for path, params in requests:
        response = client.get(path, params=params)
        assert response.status_code < 500, (path, params, response.text[:200])
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json", path
            assert "Traceback" not in response.text
            assert (
                "<script>" not in response.text or response.json()["detail"]
            )  # JSON-encoded, not markup
