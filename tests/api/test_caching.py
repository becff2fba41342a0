"""The response cache in front of /api/v1, over a real built database and index."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb.build import build
from kb.db import make_engine
from kb.settings import Settings
from search_index.build import build_index

FIRST = "us-xx-example-county/ordinance-2010-3"
SECOND = "us-xx-example-county/ordinance-2012-9"
COMPARE = f"/api/v1/compare?protocols={FIRST},{SECOND}"
HIT = "protocol-kb; hit"
STORED = "protocol-kb; fwd=uri-miss; stored"
NOT_STORED = "protocol-kb; fwd=uri-miss"


def serve(database_url: str, index_dir: Path, cache_mb: float = 64) -> TestClient:
    settings = Settings(database_url=database_url, index_dir=index_dir, response_cache_mb=cache_mb)
    return TestClient(create_app(settings))


@pytest.fixture
def client(content: Path, database_url: str, tmp_path: Path) -> TestClient:
    build(content, database_url)
    build_index(make_engine(database_url), tmp_path / "index")
    return serve(database_url, tmp_path / "index")


def change_max_hold_hours(content: Path) -> None:
    path = content / "us-xx-example-county" / "ordinance-2012-9.md"
    path.write_text(
        path.read_text().replace("max_hold_hours: {value: 0,", "max_hold_hours: {value: 12,")
    )


def hours(response_json: dict[str, object]) -> list[object]:
    rows = response_json["data"]["rows"]  # type: ignore[index]
    row = next(r for r in rows if r["key"] == "max_hold_hours")
    return [c["value"] for c in row["cells"]]


def test_a_repeated_get_is_answered_from_the_cache_with_the_same_bytes(client: TestClient) -> None:
    first = client.get(COMPARE)
    assert first.status_code == 200 and first.headers["cache-status"] == STORED
    again = client.get(COMPARE)
    assert again.headers["cache-status"] == HIT
    assert again.content == first.content
    without_status = [
        {k: v for k, v in r.headers.items() if k != "cache-status"} for r in (first, again)
    ]
    assert without_status[0] == without_status[1]
    assert again.headers["etag"] and again.headers["cache-control"] == "public, max-age=300"
    revalidated = client.get(COMPARE, headers={"If-None-Match": again.headers["etag"]})
    assert revalidated.status_code == 304 and revalidated.content == b""


def test_a_rebuild_is_seen_on_the_next_request(
    client: TestClient, content: Path, database_url: str
) -> None:
    before = client.get(COMPARE)
    assert client.get(COMPARE).headers["cache-status"] == HIT
    assert hours(before.json()) == [48, 0]

    change_max_hold_hours(content)
    build(content, database_url)
    after = client.get(COMPARE)
    assert after.headers["cache-status"] == STORED
    assert hours(after.json()) == [48, 12]
    assert after.json()["dataset"]["version"] != before.json()["dataset"]["version"]
    assert after.headers["etag"] != before.headers["etag"]
    stale = client.get(COMPARE, headers={"If-None-Match": before.headers["etag"]})
    assert stale.status_code == 200 and stale.headers["cache-status"] == HIT


def test_a_rebuild_of_unchanged_content_is_another_build(
    client: TestClient, content: Path, database_url: str
) -> None:
    before = client.get(COMPARE)
    build(content, database_url)
    after = client.get(COMPARE)
    assert after.headers["cache-status"] == STORED
    assert after.json()["dataset"]["version"] == before.json()["dataset"]["version"]
    assert after.json()["dataset"]["built_at"] != before.json()["dataset"]["built_at"]
    assert after.headers["etag"] != before.headers["etag"]


def test_the_memory_bound_evicts_the_least_recently_used(content: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    build(content, url)
    size = len(serve(url, tmp_path / "index").get("/api/v1/topics").content) + 400
    # Room for about eight answers of this size (one answer may take an eighth of the budget).
    client = serve(url, tmp_path / "index", cache_mb=size * 8.5 / 2**20)

    def get(n: int) -> str:
        response = client.get(f"/api/v1/topics?limit={100 + n}")  # the URL as sent is the key
        assert response.status_code == 200
        return response.headers["cache-status"]

    assert [get(n) for n in range(12)] == [STORED] * 12
    assert get(11) == HIT and get(10) == HIT
    assert get(0) == STORED  # the oldest went first
    assert get(10) == HIT  # recently used, so it stayed


def test_an_answer_larger_than_an_eighth_of_the_budget_is_not_kept(
    content: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    build(content, url)
    client = serve(url, tmp_path / "index", cache_mb=4 / 1024)  # 4 KiB: 512 bytes per answer
    assert len(client.get(COMPARE).content) > 512
    assert client.get(COMPARE).headers["cache-status"] == NOT_STORED


def test_errors_and_other_methods_are_never_kept(client: TestClient) -> None:
    for _ in range(2):
        for response in (
            client.get("/api/v1/protocols/us-xx/none"),
            client.get("/api/v1/search", params={"page": "0"}),
            client.get("/api/v1/search", params={"q": "a\x00b"}),
            client.post("/api/v1/topics"),
            client.get("/api/v1/nowhere"),
        ):
            assert response.status_code >= 400
            assert "cache-status" not in response.headers and "etag" not in response.headers


def test_links_never_come_from_the_host_header(client: TestClient) -> None:
    def next_link(host: str) -> str:
        response = client.get("/api/v1/protocols?limit=1", headers={"Host": host})
        assert response.status_code == 200
        link: str = response.json()["pagination"]["next"]
        return link

    assert next_link("a.example") == "/api/v1/protocols?limit=1&offset=1"
    assert next_link("b.example") == "/api/v1/protocols?limit=1&offset=1"


def test_the_cache_can_be_turned_off(content: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    build(content, url)
    client = serve(url, tmp_path / "index", cache_mb=0)
    for _ in range(2):
        response = client.get(COMPARE)
        assert response.headers["cache-status"] == "protocol-kb; fwd=bypass"
        assert response.headers["etag"]


def test_a_search_from_an_index_behind_the_build_is_not_kept(content: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    build(content, url)
    build_index(make_engine(url), tmp_path / "index")
    client = serve(url, tmp_path / "index")
    search = "/api/v1/search?q=warrant"
    assert client.get(search).headers["cache-status"] == STORED

    change_max_hold_hours(content)
    build(content, url)  # the database moves on; the index catches up in the background
    deadline = time.monotonic() + 20
    provisional = 0
    while True:
        response = client.get(search)
        body = response.json()
        if body["index_version"] == body["dataset"]["version"]:
            break
        provisional += 1
        # Provisional: neither this cache nor any cache downstream may keep it.
        assert response.headers["cache-control"] == "no-store"
        assert "etag" not in response.headers
        assert response.headers["cache-status"] == NOT_STORED
        assert time.monotonic() < deadline, "the index was never rebuilt"
        time.sleep(0.05)
    assert provisional >= 1  # the first search after the build starts the refresh, then answers
    assert response.headers["cache-status"] == STORED
    assert client.get(search).headers["cache-status"] == HIT


def test_a_first_build_is_answered_at_once_and_then_kept(
    content: Path, database_url: str, tmp_path: Path
) -> None:
    client = serve(database_url, tmp_path / "index")
    missing = client.get("/api/v1/topics")
    assert missing.status_code == 503
    assert "cache-status" not in missing.headers and "etag" not in missing.headers

    report = build(content, database_url)
    first = client.get("/api/v1/topics")
    assert first.status_code == 200 and first.json()["dataset"]["version"] == report.version
    # On PostgreSQL the build row is asked for again a second after a failed read, at the latest.
    deadline = time.monotonic() + 5
    while client.get("/api/v1/topics").headers.get("cache-status") != HIT:
        assert time.monotonic() < deadline, "answers of the new build were never kept"
        time.sleep(0.1)
