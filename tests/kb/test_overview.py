"""The at-a-glance matrix and the pinned collection, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from kb import store
from kb.build import build
from kb.collection import MAX_PINNED, collect, collection_csv, collection_markdown
from kb.db import make_engine
from kb.errors import KBError
from kb.overview import overview

FIRST = "us-xx-example-county/ordinance-2010-3"
SECOND = "us-xx-example-county/ordinance-2012-9"


@pytest.fixture
def db(content: Path, database_url: str) -> Iterator[Session]:
    build(content, database_url)
    engine = make_engine(database_url)
    with store.session(engine) as session:
        yield session
    engine.dispose()


def cells(row: object) -> dict[str, object]:
    return {c.key: c for c in row.cells}  # type: ignore[attr-defined]


def test_strongest_is_judged_against_the_whole_knowledge_base(db: Session) -> None:
    matrix = overview(db)
    assert [r.protocol.id for r in matrix.rows] == [FIRST, SECOND]
    first, second = (cells(r) for r in matrix.rows)
    assert second["detainer_response"].strongest and not first["detainer_response"].strongest
    assert first["reimbursement_required"].strongest  # true beats false
    assert second["max_hold_hours"].strongest  # 0 hours beats 48
    assert first["max_hold_hours"].label == "48 hours"
    # Silence never wins, even when nobody says anything.
    assert not first["program_287g"].strongest and not second["program_287g"].strongest
    assert second["juvenile_holds"].provision_id == f"{SECOND}/sec-1"
    assert first["juvenile_holds"].provision_id is None

    # A filter narrows the rows, not the yardstick.
    only_first = overview(db, status="superseded")
    assert [r.protocol.id for r in only_first.rows] == [FIRST]
    assert not cells(only_first.rows[0])["detainer_response"].strongest
    assert overview(db, level="state").rows == []
    assert only_first.statuses == sorted({"superseded", matrix.rows[1].protocol.status})


def test_unknown_filter_values_are_named(db: Session) -> None:
    with pytest.raises(KBError, match="unknown level 'planet'; choose one of: county, state"):
        overview(db, level="planet")


def test_a_collection_keeps_pin_order_and_reports_missing_ids(db: Session) -> None:
    ids = [
        f"{SECOND}/sec-2",
        f"{FIRST}/sec-1",
        f"{SECOND}/gone",
        "nowhere/at-all",
        f"{SECOND}/sec-2",
    ]
    collection = collect(db, ids)
    assert [i.provision.id for i in collection.items] == [f"{SECOND}/sec-2", f"{FIRST}/sec-1"]
    assert collection.missing == [f"{SECOND}/gone", "nowhere/at-all"]
    assert collection.items[0].protocol.jurisdiction_name == "Example County, Examplia"

    md = collection_markdown(collection)
    assert md.startswith("# Pinned provisions\n")
    assert "## Example County, Examplia: No access" in md
    csv_text = collection_csv(collection)
    assert csv_text.startswith("\ufeffprovision_id,")
    assert len(csv_text.strip().splitlines()) == 3

    with pytest.raises(KBError, match=f"at most {MAX_PINNED}"):
        collect(db, [f"x/{i}" for i in range(MAX_PINNED + 1)])
