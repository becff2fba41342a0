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


def test_lists_are_paginated_with_relative_links_and_carry_the_dataset(
    client: TestClient,
) -> None:
    first = client.get("/api/v1/protocols", params={"limit": 1, "level": "county"}).json()
    assert [p["id"] for p in first["data"]] == [FIRST]
    assert first["pagination"] == {
        "total": 2,
        "limit": 1,
        "offset": 0,
        "next": "/api/v1/protocols?level=county&limit=1&offset=1",
        "previous": None,
    }
    assert first["dataset"]["version"] and first["dataset"]["built_at"]
    second = client.get(first["pagination"]["next"], headers={"Host": "evil.example"}).json()
    assert [p["id"] for p in second["data"]] == [SECOND]
    assert second["pagination"]["next"] is None
    assert second["pagination"]["previous"] == "/api/v1/protocols?level=county&limit=1&offset=0"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/jurisdictions",
        "/api/v1/codebook",
        "/api/v1/topics",
        "/api/v1/context",
        "/api/v1/scores",
        f"/api/v1/protocols/{SECOND}/provisions",
        "/api/v1/search",
    ],
)
def test_every_list_and_search_share_one_pagination(client: TestClient, path: str) -> None:
    whole = client.get(path, params={"limit": 100}).json()
    total = whole["pagination"]["total"]
    assert total == len(whole["data"]) and total >= 1, path
    seen = []
    url: str | None = f"{path}?limit=1"
    while url is not None:
        body = client.get(url).json()
        assert len(body["data"]) == 1 and body["pagination"]["total"] == total
        seen += body["data"]
        url = body["pagination"]["next"]
    assert seen == whole["data"]
    odd = client.get(path, params={"limit": 2, "offset": 1}).json()["data"]
    assert odd == whole["data"][1:3]


def test_protocol_filters_include_codebook_keys(client: TestClient) -> None:
    def ids(**params: str) -> list[str]:
        return [p["id"] for p in client.get("/api/v1/protocols", params=params).json()["data"]]

    assert ids(status="superseded") == [FIRST]
    assert ids(year="2012") == [SECOND]
    assert ids(level="county", detainer_response="declines_all") == [SECOND]
    assert ids(jurisdiction_id="us-xx-example-county") == [FIRST, SECOND]
    assert ids(max_hold_hours="48") == [FIRST]
    assert ids(pending_charges_qualify="null") == [FIRST, SECOND]


def test_items_by_id_with_slashes(client: TestClient) -> None:
    protocol = client.get(f"/api/v1/protocols/{SECOND}").json()["data"]
    assert protocol["predecessor_ids"] == [FIRST]
    provisions = client.get(f"/api/v1/protocols/{SECOND}/provisions").json()["data"]
    assert [p["anchor"] for p in provisions] == ["sec-1", "sec-2", "sec-3"]
    provision = client.get(f"/api/v1/provisions/{SECOND}/sec-2").json()["data"]
    assert provision["topic_ids"] == ["jail-access", "information-sharing", "local-resources"]
    assert provision["citation"] == "Sec. 2(a)-(b)" and "cite" not in provision
    assert client.get("/api/v1/jurisdictions/us-xx").json()["data"]["level"] == "state"
    assert client.get("/api/v1/codebook").json()["pagination"]["total"] == 16
    assert client.get("/api/v1/context").json()["data"][0]["id"] == "detainer-regulation"
    assert client.get("/api/v1/topics").json()["data"][0]["id"] == "findings-purpose"
    assert client.get("/api/v1/topics/juveniles").json()["data"]["name"] == "Juveniles"
    key = client.get("/api/v1/codebook/max_hold_hours").json()["data"]
    assert key["type"] == "integer" and key["topic_id"] == "hold-duration"
    record = client.get("/api/v1/context/detainer-regulation").json()["data"]
    assert record["date"]["precision"] in ("year", "month", "day")


def test_a_background_record_has_one_id_in_lists_and_search(client: TestClient) -> None:
    listed = {c["id"] for c in client.get("/api/v1/context").json()["data"]}
    hits = client.get("/api/v1/search", params={"q": "fictional", "limit": 100}).json()["data"]
    found = {h["id"] for h in hits if h["kind"] == "context"}
    for hit in hits:
        if hit["kind"] == "context":
            assert hit["protocol_id"] is hit["jurisdiction_id"] is hit["status"] is None
    assert found and found <= listed
    for record in found:
        assert client.get(f"/api/v1/context/{record}").status_code == 200


def test_search_compare_and_diff(client: TestClient) -> None:
    found = client.get("/api/v1/search", params={"q": "criminal warrant"}).json()
    assert [h["id"] for h in found["data"]] == [f"{SECOND}/sec-2"]
    assert found["pagination"]["total"] == 1 and found["query"] == "criminal warrant"
    assert set(found["facets"]) == {"jurisdiction_id", "topic_id", "status", "level", "year"}
    compared = client.get("/api/v1/compare", params={"protocols": f"{FIRST},{SECOND}"}).json()[
        "data"
    ]
    assert (
        next(r for r in compared["rows"] if r["key"] == "detainer_response")["strongest"]
        == "declines_all"
    )
    csv = client.get("/api/v1/compare.csv", params={"protocols": f"{FIRST},{SECOND}"})
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.startswith("\ufeffkey,")
    assert csv.headers["content-disposition"] == 'attachment; filename="comparison.csv"'
    md = client.get("/api/v1/compare.md", params={"protocols": f"{FIRST},{SECOND}"})
    assert md.headers["content-type"].startswith("text/markdown") and "(most protective)" in md.text
    json_only = client.get("/api/v1/compare", params={"protocols": FIRST, "format": "csv"})
    assert json_only.status_code == 422  # documents come from their own operations
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
        ("/api/v1/search", {"offset": "-1"}, 422, "offset"),
        ("/api/v1/compare", {"protocols": ",".join(f"p{i}" for i in range(7))}, 422, "at most 6"),
        ("/api/v1/compare", {"protocols": FIRST, "keys": "colour"}, 422, "unknown codebook key"),
        ("/api/v1/compare", {}, 422, "protocols"),
        ("/api/v1/protocols", {"colour": "blue"}, 422, "unknown parameter 'colour'"),
        ("/api/v1/protocols", {"limit": "100000"}, 422, "limit"),
        ("/api/v1/protocols", {"detainer_response": "bogus"}, 422, "detainer_response cannot be"),
        ("/api/v1/protocols", {"status": "nonsense"}, 422, "status"),
        ("/api/v1/protocols", {"jurisdiction_id": "us-zz"}, 422, "no jurisdiction with id"),
        ("/api/v1/protocols", {"jurisdiction": "us-xx"}, 422, "unknown parameter 'jurisdiction'"),
        ("/api/v1/protocols", {"max_hold_hours": "abc"}, 422, "max_hold_hours is a whole number"),
        ("/api/v1/topics", {"colour": "blue"}, 422, "unknown parameter 'colour'"),
        ("/api/v1/search", {"page": "2"}, 422, "unknown parameter 'page'"),
        ("/api/v1/diff", {"from": FIRST}, 422, "to"),
        ("/api/v1/diff", {"from": FIRST, "to": " "}, 422, "name both versions"),
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
    assert body["type"].startswith("urn:protocol-kb:problem:")


@pytest.mark.parametrize(
    ("params", "kind", "parameter"),
    [
        ({"detainer_response": "bogus"}, "invalid-parameter", "detainer_response"),
        ({"status": "nonsense"}, "invalid-parameter", "status"),
        ({"jurisdiction_id": "us-zz"}, "invalid-parameter", "jurisdiction_id"),
        ({"max_hold_hours": "abc"}, "invalid-parameter", "max_hold_hours"),
        ({"year": "abc"}, "invalid-parameter", "year"),
        ({"detainer_respons": "declines_all"}, "unknown-parameter", "detainer_respons"),
    ],
)
def test_a_bad_filter_is_named_with_its_problem_type(
    client: TestClient, params: dict[str, str], kind: str, parameter: str
) -> None:
    body = client.get("/api/v1/protocols", params=params).json()
    assert body["type"] == f"urn:protocol-kb:problem:{kind}"
    assert [e["parameter"] for e in body["errors"]] == [parameter]


def test_the_same_rule_has_the_same_status_everywhere(client: TestClient) -> None:
    seven = [f"p{i}" for i in range(7)]
    compared = client.get("/api/v1/compare", params={"protocols": ",".join(seven)})
    drafted = client.post(
        "/api/v1/drafts", json={"adopter": {"name": "X", "level": "city"}, "protocols": seven}
    )
    for response in (compared, drafted):
        assert response.status_code == 422
        assert response.json()["type"] == "urn:protocol-kb:problem:too-many-protocols"
    assert compared.json()["errors"][0]["parameter"] == "protocols"
    assert drafted.json()["errors"][0]["pointer"] == "/protocols"


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
    assert client.get("/api/v1/search", params={"q": "warrant"}).json()["index_version"] == version


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
        ("/api/v1/protocols", {"jurisdiction_id": value, "status": value}),
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


def test_search_ranks_partial_matches_after_complete_ones_and_says_what_they_miss(
    client: TestClient,
) -> None:
    found = client.get("/api/v1/search", params={"q": "criminal warrant holiday"}).json()
    assert found["complete"] == 0 and found["pagination"]["total"] >= 1
    first = found["data"][0]
    assert first["id"] == f"{SECOND}/sec-2"
    assert first["matched_words"] == ["criminal warrant"]
    assert first["unmatched_words"] == ["holiday"]
    strict = client.get("/api/v1/search", params={"q": "criminal warrant +holiday"}).json()
    assert strict["pagination"]["total"] == 0
