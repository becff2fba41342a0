"""A hostile client's view, in process, on SQLite and PostgreSQL: no leaks of URLs, passwords or
paths, no 500s from bad input or a broken database, bounded bodies, HEAD and Allow, and no
absolute URL taken from the Host header."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from api.app import create_app
from kb.build import build
from kb.db import make_engine, masked
from kb.errors import KBError
from kb.settings import Settings
from search_index.build import build_index
from tests.conftest import postgres_admin_url

FIRST = "us-xx-example-county/ordinance-2010-3"
SECOND = "us-xx-example-county/ordinance-2012-9"
SECRET = "hunter2-very-secret"
COUNTY = {"name": "Example County", "level": "county"}


def leaks(text: str, *secrets: str) -> list[str]:
    """Which of the secrets (URLs, passwords, paths) a body repeats."""
    return [s for s in secrets if s and s in text]


@pytest.fixture
def built(content: Path, database_url: str, tmp_path: Path) -> tuple[str, Path]:
    build(content, database_url)
    engine = make_engine(database_url)
    build_index(engine, tmp_path / "index")
    engine.dispose()
    return database_url, tmp_path / "index"


@pytest.fixture
def client(built: tuple[str, Path]) -> Iterator[TestClient]:
    url, index_dir = built
    with TestClient(create_app(Settings(database_url=url, index_dir=index_dir))) as client:
        yield client


# Leaks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "hidden"),
    [
        ("postgresql://kb:pw1@127.0.0.1:5432/kb", "pw1"),
        (f"postgresql://postgres@127.0.0.1:5432/kb?password={SECRET}", SECRET),
        (f"postgresql://kb@db/kb?sslpassword={SECRET}&application_name=x", SECRET),
        (f"postgresql://kb@db/kb?api_token={SECRET}", SECRET),
        (f"postgresql://kb:{SECRET}@db/kb?password={SECRET}", SECRET),
    ],
)
def test_masked_hides_passwords_in_user_info_and_query(url: str, hidden: str) -> None:
    shown = masked(url)
    assert hidden not in shown
    assert "***" in shown
    assert shown.startswith("postgresql+psycopg://")
    # Harmless parameters stay readable.
    if "application_name" in url:
        assert "application_name=x" in shown


def test_a_malformed_database_url_is_not_repeated() -> None:
    with pytest.raises(KBError) as caught:
        masked(f"not a url :// {SECRET}")
    assert SECRET not in caught.value.message


def test_healthz_names_the_kind_of_database_not_its_url(
    client: TestClient, built: tuple[str, Path]
) -> None:
    url, index_dir = built
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] in ("sqlite", "postgresql")
    parsed = make_url(url)
    assert leaks(response.text, url, str(parsed.database), str(index_dir), "127.0.0.1") == []


def test_no_build_is_said_in_words_without_a_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "secret-folder"
    settings = Settings(
        database_url=f"sqlite:///{folder / 'kb.sqlite3'}", index_dir=folder / "index"
    )
    client = TestClient(create_app(settings))
    with caplog.at_level(logging.WARNING, logger="protocol-kb"):
        for path in ("/healthz", "/api/v1/protocols", "/api/v1/search?q=jail", "/"):
            response = client.get(path)
            assert response.status_code == 503, path
            assert "no build yet: run `kb build`" in response.text, path
            assert leaks(response.text, str(tmp_path), "secret-folder", "sqlite") == [], path
    assert "secret-folder" in caplog.text  # the operator's detail is in the log


def test_a_search_index_that_is_missing_is_said_without_its_folder(
    content: Path, database_url: str, tmp_path: Path
) -> None:
    build(content, database_url)
    index_dir = tmp_path / "hidden-index-folder"
    client = TestClient(create_app(Settings(database_url=database_url, index_dir=index_dir)))
    response = client.get("/api/v1/search", params={"q": "jail"})
    # The request also started the node's index refresh: let it finish before the database goes.
    for thread in threading.enumerate():
        if thread.name == "index-refresh":
            thread.join(timeout=60)
    assert response.status_code == 503
    assert response.json()["detail"] == "the search index is not ready: run `kb index`"
    assert leaks(response.text, str(tmp_path), "hidden-index-folder") == []


@pytest.mark.postgres
def test_an_unreachable_postgresql_is_not_called_empty(caplog: pytest.LogCaptureFixture) -> None:
    postgres_admin_url()  # skipped (or failed in CI) like every PostgreSQL test
    url = f"postgresql://kb:{SECRET}@127.0.0.1:1/nowhere?password={SECRET}&connect_timeout=2"
    client = TestClient(create_app(Settings(database_url=url)))
    with caplog.at_level(logging.WARNING, logger="protocol-kb"):
        for path in ("/healthz", "/api/v1/protocols", "/api/v1/compare?protocols=a,b", "/"):
            response = client.get(path)
            assert response.status_code == 503, path
            assert "the database cannot be reached" in response.text, path
            assert "no build" not in response.text, path
            assert leaks(response.text, SECRET, "127.0.0.1", "nowhere", "postgresql") == []
    assert "127.0.0.1:1/nowhere" in caplog.text  # masked, for the operator
    assert SECRET not in caplog.text


@pytest.mark.postgres
def test_an_empty_postgresql_holds_no_build(postgres_url: str) -> None:
    client = TestClient(create_app(Settings(database_url=postgres_url)))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["detail"] == "no build yet: run `kb build`"


@pytest.mark.parametrize(
    "damage",
    [
        b"this is not a database at all\n" * 200,
        b"SQLite format 3\x00" + b"\xff" * 4080,  # the right magic, a garbage header and pages
    ],
)
def test_a_damaged_sqlite_file_is_a_503_everywhere(tmp_path: Path, damage: bytes) -> None:
    database = tmp_path / "kb.sqlite3"
    database.write_bytes(damage)
    client = TestClient(create_app(Settings(database_url=f"sqlite:///{database}")))
    wanted = "the database file is damaged or is not a protocol-kb database"
    for path in ("/healthz", "/api/v1/protocols", "/api/v1/codebook", "/", "/compare"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert wanted in response.text, path
        assert str(tmp_path) not in response.text
    assert client.get("/healthz").headers["content-type"] == "application/problem+json"
    assert client.get("/").headers["content-type"].startswith("text/html")


def test_a_sqlite_file_that_cannot_be_opened_is_not_called_unbuilt(tmp_path: Path) -> None:
    database = tmp_path / "kb.sqlite3"
    database.mkdir()  # a folder where the file should be: it exists, and cannot be opened
    client = TestClient(create_app(Settings(database_url=f"sqlite:///{database}")))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["detail"] == "the database cannot be read"


def test_a_sqlite_database_of_something_else_holds_no_build(tmp_path: Path) -> None:
    database = tmp_path / "other.sqlite3"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    client = TestClient(create_app(Settings(database_url=f"sqlite:///{database}")))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["detail"] == "no build yet: run `kb build`"


# Server errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("year", ["100000000000000000000", "3000000000", "-5", "0", "10000"])
def test_a_year_out_of_range_is_a_422_naming_it(client: TestClient, year: str) -> None:
    response = client.get("/api/v1/protocols", params={"year": year})
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "year"


def test_a_year_in_range_still_filters(client: TestClient) -> None:
    found = client.get("/api/v1/protocols", params={"year": "2012"}).json()["data"]
    assert [p["id"] for p in found] == [SECOND]


def _failing_app(built: tuple[str, Path]) -> FastAPI:
    """The real app plus two routes that fail as a bug would (routes, not mocks)."""
    url, index_dir = built
    app = create_app(Settings(database_url=url, index_dir=index_dir))

    def broken(request: Request) -> None:
        raise RuntimeError(f"bug with a secret path {index_dir}")

    app.add_api_route("/api/v1/broken", broken)
    app.router.routes.insert(0, app.router.routes.pop())  # before the pages' catch-all routes
    app.add_api_route("/broken-page", broken)
    app.router.routes.insert(0, app.router.routes.pop())
    return app


def test_an_unexpected_error_is_a_500_problem_with_security_headers_and_logged_once(
    built: tuple[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    client = TestClient(_failing_app(built))
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/broken")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Internal Server Error"
    assert "Traceback" not in response.text and str(built[1]) not in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1 and "GET /api/v1/broken" in tracebacks[0].getMessage()

    page = client.get("/broken-page")
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["x-frame-options"] == "DENY"
    assert "Traceback" not in page.text and "RuntimeError" not in page.text


# Resources ------------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_a_413_problem(built: tuple[str, Path]) -> None:
    url, index_dir = built
    client = TestClient(create_app(Settings(database_url=url, index_dir=index_dir, max_body_kb=4)))
    big = json.dumps({"adopter": COUNTY, "choices": {"x": "y" * 10_000}})
    response = client.post(
        "/api/v1/drafts", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert "4 KiB" in response.json()["detail"]
    assert response.headers["connection"] == "close"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield big[:3000].encode()
        yield big[3000:].encode()

    chunked = client.post(
        "/api/v1/drafts", content=chunks(), headers={"content-type": "application/json"}
    )
    assert chunked.status_code == 413
    small = client.post("/api/v1/drafts.md", json={"adopter": COUNTY})
    assert small.status_code == 200


def test_unknown_draft_keys_are_named_a_few_and_counted(client: TestClient) -> None:
    choices = {f"unknown-{i:05d}-{'x' * 200}": "strongest" for i in range(1000)}
    response = client.post("/api/v1/drafts", json={"adopter": COUNTY, "choices": choices})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "unknown question 'unknown-00000-" in detail
    assert "and 995 more (1000 in all)" in detail
    assert len(response.json()["errors"]) == 5
    assert len(response.content) < 4_000  # five keys of 214 characters, each as a JSON Pointer


# HTTP correctness -----------------------------------------------------------------------------

GETS = [
    "/",
    "/search?q=jail",
    f"/compare?protocols={FIRST},{SECOND}",
    f"/protocols/{SECOND}",
    "/codebook",
    "/healthz",
    "/api/v1/protocols",
    f"/api/v1/protocols/{SECOND}",
    "/api/v1/codebook",
    "/api/v1/search?q=jail",
    f"/api/v1/compare?protocols={FIRST},{SECOND}&format=csv",
    "/api/v1/openapi.json",
    "/api/docs",
    "/static/style.css",
    "/no/such/page",
    "/api/v1/protocols/no-such",
]


@pytest.mark.parametrize("path", GETS)
def test_head_answers_like_get_without_a_body(client: TestClient, path: str) -> None:
    get = client.get(path)
    head = client.head(path)
    assert head.status_code == get.status_code
    assert head.content == b""
    for name in ("content-type", "content-length", "etag", "content-security-policy"):
        assert head.headers.get(name) == get.headers.get(name), name


def test_head_is_answered_on_every_get_route(client: TestClient) -> None:
    """Every GET route in the app, with its path parameters filled in: never a 405 for HEAD."""
    from starlette.routing import Route

    from api.routes import drafting, health, pages, v1

    routers = (health.router, v1.router, drafting.router, pages.router)
    routes = [
        r
        for router in routers
        for r in router.routes
        if isinstance(r, Route) and "GET" in (r.methods or ())
    ]
    assert len(routes) > 20
    for route in routes:
        path = route.path.replace("{protocol_id:path}", SECOND).replace("{subject:path}", SECOND)
        path = path.replace("{provision_id:path}", f"{SECOND}/sec-1")
        path = path.replace("{jurisdiction_id}", "us-xx").replace("{path:path}", "style.css")
        assert client.head(path).status_code != 405, path


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/api/v1/protocols", "GET, HEAD"),
        ("DELETE", f"/api/v1/protocols/{SECOND}", "GET, HEAD"),
        ("GET", "/api/v1/drafts", "POST"),
        ("PUT", "/healthz", "GET, HEAD"),
        ("POST", "/compare", "GET, HEAD"),
    ],
)
def test_every_405_says_what_is_allowed(
    client: TestClient, method: str, path: str, allowed: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert allowed in response.text


EVIL = "evil.example"


def test_the_host_header_never_reaches_a_body(client: TestClient) -> None:
    pair = quote(f"{FIRST},{SECOND}", safe=",")
    headers = {"host": EVIL, "x-forwarded-host": EVIL, "forwarded": f"host={EVIL}"}
    paths = [
        f"/compare?protocols={pair}",
        f"/embed/compare?protocols={pair}",
        "/draft/download?format=md&adopter=Example+County&level=county",
        "/draft/download?format=html&adopter=Example+County&level=county",
        "/api/v1/protocols?limit=200",
        "/api/v1/openapi.json",
        "/api/docs",
        "/healthz",
        "/",
    ]
    for path in paths:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text[:300])
        assert EVIL not in response.text, path
    for fmt in ("md", "html"):
        draft = client.post(f"/api/v1/drafts.{fmt}", json={"adopter": COUNTY}, headers=headers)
        assert draft.status_code == 200
        assert EVIL not in draft.text


def test_absolute_links_come_from_the_public_url(built: tuple[str, Path]) -> None:
    url, index_dir = built
    settings = Settings(database_url=url, index_dir=index_dir, public_url="https://kb.example.org/")
    client = TestClient(create_app(settings))
    page = client.get(f"/compare?protocols={FIRST},{SECOND}", headers={"host": EVIL})
    assert "https://kb.example.org/embed/compare?protocols=" in page.text
    assert "event.origin !== &#34;https://kb.example.org&#34;" in page.text
    draft = client.post("/api/v1/drafts.md", json={"adopter": COUNTY})
    assert "<https://kb.example.org/protocols/" in draft.text
    with pytest.raises(ValueError, match="KB_PUBLIC_URL"):
        Settings(public_url="javascript:alert(1)")


def test_api_docs_load_nothing_from_another_origin(client: TestClient) -> None:
    docs = client.get("/api/docs")
    policy = docs.headers["content-security-policy"]
    assert "http" not in policy  # no third-party source at all
    assert "cdn" not in docs.text and "https://" not in docs.text.split("<body>")[1]
    script = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text[:2000]
    assert client.get("/api/docs/assets/swagger-ui.css").status_code == 200
