"""Policy beside practice (kb.registry_check) with the real content and real captures, on SQLite and
PostgreSQL: the /where/ page, the protocol page and `kb validate --check-287g` name both sources.

No recorded law that bars 287(g) governs a place with an agreement in ICE's July 2025 list, so
the "barred" case uses a copy of the content with one test-only protocol added: Oregon's
Sanctuary Promise Act (which bars 287(g) agreements) filed, for the test, as a Colorado law."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb.build import build
from kb.registry import import_captures
from kb.registry_sheet import read_sheet
from kb.settings import Settings
from kbcli.commands import main
from tests.conftest import ICE_287G_SAMPLES, PROTOCOLS

JULY = ICE_287G_SAMPLES / "20250719_151637_participatingAgencies07182025pm.xlsx"
PENDING = ICE_287G_SAMPLES / "20250719_151637_pendingAgencies07182025pm.xlsx"
TEST_BAR = "us-co/test-287g-bar"


def content_with_a_bar(folder: Path) -> Path:
    shutil.copytree(PROTOCOLS, folder)
    text = (PROTOCOLS / "us-or" / "sanctuary-promise-act-2021.md").read_text("utf-8")
    text = text.replace("id: us-or/sanctuary-promise-act-2021", f"id: {TEST_BAR}", 1)
    text = text.replace("jurisdiction: us-or\n", "jurisdiction: us-co\n", 1)
    text = re.sub(r"^predecessor: .*\n", "", text, count=1, flags=re.M)
    (folder / "us-co" / "test-287g-bar.md").write_text(text, "utf-8")
    return folder


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> tuple[TestClient, str]:
    content = content_with_a_bar(tmp_path / "protocols")
    build(content, database_url)
    import_captures([JULY, PENDING], database_url, protocols_dir=content)
    app = create_app(Settings(database_url=database_url, index_dir=tmp_path / "index"))
    return TestClient(app), database_url


def section(page: str) -> str:
    found = re.search(r'<section id="practice-287g".*?</section>', page, re.S)
    assert found, "no 287(g) practice section"
    return found.group(0)


def colorado_agreements() -> list[tuple[str, str]]:
    return sorted(
        (e.agency, e.signed.isoformat() if e.signed else "")
        for e in read_sheet(JULY).entries.values()
        if e.state == "CO"
    )


def test_an_agreement_where_a_law_bars_287g_is_shown_with_both_sources(
    site: tuple[TestClient, str], capsys: pytest.CaptureFixture[str]
) -> None:
    client, url = site
    colorado = colorado_agreements()
    assert colorado, "the July 2025 list holds a Colorado agreement"
    agency, signed = colorado[0]
    county = client.get("/where/us-co-teller-county")
    assert county.status_code == 200
    text = section(county.text)
    assert "Policy and practice differ:" in text
    assert "ICE&#39;s list of 18 July 2025 (participatingAgencies07182025pm.xlsx) shows" in text
    day = dt.date.fromisoformat(signed)
    shown = f"agreement with {agency.replace(chr(39), '&#39;')}, signed {day.day} {day:%B %Y}"
    assert shown in text
    assert "bars 287(g) agreements here (coded “Prohibited”, state law)" in text
    assert f'href="/protocols/{TEST_BAR}#sec-181a-829"' in text  # the provision
    assert "ORS 181A.829" in text and "of 2025-07-18" in text  # the capture, dated
    # the state's page notes every Colorado agreement once; the protocol page lists the place
    state = section(client.get("/where/us-co").text)
    assert (
        "Policy and practice differ:" in state
        and f"{len(colorado)} active 287(g) agreement" in state
    )
    protocol = section(client.get(f"/protocols/{TEST_BAR}").text)
    assert 'href="/where/us-co#practice-287g"' in protocol
    assert "/where/us-co-teller-county#" not in protocol  # noted once, at the state
    # a date before the first capture: nothing to compare
    early = section(client.get("/where/us-co-teller-county?as_of=2025-01-01").text)
    assert "No capture of ICE" in early and "Policy and practice differ" not in early
    # kb validate --check-287g
    code = main(["validate", "--protocols", str(PROTOCOLS), "--database-url", url, "--check-287g"])
    out = capsys.readouterr().out
    assert code == 0
    assert "1 place(s) where a law bars 287(g) and the list shows an agreement" in out
    line = next(x for x in out.splitlines() if x.startswith("  us-co: "))
    assert agency in line and TEST_BAR in line and "participatingAgencies07182025pm.xlsx" in line


def georgia_counties_with_a_county_agreement() -> set[str]:
    return {
        (e.county or "").casefold()
        for e in read_sheet(JULY).entries.values()
        if e.state == "GA" and e.agency_type == "county"
    }


def test_a_county_without_the_agreement_a_state_mandate_requires(
    site: tuple[TestClient, str],
) -> None:
    client, _ = site
    with_one = georgia_counties_with_a_county_agreement()
    # Georgia HB 1105 is coded as a mandate (a duty to seek an agreement)
    for county, expect_note in (("Appling County", "appling county" not in with_one),
                                ("Cobb County", "cobb county" not in with_one)):  # fmt: skip
        jid = "us-ga-" + county.lower().replace(" ", "-")
        text = section(client.get(f"/where/{jid}").text)
        assert ("The registry shows none:" in text) == expect_note, (county, text)
        if expect_note:
            assert (
                f"shows no 287(g) agreement with a sheriff&#39;s office or other county agency "
                f"of {county}, Georgia" in text
            )
            assert "is coded “Participates” for this place, as a mandate of state law" in text
            assert 'href="/protocols/us-ga/hb-1105-2024#sec-35-1-17-b"' in text
            assert "violat" not in text  # a fact, not an accusation
    page = client.get("/protocols/us-ga/hb-1105-2024").text
    listed = set(re.findall(r'href="/where/(us-ga-[a-z-]+)#practice-287g"', page))
    assert listed and all(
        name.removeprefix("us-ga-").replace("-", " ") not in with_one for name in listed
    )
