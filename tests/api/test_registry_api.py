"""/api/v1/287g over a real build and real captures, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb.build import build
from kb.registry import import_captures
from kb.registry_sheet import read_sheet
from kb.settings import Settings
from tests.conftest import ICE_287G_SAMPLES

MAY = ICE_287G_SAMPLES / "20250519_024922_participatingAgencies05162025am.xlsx"
JULY = ICE_287G_SAMPLES / "20250719_151637_participatingAgencies07182025pm.xlsx"
PENDING = ICE_287G_SAMPLES / "20250719_151637_pendingAgencies07182025pm.xlsx"
AGREEMENTS = "/api/v1/287g/agreements"
MIAMI_TFM = "fl-miami-dade-sheriffs-office-task-force-2025-02-26"


@pytest.fixture
def client(content: Path, database_url: str, tmp_path: Path) -> TestClient:
    build(content, database_url)
    import_captures([MAY, JULY, PENDING], database_url)
    app = create_app(Settings(database_url=database_url, index_dir=tmp_path / "index"))
    return TestClient(app)


def everything(client: TestClient, **params: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    url: str | None = (
        AGREEMENTS + "?" + "&".join(f"{k}={v}" for k, v in {**params, "limit": "200"}.items())
    )
    while url:
        answer = client.get(url)
        assert answer.status_code == 200, answer.text
        found += answer.json()["data"]
        url = answer.json()["pagination"]["next"]
    return found


def test_filters_select_what_the_sheets_hold(client: TestClient) -> None:
    july = read_sheet(JULY).entries
    may = read_sheet(MAY).entries
    active = everything(client, status="active")
    assert {a["id"] for a in active} == set(july)
    ended = everything(client, status="ended")
    assert {a["id"] for a in ended} == set(may) - set(july)
    assert all(a["ended_by"] == "2025-07-18" for a in ended)
    pending = everything(client, status="pending")
    assert {a["id"] for a in pending} == set(read_sheet(PENDING).entries)
    texas_tfm = everything(client, state="tx", model="task_force", list="participating")
    assert {a["id"] for a in texas_tfm} == {
        i for i, e in {**may, **july}.items() if e.state == "TX" and e.model == "task_force"
    }
    # On 1 June 2025: listed (in May) or signed by then, and not yet missing from a capture
    # (the ended ones were still listed until 18 July).
    on_june_1 = {a["id"] for a in everything(client, active_on="2025-06-01")}
    assert on_june_1 == set(may) | {
        i for i, e in july.items() if e.signed and str(e.signed) <= "2025-06-01"
    }
    on_july_20 = {a["id"] for a in everything(client, active_on="2025-07-20")}
    assert on_july_20 == set(july)  # a signing date ICE typed as 5025 among them
    municipal = everything(client, agency_type="municipality", state="FL")
    assert municipal and all(a["agency_type"] == "municipality" for a in municipal)


def test_miami_dade_by_county_and_its_history(client: TestClient) -> None:
    found = everything(client, state="FL", county="miami-dade")
    assert {(a["model"], a["signed"]) for a in found} == {
        ("task_force", "2025-02-26"),
        ("warrant_service_officer", "2025-02-26"),
    }
    detail = client.get(f"{AGREEMENTS}/{MIAMI_TFM}").json()["data"]
    assert detail["periods"] == [
        {"first_seen": "2025-05-16", "last_seen": "2025-07-18", "ended_by": None}
    ]
    assert len(detail["capture_ids"]) == 2 and detail["status"] == "active"


def test_the_csv_holds_what_the_json_lists(client: TestClient) -> None:
    answer = client.get(f"{AGREEMENTS}.csv", params={"state": "FL", "status": "active"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(answer.text.lstrip("\ufeff"))))
    listed = everything(client, state="FL", status="active")
    assert [r["id"] for r in rows] == [a["id"] for a in listed]
    assert rows[0]["signed"] == listed[0]["signed"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("state=ZZ", "state"),
        ("state=Florida", "state"),
        ("county=Nowhere%20County", "county"),
        ("county=Harris&state=FL", "county"),
        ("model=287g", "model"),
        ("agency_type=federal", "agency_type"),
        ("active_on=2025-02-30", "active_on"),
        ("status=gone", "status"),
        ("colour=red", "colour"),
        ("limit=0", "limit"),
    ],
)
def test_bad_filters_are_422_problems_naming_the_parameter(
    client: TestClient, query: str, parameter: str
) -> None:
    for path in (AGREEMENTS, f"{AGREEMENTS}.csv"):  # the CSV takes no `limit`: unknown there
        answer = client.get(f"{path}?{query}")
        assert answer.status_code == 422, (path, query)
        assert answer.headers["content-type"] == "application/problem+json"
        assert [e["parameter"] for e in answer.json()["errors"]] == [parameter]


def test_unknown_agreement_is_a_404_and_captures_are_listed_oldest_first(
    client: TestClient,
) -> None:
    missing = client.get(f"{AGREEMENTS}/no-such-agreement")
    assert missing.status_code == 404
    assert missing.json()["type"].endswith(":not-found")
    captures = client.get("/api/v1/287g/captures").json()
    assert [c["file_name"] for c in captures["data"]] == [
        "participatingAgencies05162025am.xlsx",
        "participatingAgencies07182025pm.xlsx",
        "pendingAgencies07182025pm.xlsx",
    ]
    assert captures["pagination"]["total"] == 3


def test_an_import_changes_the_answers_and_their_etags(
    client: TestClient, database_url: str
) -> None:
    """Answers are cached per build; an import is no build, yet it must be seen at once."""
    first = client.get("/api/v1/287g/captures")
    assert client.get("/api/v1/287g/captures").headers["cache-status"] == "protocol-kb; hit"
    jurisdictions = client.get("/api/v1/jurisdictions")
    import_captures(
        [ICE_287G_SAMPLES / "20250618_023204_pendingAgencies06172025pm.xlsx"], database_url
    )
    second = client.get("/api/v1/287g/captures")
    assert second.json()["pagination"]["total"] == first.json()["pagination"]["total"] + 1
    assert second.headers["etag"] != first.headers["etag"]
    stale = client.get("/api/v1/287g/captures", headers={"If-None-Match": first.headers["etag"]})
    assert stale.status_code == 200
    assert client.get("/api/v1/jurisdictions").headers["etag"] != jurisdictions.headers["etag"]
    # Importing the same file again changes nothing, so the tags hold.
    import_captures(
        [ICE_287G_SAMPLES / "20250618_023204_pendingAgencies06172025pm.xlsx"], database_url
    )
    assert client.get("/api/v1/287g/captures").headers["etag"] == second.headers["etag"]
