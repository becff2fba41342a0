"""compare_protocols on the fixture (every rule) and on the real content (a contract)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from kb import store
from kb.build import build
from kb.compare import MAX_COMPARED, Comparison, compare_protocols
from kb.db import make_engine
from kb.errors import KBError, NotFound
from kb.score import PAYMENT_NEVER_GIVEN, condition_strength, deciding_condition
from tests.conftest import PROTOCOLS

FIRST = "us-xx-example-county/ordinance-2010-3"
SECOND = "us-xx-example-county/ordinance-2012-9"
CORE = [
    "us-ca-santa-clara-county/board-policy-3-54",
    "us-il-cook-county/ordinance-11-o-73",
    "us-dc/law-19-194",
    "us-ca/ab-4-2013",
]


def open_session(url: str) -> Iterator[Session]:
    """A session closed (and its engine disposed) afterwards, so no test holds a transaction
    open while its PostgreSQL schema is dropped."""
    engine = make_engine(url)
    try:
        with store.session(engine) as db:
            yield db
    finally:
        engine.dispose()


@pytest.fixture
def fixture_db(content: Path, database_url: str) -> Iterator[Session]:
    build(content, database_url)
    yield from open_session(database_url)


@pytest.fixture(scope="module")
def real_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path_factory.mktemp('compare') / 'kb.sqlite3'}"
    build(PROTOCOLS, url)
    yield from open_session(url)


def row(comparison: Comparison, key: str) -> dict[str, object]:
    found = next(r for r in comparison.rows if r.key == key)
    return {
        "values": [c.value for c in found.cells],
        "strongest": found.strongest,
        "marked": [c.protocol_id for c in found.cells if c.strongest],
        "differs": found.differs,
    }


def test_rows_mark_the_most_protective_value(fixture_db: Session) -> None:
    result = compare_protocols(fixture_db, [FIRST, SECOND])
    assert [p.id for p in result.protocols] == [FIRST, SECOND]
    assert row(result, "detainer_response") == {
        "values": ["conditional", "declines_all"],
        "strongest": "declines_all",
        "marked": [SECOND],
        "differs": True,
    }
    # Smaller is more protective for hours; 0 (no extra time) beats 48.
    assert row(result, "max_hold_hours")["marked"] == [SECOND]
    # Silence never wins: only the protocol that addresses juveniles is marked.
    assert row(result, "juvenile_holds") == {
        "values": ["not_addressed", "prohibited"],
        "strongest": "prohibited",
        "marked": [SECOND],
        "differs": True,
    }
    # Both silent: no strongest value, no difference.
    assert row(result, "status_inquiry") == {
        "values": ["not_addressed", "not_addressed"],
        "strongest": None,
        "marked": [],
        "differs": False,
    }
    # Text answers are compared but never ranked.
    assert row(result, "applies_to")["strongest"] is None
    assert row(result, "applies_to")["differs"] is True


def test_cells_carry_notes_supporting_provisions_and_sources(fixture_db: Session) -> None:
    result = compare_protocols(fixture_db, [FIRST, SECOND])
    hours = next(r for r in result.rows if r.key == "max_hold_hours").cells[0]
    assert hours.note == "Excluding weekends & <holidays>."
    assert [p.id for p in hours.provisions] == [f"{FIRST}/sec-1"]
    assert [s.key for s in hours.sources] == ["text"]
    juveniles = next(r for r in result.rows if r.key == "juvenile_holds").cells[1]
    assert [p.cite for p in juveniles.provisions] == ["Sec. 1", "Sec. 2(a)-(b)"]


def test_keys_topics_and_differences_only_narrow_the_rows(fixture_db: Session) -> None:
    only = compare_protocols(fixture_db, [FIRST, SECOND], keys=["max_hold_hours", "status_inquiry"])
    assert [r.key for r in only.rows] == ["max_hold_hours", "status_inquiry"]
    differing = compare_protocols(fixture_db, [FIRST, SECOND], differences_only=True)
    assert "status_inquiry" not in [r.key for r in differing.rows]
    assert all(r.differs for r in differing.rows)
    by_topic = compare_protocols(fixture_db, [FIRST, SECOND], topics=["juveniles"])
    assert [r.key for r in by_topic.rows] == ["juvenile_holds"]
    assert [t.topic for t in by_topic.topics] == ["juveniles"]
    assert [p.id for p in by_topic.topics[0].provisions[SECOND]] == [f"{SECOND}/sec-1"]
    assert by_topic.topics[0].provisions[FIRST] == []


def test_bad_requests_name_what_is_wrong(fixture_db: Session) -> None:
    with pytest.raises(NotFound, match="no protocol with id 'us-xx/none'"):
        compare_protocols(fixture_db, [FIRST, "us-xx/none"])
    with pytest.raises(KBError, match="unknown codebook key 'colour'"):
        compare_protocols(fixture_db, [FIRST], keys=["colour"])
    with pytest.raises(KBError, match="unknown topic 'weather'"):
        compare_protocols(fixture_db, [FIRST], topics=["weather"])
    with pytest.raises(KBError, match=f"at most {MAX_COMPARED}"):
        compare_protocols(fixture_db, [f"p{i}" for i in range(MAX_COMPARED + 1)])
    with pytest.raises(KBError, match="at least one"):
        compare_protocols(fixture_db, [" "])


def test_contract_on_the_core_protocols(real_db: Session) -> None:
    """Santa Clara 3.54, Cook 11-O-73, D.C. Law 19-194 and AB 4, as the content codes them."""
    result = compare_protocols(real_db, CORE)
    santa_clara, cook, dc, ab4 = CORE
    assert row(result, "detainer_response")["differs"] is False
    assert row(result, "reimbursement_required") == {
        "values": [True, True, True, False],
        "strongest": True,
        "marked": [santa_clara, cook, dc],
        "differs": True,
    }
    assert row(result, "max_hold_hours")["marked"] == [santa_clara, dc]
    assert row(result, "offense_threshold")["strongest"] == "serious_or_violent_felony"
    assert row(result, "offense_threshold")["marked"] == [santa_clara]
    assert row(result, "ice_facility_access")["marked"] == [cook]
    assert row(result, "juvenile_holds")["marked"] == [santa_clara, dc]
    assert row(result, "program_287g") == {
        "values": ["not_addressed"] * 4,
        "strongest": None,
        "marked": [],
        "differs": False,
    }
    assert ab4 not in row(result, "reimbursement_required")["marked"]  # type: ignore[operator]


def test_conditional_answers_are_ranked_by_their_conditions(real_db: Session) -> None:
    """All four hold only when conditions are met; the mark goes to the strictest conditions,
    compared in the documented order (docs/scoring.md), with the reason in words."""
    santa_clara, cook, dc, ab4 = CORE
    book = store.codebook(real_db)
    result = compare_protocols(real_db, CORE)
    detainers = next(r for r in result.rows if r.key == "detainer_response")
    assert detainers.strongest == "conditional"
    assert [c.protocol_id for c in detainers.cells if c.strongest] == [santa_clara]
    assert "District of Columbia has “Listed offenses”" in (detainers.strongest_reason or "")
    # Reimbursement ties the first three; the offence threshold orders them; AB 4 is last.
    coded = {p.id: {a.key: a.value for a in p.coding} for p in store.get_protocols(real_db, CORE)}
    order = sorted(CORE, key=lambda i: condition_strength(book, coded[i]))
    assert order == [santa_clara, dc, cook, ab4]
    reason = detainers.strongest_reason or ""
    assert reason.startswith("Of the protocols that hold only when conditions are met, ")
    assert (
        "Santa Clara County, California sets the strictest conditions (Reimbursement required and "
        "Serious or violent felony)" in reason
    )
    assert "District of Columbia has “Listed offenses”" in reason
    assert "Cook County, Illinois has “No criminal-history condition”" in reason
    assert "California has “No reimbursement condition”" in reason
    assert "no written promise of federal payment ever given" in reason
    (marked,) = [c for c in detainers.cells if c.strongest]
    assert marked.strongest_reason == (
        "Strictest conditions: Reimbursement required and Serious or violent felony; the next "
        "strictest here has “Listed offenses”. " + PAYMENT_NEVER_GIVEN
    )
    assert all(c.strongest_reason is None for c in detainers.cells if not c.strongest)

    # Cook's reimbursement condition outranks California's list of offences.
    pair = compare_protocols(real_db, [ab4, cook])
    detainers = next(r for r in pair.rows if r.key == "detainer_response")
    assert [c.protocol_id for c in detainers.cells if c.strongest] == [cook]
    assert deciding_condition(book, coded[cook], coded[ab4]) == "reimbursement_required"
    assert detainers.strongest_reason is not None
    assert "Cook County, Illinois sets the strictest conditions (Reimbursement required)" in (
        detainers.strongest_reason
    )
    assert "California has “No reimbursement condition”" in detainers.strongest_reason
    cook_cell = next(c for c in detainers.cells if c.protocol_id == cook)
    assert cook_cell.strongest_reason is not None
    assert cook_cell.strongest_reason.startswith(
        "Strictest conditions: Reimbursement required; the next strictest here has "
        "“No reimbursement condition”."
    )
    # Other rows explain their mark by the codebook's order.
    hours = next(r for r in pair.rows if r.key == "max_hold_hours")
    assert hours.strongest_reason == (
        "48 hours: the shortest limit given here (fewer is more protective)."
    )


def test_a_conviction_threshold_decides_between_two_reimbursement_conditions(
    real_db: Session,
) -> None:
    santa_clara, dc = CORE[0], CORE[2]
    both = compare_protocols(real_db, [santa_clara, dc])
    detainers = next(r for r in both.rows if r.key == "detainer_response")
    assert [c.protocol_id for c in detainers.cells if c.strongest] == [santa_clara]
    assert "District of Columbia has “Listed offenses”" in (detainers.strongest_reason or "")
