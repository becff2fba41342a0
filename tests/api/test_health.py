"""GET /healthz and the plain index page, against a real built database."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb.build import build
from kb.settings import Settings


@pytest.fixture
def client(content: Path, database_url: str) -> TestClient:
    build(content, database_url)
    return TestClient(create_app(Settings(database_url=database_url, protocols_dir=content)))


def test_healthz_reports_counts_and_build(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["counts"] == {
        "jurisdictions": 2,
        "protocols": 2,
        "provisions": 4,
        "coded_answers": 32,
        "context_records": 1,
    }
    assert len(body["version"]) == 16
    assert body["built_at"]


def test_index_lists_jurisdictions_and_protocols_escaped(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Example County, Examplia" in response.text
    assert "Detainer Limits Ordinance" in response.text
    assert "superseded by a later protocol" in response.text


def test_healthz_without_a_build_is_a_503_problem(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(database_url=f"sqlite:///{tmp_path / 'none.sqlite3'}")))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "run `kb build`" in response.json()["detail"]
    assert not (tmp_path / "none.sqlite3").exists()


def test_unknown_path_is_a_404_problem_or_page(client: TestClient) -> None:
    response = client.get("/api/v1/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Not Found"
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "nothing at /no/such/page" in page.text
