"""Drafting for an adopter under state law: clauses a mandate or ceiling forbids are left out,
with the statute and its penalties named (docs/drafting.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import create_app
from kb.draft import DraftOptions, draft_policy
from kb.draft_render import render_draft
from kb.errors import NotFound
from kb.gaps import find_gaps, gaps_markdown
from kb.settings import Settings


def options(place: str | None, **more: object) -> DraftOptions:
    adopter = {"name": "Harris County", "level": "county", "jurisdiction_id": place}
    return DraftOptions.model_validate({"adopter": adopter, **more})


def test_a_harris_county_draft_leaves_out_what_sb_4_forbids(db: Session) -> None:
    draft = draft_policy(db, options("us-tx-harris-county"))
    kept = {c.key for c in draft.choices}
    out = {c.key: c for c in draft.left_out_by_law}
    assert {"detainer_response", "status_inquiry", "release_info_sharing"} <= set(out)
    assert not kept & set(out)
    detainers = out["detainer_response"]
    assert detainers.protocol_ids == ["us-tx/sb-4-2017"] and detainers.room == "must"
    assert "SB 4" in detainers.text and "2.251" in detainers.text
    assert {p.kind for p in detainers.penalties} == {"fine", "removal_from_office", "criminal"}
    assert "removal from office" in detainers.text
    markdown = render_draft(draft, "md").decode()
    assert (
        "Left out: What does the jurisdiction do with ICE civil detainer (hold) requests"
        in markdown
    )
    # Without the place, the same request drafts every clause.
    plain = draft_policy(db, options(None))
    assert "detainer_response" in {c.key for c in plain.choices} and not plain.left_out_by_law


def test_a_floor_leaves_every_protective_clause_in(db: Session) -> None:
    draft = draft_policy(db, options("us-il-cook-county"))
    assert draft.left_out_by_law == []
    assert "detainer_response" in {c.key for c in draft.choices}


def test_an_unknown_place_is_not_found(db: Session) -> None:
    with pytest.raises(NotFound):
        draft_policy(db, options("us-zz-nowhere"))


def test_the_drafts_api_takes_the_place(real_build: tuple[str, Path]) -> None:
    url, index_dir = real_build
    client = TestClient(create_app(Settings(database_url=url, index_dir=index_dir)))
    body = {
        "adopter": {
            "name": "Harris County",
            "level": "county",
            "jurisdiction_id": "us-tx-harris-county",
        }
    }
    response = client.post("/api/v1/drafts", json=body)
    assert response.status_code == 200
    left = response.json()["data"]["left_out_by_law"]
    assert "detainer_response" in {c["key"] for c in left}
    body["adopter"]["jurisdiction_id"] = "us-zz-nowhere"
    missing = client.post("/api/v1/drafts", json=body)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_gaps_of_a_texas_county_say_which_gaps_state_law_closes_off(
    db: Session, real_build: tuple[str, Path]
) -> None:
    report = find_gaps(db, "us-tx-harris-county")
    assert report.protocols == [] and report.jurisdiction_id == "us-tx-harris-county"
    closed = {g.key: g for g in report.closed_off}
    open_ = {g.key for g in report.gaps}
    assert {"detainer_response", "status_inquiry"} <= set(closed)
    assert not open_ & set(closed)
    assert "juvenile_holds" in open_  # Texas law leaves minors' holds to the county
    bar = closed["detainer_response"].closed_by
    assert bar is not None and bar.protocol_ids == ["us-tx/sb-4-2017"]
    assert closed["detainer_response"].current_value == "honors_all"  # what governs there
    assert "## Closed off by state law" in gaps_markdown(report)

    url, index_dir = real_build
    page = TestClient(create_app(Settings(database_url=url, index_dir=index_dir))).get(
        "/gaps/us-tx-harris-county"
    )
    assert page.status_code == 200
    assert "Gaps state law closes off" in page.text and "SB 4 (85th Leg., R.S.)" in page.text


def test_a_floor_closes_no_gap(db: Session) -> None:
    assert find_gaps(db, "us-il-cook-county/ordinance-11-o-73").closed_off == []
