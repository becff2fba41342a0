"""Tying 287(g) agencies to the gazetteer: the rules on the real gazetteer, the override file,
and what an import stores and reports, on SQLite and PostgreSQL with real captures."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select

from api.app import create_app
from kb.build import build
from kb.db import parse_url
from kb.registry import import_captures
from kb.registry_match import (
    Agency,
    OverrideError,
    match_agency,
    read_overrides,
    read_places,
)
from kb.registry_models import agreement_table
from kb.registry_sheet import read_sheet
from kb.settings import Settings
from kbcli.commands import main
from tests.conftest import ICE_287G_SAMPLES, PROTOCOLS

JULY = ICE_287G_SAMPLES / "20250719_151637_participatingAgencies07182025pm.xlsx"
PENDING = ICE_287G_SAMPLES / "20250719_151637_pendingAgencies07182025pm.xlsx"
PLACES = read_places(PROTOCOLS)
OVERRIDES = read_overrides(PROTOCOLS, PLACES)


def match(state: str, agency: str, kind: str | None, county: str | None) -> tuple[object, ...]:
    m = match_agency(Agency(state, agency, kind, county), PLACES, OVERRIDES)
    return m.jurisdiction_id, m.county_fips, m.confidence


def test_the_rules_on_the_real_gazetteer() -> None:
    # ICE's COUNTY cell, with or without its type word, in any case: exact
    assert match("FL", "Miami-Dade Sheriff's Office", "county", "Miami-Dade County") == (
        "us-fl-miami-dade-county", "12086", "exact",
    )  # fmt: skip
    assert (
        match("LA", "Ouachita Parish Sheriff's Office", "county", "Ouachita Parish")[2] == "exact"
    )
    assert match("LA", "Arnaudville Police Department", "municipality", "Saint Landry County")[
        :2
    ] == ("us-la-st-landry-parish", "22097")
    # Virginia holds Richmond County and Richmond city: the cell's type word decides
    assert match("VA", "Richmond County Sheriff's Office", "county", "Richmond County")[0] == (
        "us-va-richmond-county"
    )
    assert match("VA", "Richmond City Sheriff's Office", "county", "Richmond City")[0] == (
        "us-va-richmond-city"
    )
    # a misspelt COUNTY cell, the county named by the agency's name: rule
    assert match("SC", "McCormick County Sheriff's Office", "county", "McCorkmick County") == (
        "us-sc-mccormick-county", "45065", "rule",
    )  # fmt: skip
    # a state agency: its state
    assert match("FL", "Florida Highway Patrol", "state_agency", None)[::2] == ("us-fl", "exact")
    # a city police department without a county: no rule can place it
    assert match("FL", "Fellsmere Police Department", "municipality", None) == (
        None, None, "unmatched",
    )  # fmt: skip
    # a city jurisdictions.yaml lists, by the department's name
    assert match("NY", "New York City Police Department", "municipality", None)[::2] == (
        "us-ny-new-york-city", "rule",
    )  # fmt: skip
    # the override file
    assert match("FL", "Bunnell Police Department", "municipality", "Flagere County") == (
        "us-fl-flagler-county", "12035", "override",
    )  # fmt: skip
    assert match("AR", "Texarkana Police Department", "municipality", "Bowie County")[2] == (
        "unmatched"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("state,agency,place,reason\n", "287g-overrides.csv:1: the first line must be"),
        (
            "# a comment\nstate,agency,jurisdiction_id,reason\nFL,X Police,us-fl-nowhere,typo\n",
            "287g-overrides.csv:3: 'us-fl-nowhere' is not in the gazetteer",
        ),
        (
            "state,agency,jurisdiction_id,reason\nZZ,X Police,us-fl,typo\n",
            "287g-overrides.csv:2: unknown state 'ZZ'",
        ),
        (
            "state,agency,jurisdiction_id,reason\nFL,X Police,us-fl\n",
            "287g-overrides.csv:2: expected 4 columns, found 3",
        ),
        (
            "state,agency,jurisdiction_id,reason\nFL,X Police,us-fl,\n",
            "287g-overrides.csv:2: the agency and the reason are required",
        ),
    ],
)
def test_a_bad_override_line_names_path_and_line_and_loads_nothing(
    tmp_path: Path, database_url: str, text: str, message: str
) -> None:
    content = tmp_path / "protocols"
    (content / "gazetteer").mkdir(parents=True)
    shutil.copy(PROTOCOLS / "gazetteer" / "jurisdictions.csv", content / "gazetteer")
    (content / "287g-overrides.csv").write_text(text)
    with pytest.raises(OverrideError, match=message):
        import_captures([JULY], database_url, protocols_dir=content)
    if database_url.startswith("sqlite"):
        assert not Path(database_url.removeprefix("sqlite:///")).exists()
        return
    engine = create_engine(parse_url(database_url))
    try:
        with engine.connect() as conn:
            assert not conn.dialect.has_table(conn, "registry_capture")
    finally:
        engine.dispose()


def stored(database_url: str) -> dict[str, dict[str, object]]:
    engine = create_engine(parse_url(database_url))
    try:
        with engine.connect() as conn:
            return {r.id: dict(r._mapping) for r in conn.execute(select(agreement_table))}
    finally:
        engine.dispose()


def test_an_import_stores_every_match_and_reports_the_unmatched(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = import_captures([JULY, PENDING], database_url, protocols_dir=PROTOCOLS)
    rows = stored(database_url)
    sheet = read_sheet(JULY).entries
    assert set(sheet) <= set(rows)
    for aid, entry in sheet.items():
        row = rows[aid]
        expected = match_agency(
            Agency(entry.state, entry.agency, entry.agency_type, entry.county), PLACES, OVERRIDES
        )
        assert (row["jurisdiction_id"], row["county_fips"], row["match_confidence"]) == (
            expected.jurisdiction_id, expected.county_fips, expected.confidence,
        )  # fmt: skip
        if row["match_confidence"] == "exact" and entry.agency_type == "county":
            # the county a sheriff is tied to is the one ICE's COUNTY cell names
            county = PLACES.by_id[str(row["jurisdiction_id"])]
            assert county.state == entry.state and county.fips == row["county_fips"]
    unmatched = {(u.state, u.agency) for u in report.unmatched}
    assert unmatched == {
        (str(r["state"]), str(r["agency"]))
        for r in rows.values()
        if r["match_confidence"] == "unmatched" and r["ended_by"] is None
    }
    assert ("FL", "Fellsmere Police Department") in unmatched
    assert f"; {len(unmatched)} listed agencies not tied to the gazetteer" in report.summary()
    # the CLI: printed, or written to a file
    listing = tmp_path / "unmatched.csv"
    assert (
        main(
            ["import-287g", "--database-url", database_url, "--unmatched", str(listing), str(JULY)]
        )
        == 0
    )
    with listing.open(encoding="utf-8") as f:
        written = list(csv.DictReader(f))
    assert {(r["state"], r["agency"]) for r in written} == unmatched
    assert main(["import-287g", "--database-url", database_url, str(JULY)]) == 0
    out = capsys.readouterr().out
    assert "  unmatched: FL Fellsmere Police Department (municipality): ICE gives no county" in out


def test_changing_the_override_file_rematches_on_the_next_import(
    database_url: str, tmp_path: Path
) -> None:
    content = tmp_path / "protocols"
    (content / "gazetteer").mkdir(parents=True)
    shutil.copy(PROTOCOLS / "gazetteer" / "jurisdictions.csv", content / "gazetteer")
    import_captures([JULY], database_url, protocols_dir=content)
    fellsmere = next(
        i for i, e in read_sheet(JULY).entries.items() if e.agency == "Fellsmere Police Department"
    )
    before = stored(database_url)
    assert before[fellsmere]["match_confidence"] == "unmatched"
    (content / "287g-overrides.csv").write_text(
        "state,agency,jurisdiction_id,reason\n"
        "FL,fellsmere police department,us-fl-indian-river-county,a test\n"
    )
    report = import_captures([JULY], database_url, protocols_dir=content)
    assert report.loaded == 0 and report.rematched >= 1
    after = stored(database_url)[fellsmere]
    assert (after["jurisdiction_id"], after["county_fips"], after["match_confidence"]) == (
        "us-fl-indian-river-county", "12061", "override",
    )  # fmt: skip


@pytest.fixture
def real_client(database_url: str, tmp_path: Path) -> TestClient:
    build(PROTOCOLS, database_url)
    import_captures([JULY, PENDING], database_url, protocols_dir=PROTOCOLS)
    return TestClient(create_app(Settings(database_url=database_url, index_dir=tmp_path / "i")))


def test_the_api_filters_by_county_fips_and_jurisdiction(real_client: TestClient) -> None:
    def ids(**params: str) -> set[str]:
        found: set[str] = set()
        url: str | None = "/api/v1/287g/agreements"
        query: dict[str, str] | None = {**params, "limit": "200"}
        while url:
            answer = real_client.get(url, params=query)
            assert answer.status_code == 200, answer.text
            found |= {a["id"] for a in answer.json()["data"]}
            url, query = answer.json()["pagination"]["next"], None
        return found

    miami = ids(county_fips="12086")
    assert "fl-miami-dade-sheriffs-office-task-force-2025-02-26" in miami
    assert ids(jurisdiction="us-fl-miami-dade-county") == miami
    florida = ids(jurisdiction="us-fl")
    assert florida == ids(state="FL") and miami < florida
    answer = real_client.get("/api/v1/287g/agreements", params={"county_fips": "12086"})
    first = answer.json()["data"][0]
    assert (first["jurisdiction_id"], first["match_confidence"]) == (
        "us-fl-miami-dade-county",
        "exact",
    )
    assert ids(match_confidence="unmatched") and all(
        a["jurisdiction_id"] is None
        for a in real_client.get(
            "/api/v1/287g/agreements", params={"match_confidence": "unmatched", "limit": "200"}
        ).json()["data"]
    )
    for params in (
        {"jurisdiction": "us-zz-nowhere"},
        {"jurisdiction": "<script>"},
        {"county_fips": "1208"},
        {"match_confidence": "maybe"},
    ):
        bad = real_client.get("/api/v1/287g/agreements", params=params)
        assert 400 <= bad.status_code < 500, (params, bad.status_code)
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert "<script>" not in bad.text
    csv_text = real_client.get("/api/v1/287g/agreements.csv", params={"county_fips": "12086"}).text
    assert "us-fl-miami-dade-county,12086,exact" in csv_text
