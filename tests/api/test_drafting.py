"""The drafting API over the real content: drafts in every format, gaps, scores, and errors."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import docx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb.settings import Settings
from tests.conftest import office

COOK = "us-il-cook-county/ordinance-11-o-73"
COUNTY = {"name": "Example County", "level": "county"}


@pytest.fixture(scope="module")
def client(real_build: tuple[str, Path]) -> TestClient:
    url, index_dir = real_build
    return TestClient(create_app(Settings(database_url=url, index_dir=index_dir)))


def test_a_draft_as_json_and_as_documents(client: TestClient) -> None:
    body = client.post("/api/v1/drafts", json={"adopter": COUNTY}).json()
    draft = body["data"]
    assert body["dataset"]["version"]
    assert draft["title"].startswith("An Ordinance of Example County")
    assert [s["number"] for s in draft["sections"]] == list(range(1, len(draft["sections"]) + 1))
    assert draft["choices"][0] == {
        "key": "detainer_response",
        "model_id": "detainer_response/declines_all",
        "value": "declines_all",
        "why": "the most protective model (default)",
    }
    for fmt, media in (
        ("md", "text/markdown"),
        ("html", "text/html"),
        ("docx", "application/vnd.openxmlformats"),
    ):
        response = client.post(f"/api/v1/drafts.{fmt}", json={"adopter": COUNTY})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(media)
        assert response.headers["content-disposition"] == (
            f'attachment; filename="example-county-ordinance.{fmt}"'
        )
    document = docx.Document(
        io.BytesIO(client.post("/api/v1/drafts.docx", json={"adopter": COUNTY}).content)
    )
    assert document.paragraphs[0].style.name == "Title"


def test_start_from_a_protocol(client: TestClient) -> None:
    draft = client.post(
        "/api/v1/drafts", json={"adopter": COUNTY, "start_from": COOK, "strengthen": True}
    ).json()["data"]
    assert {c["key"]: c["value"] for c in draft["choices"]}["detainer_response"] == "declines_all"


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"adopter": {"name": "X", "level": "planet"}}, 422, "/adopter/level"),
        ({"adopter": {"name": "", "level": "city"}}, 422, "/adopter/name"),
        ({"adopter": {"name": "x" * 201, "level": "city"}}, 422, "at most 200"),
        ({"adopter": COUNTY, "choices": {"colour": "strongest"}}, 422, "unknown question 'colour'"),
        (
            {"adopter": COUNTY, "choices": {"detainer_response": "honors_all"}},
            422,
            "no model provision at level 'honors_all'",
        ),
        (
            {
                "adopter": COUNTY,
                "choices": {"detainer_response": "declines_all", "max_hold_hours": "48"},
            },
            422,
            "conflicts with max_hold_hours '48'",
        ),
        ({"adopter": COUNTY, "start_from": "us-zz/none"}, 404, "no protocol with id 'us-zz/none'"),
        ({"adopter": COUNTY, "pinned": ["us-zz/none/sec-1"]}, 404, "no provision with id"),
        ({"adopter": COUNTY, "format": "pdf"}, 422, "/format"),
    ],
)
def test_bad_options_are_named(
    client: TestClient, body: dict[str, object], status: int, detail: str
) -> None:
    response = client.post("/api/v1/drafts", json=body)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]


def test_gaps_and_scores(client: TestClient) -> None:
    gaps = client.get(f"/api/v1/gaps/{COOK}").json()["data"]
    assert gaps["subject"] == COOK and len(gaps["gaps"]) == 12
    assert client.get(f"/api/v1/gaps/{COOK}.csv").text.startswith("\ufeffkey,")
    assert client.get(f"/api/v1/gaps/{COOK}.md").text.startswith("# Where Cook County")
    assert client.get("/api/v1/gaps/us-zz").status_code == 404
    scores = client.get("/api/v1/scores", params={"limit": 200}).json()["data"]
    assert [s["score"] for s in scores] == sorted((s["score"] for s in scores), reverse=True)
    cook = client.get(f"/api/v1/scores/{COOK}").json()["data"]
    assert cook["possible"] == 15 and all(k["reason"] for k in cook["keys"]) and cook["rubric"]
    assert client.get("/api/v1/scores/us-zz/none").status_code == 404


def pdf_pages(pdf: bytes, folder: Path) -> int:
    path = folder / "counted.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(
        ["pdfinfo", str(path)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    match = re.search(r"^Pages:\s+(\d+)$", info, re.MULTILINE)
    assert match, info
    return int(match.group(1))


def test_the_one_page_ask_as_json_and_documents(client: TestClient, tmp_path: Path) -> None:
    harris = {"name": "Harris County", "level": "county", "jurisdiction_id": "us-tx-harris-county"}
    body = {"adopter": harris, "document": "ask"}
    data = client.post("/api/v1/drafts", json=body).json()["data"]
    assert data["document"] == "ask" and data["ask"]["title"] == "What we ask of Harris County"
    assert data["ask"]["state_law"] == data["state_law"] and "SB 4" in data["state_law"][0]
    assert client.post("/api/v1/drafts", json={"adopter": COUNTY}).json()["data"]["ask"] is None
    for fmt, media in (("md", "text/markdown"), ("html", "text/html"), ("docx", "application/")):
        response = client.post(f"/api/v1/drafts.{fmt}", json=body)
        assert response.status_code == 200 and response.headers["content-type"].startswith(media)
        assert response.headers["content-disposition"] == (
            f'attachment; filename="harris-county-ask.{fmt}"'
        )
    html = client.post("/api/v1/drafts.html", json=body).text
    assert html.index("State law") < html.index("<h2>What we ask</h2>")
    office("pdfinfo")
    ask = client.post("/api/v1/drafts.pdf", json=body)
    assert ask.status_code == 200 and ask.headers["content-type"] == "application/pdf"
    assert ask.headers["content-disposition"] == 'attachment; filename="harris-county-ask.pdf"'
    assert pdf_pages(ask.content, tmp_path) == 1
    ordinance = client.post("/api/v1/drafts.pdf", json={"adopter": COUNTY})
    assert ordinance.headers["content-disposition"] == (
        'attachment; filename="example-county-ordinance.pdf"'
    )
    assert pdf_pages(ordinance.content, tmp_path) > 1


def test_pdf_without_libreoffice_is_a_503_in_words(real_build: tuple[str, Path]) -> None:
    url, index_dir = real_build
    settings = Settings(
        database_url=url, index_dir=index_dir, office_binary="/nonexistent/bin/soffice"
    )
    client = TestClient(create_app(settings))
    for response in (
        client.post("/api/v1/drafts.pdf", json={"adopter": COUNTY, "document": "ask"}),
        client.get("/draft/download", params={"name": "X", "format": "pdf", "document": "ask"}),
    ):
        assert response.status_code == 503
        assert "LibreOffice is not installed" in response.text
        assert "/nonexistent" not in response.text
    problem = client.post("/api/v1/drafts.pdf", json={"adopter": COUNTY}).json()
    assert problem["type"] == "urn:protocol-kb:problem:pdf-unavailable"
    # The other formats still work.
    assert client.post("/api/v1/drafts.docx", json={"adopter": COUNTY}).status_code == 200
    bad = client.post("/api/v1/drafts.pdf", json={"adopter": COUNTY, "document": "memo"})
    assert bad.status_code == 422 and "/document" in bad.json()["detail"]
