"""GET /api/v1/resolve/{jurisdiction_id}: the resolver over HTTP, on the contract of docs/api.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb.settings import Settings

PROBLEM = "urn:protocol-kb:problem:"


@pytest.fixture(scope="module")
def client(real_build: tuple[str, Path]) -> TestClient:
    url, index_dir = real_build
    return TestClient(create_app(Settings(database_url=url, index_dir=index_dir)))


def detainers(body: dict[str, Any]) -> dict[str, Any]:
    return next(a for a in body["data"]["answers"] if a["key"] == "detainer_response")


def test_harris_county_must_honor_detainers_under_sb_4(client: TestClient) -> None:
    response = client.get("/api/v1/resolve/us-tx-harris-county")
    assert response.status_code == 200
    body = response.json()
    assert body["dataset"]["version"]
    answer = detainers(body)
    assert (answer["value"], answer["room"], answer["layer"]) == ("honors_all", "must", "state")
    rule = answer["rules"][0]
    assert (rule["protocol_id"], rule["effect"], rule["role"]) == (
        "us-tx/sb-4-2017",
        "mandate",
        "governs",
    )
    assert rule["provision_ids"] == ["us-tx/sb-4-2017/ccp-2-251-a"]
    sb4 = next(law for law in body["data"]["laws"] if law["protocol_id"] == "us-tx/sb-4-2017")
    assert {p["kind"] for p in sb4["penalties"]} == {"fine", "removal_from_office", "criminal"}


def test_before_sb_4_took_effect_it_does_not_govern(client: TestClient) -> None:
    body = client.get("/api/v1/resolve/us-tx-harris-county?as_of=2016-01-01").json()
    assert body["data"]["as_of"] == "2016-01-01"
    assert detainers(body)["rules"] == []
    sb4 = next(law for law in body["data"]["laws"] if law["protocol_id"] == "us-tx/sb-4-2017")
    assert sb4["governs"] is False


def test_cook_county_resolves_to_the_state_floor_and_its_ordinance(client: TestClient) -> None:
    body = client.get("/api/v1/resolve/us-il-cook-county?as_of=2026-12-01").json()
    named = {r["protocol_id"] for a in body["data"]["answers"] for r in a["rules"]}
    assert {"us-il/trust-act-2017", "us-il-cook-county/ordinance-11-o-73"} <= named


@pytest.mark.parametrize(
    ("path", "status", "kind", "field"),
    [
        ("/api/v1/resolve/us-zz-nowhere", 404, "not-found", None),
        ("/api/v1/resolve/us-tx-harris-county?as_of=2016-13-01", 422, "invalid-parameter", "as_of"),
        ("/api/v1/resolve/us-tx-harris-county?as_of=yesterday", 422, "invalid-parameter", "as_of"),
        ("/api/v1/resolve/us-tx-harris-county?date=2016-01-01", 422, "unknown-parameter", "date"),
    ],
)
def test_bad_requests_are_problems(
    client: TestClient, path: str, status: int, kind: str, field: str | None
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == PROBLEM + kind
    if field is not None:
        assert field in str(body.get("errors", body))
    assert "Traceback" not in response.text and "/work/" not in response.text
