"""All 64 real captures of ICE's 287(g) lists (May-July 2025), imported and checked against the
spreadsheets read here independently (plain openpyxl, none of kb.registry_sheet's cleaning).

The captures live outside the repository, in the project's shared/ folder beside the checkout
(KB_ICE_287G_DIR to point elsewhere); without them these tests are skipped, except in CI, where
shared/ is always beside the clone and a missing capture fails."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, select

from kb.db import parse_url
from kb.registry import import_captures
from kb.registry_models import agreement_table, capture_table, entry_table
from tests.conftest import ROOT

CAPTURES = Path(os.environ.get("KB_ICE_287G_DIR", ROOT.parent / "shared" / "data" / "ice-287g"))
FILES = sorted(CAPTURES.glob("*.xlsx")) if CAPTURES.is_dir() else []
if len(FILES) != 64 and os.environ.get("CI"):
    raise RuntimeError(f"CI: the 64 ICE captures must be in {CAPTURES} (found {len(FILES)})")
pytestmark = pytest.mark.skipif(
    len(FILES) != 64, reason=f"the 64 ICE captures are not in {CAPTURES}"
)
STATE_NAMES = {
    "FL": "FLORIDA",
    "TX": "TEXAS",
    "GA": "GEORGIA",
    "AL": "ALABAMA",
    "VA": "VIRGINIA",
    "NC": "NORTH CAROLINA",
    "SC": "SOUTH CAROLINA",
    "TN": "TENNESSEE",
    "OK": "OKLAHOMA",
    "PA": "PENNSYLVANIA",
    "KY": "KENTUCKY",
    "WI": "WISCONSIN",
    "KS": "KANSAS",
    "LA": "LOUISIANA",
    "AZ": "ARIZONA",
    "AR": "ARKANSAS",
    "MS": "MISSISSIPPI",
    "UT": "UTAH",
    "NV": "NEVADA",
    "MO": "MISSOURI",
    "OH": "OHIO",
    "NY": "NEW YORK",
}
"""Enough states, written here, to match the agreements that end between May and July."""
MODEL_NAMES = {
    "task_force": "TASK FORCE MODEL",
    "warrant_service_officer": "WARRANT SERVICE OFFICER",
    "jail_enforcement": "JAIL ENFORCEMENT MODEL",
}


def _signed(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    # Text dates, some missing a slash (7/72025): the month, then the day and a 4-digit year.
    month, *rest = str(value).strip().split("/")
    tail = "".join(rest)
    return dt.date(int(tail[-4:]), int(month), int(tail[:-4])).isoformat()


Key = tuple[str, str, str, str]


def keys_in(path: Path) -> Counter[Key]:
    """(state, agency, model, signed) of every non-blank row, as counted straight from the sheet."""
    return Counter(sheet_rows(path).values())


@functools.cache
def sheet_rows(path: Path) -> dict[int, Key]:
    """Every non-blank row by its number: (state, agency, model, signed) as the sheet has them."""
    rows = list(load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True))
    header = [str(h).strip().upper() if h else "" for h in rows[0]]
    state, agency, model, signed = (
        header.index("STATE"),
        header.index("LAW ENFORCEMENT AGENCY"),
        header.index("SUPPORT TYPE"),
        header.index("SIGNED"),
    )
    found: dict[int, Key] = {}
    for number, row in enumerate(rows[1:], 2):
        if all(v is None or str(v).strip() == "" for v in row):
            continue
        found[number] = (
            str(row[state]).strip().upper(),
            " ".join(str(row[agency]).split()).casefold(),
            str(row[model]).strip().upper(),
            _signed(row[signed]),
        )
    return found


def participating(stem: str) -> Path:
    (path,) = [f for f in FILES if f.name.endswith(f"_{stem}.xlsx")]
    return path


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('ice') / 'kb.sqlite3'}"
    report = import_captures(FILES, url)
    assert report.loaded == len({f.read_bytes() for f in FILES})
    return url


def _rows(url: str, query: Any) -> list[Any]:
    engine = create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            return list(conn.execute(query).all())
    finally:
        engine.dispose()


def _key(row: Any) -> tuple[str, str, str]:
    return (" ".join(row.agency.split()).casefold(), MODEL_NAMES[row.model], row.signed.isoformat())


@pytest.mark.parametrize(
    "stem", ["participatingAgencies07182025am", "participatingAgencies07182025pm"]
)
def test_every_agreement_of_the_18_july_2025_capture_is_there(imported: str, stem: str) -> None:
    path = participating(stem)
    expected = keys_in(path)
    (capture,) = _rows(
        imported, select(capture_table).where(capture_table.c.file_name == f"{stem}.xlsx")
    )
    shown = _rows(
        imported,
        select(agreement_table, entry_table.c.rows.label("merged"), entry_table.c.row.label("row"))
        .join(entry_table, entry_table.c.agreement_id == agreement_table.c.id)
        .where(entry_table.c.capture_id == capture.id),
    )
    by_number = sheet_rows(path)
    assert all(by_number[r.row][1:] == _key(r) for r in shown)  # each points at its own row
    assert Counter({by_number[r.row]: r.merged for r in shown}) == expected
    assert capture.rows == sum(expected.values())
    assert capture.entries == len(expected)
    assert all(r.last_seen >= dt.date(2025, 7, 18) and r.ended_by is None for r in shown)


def test_miami_dade_county_has_its_two_agreements_of_26_february_2025(imported: str) -> None:
    rows = _rows(
        imported,
        select(agreement_table).where(
            agreement_table.c.county == "Miami-Dade County",
            agreement_table.c.signed == dt.date(2025, 2, 26),
        ),
    )
    assert sorted(r.model for r in rows) == ["task_force", "warrant_service_officer"]
    # Their history, straight from the sheets: every participating capture that lists them.
    participating_files = [f for f in FILES if "_participatingAgencies" in f.name]
    for row in rows:
        showing = [f for f in participating_files if ("FLORIDA", *_key(row)) in keys_in(f)]
        assert row.captures == len({f.read_bytes() for f in showing})
        assert row.first_seen == dt.date(2025, 5, 16)  # in the first capture already
        assert row.ended_by is None and row.last_seen == dt.date(2025, 7, 18)


def test_agreements_listed_in_may_and_gone_in_july_are_ended_with_dates(imported: str) -> None:
    may = keys_in(participating("participatingAgencies05162025am"))
    july = keys_in(participating("participatingAgencies07182025pm"))
    gone = {k for k in set(may) - set(july) if k[0] in STATE_NAMES.values()}
    assert len(gone) >= 10
    by_key = {
        (STATE_NAMES[r.state], *_key(r)): r
        for r in _rows(
            imported, select(agreement_table).where(agreement_table.c.list == "participating")
        )
        if r.state in STATE_NAMES
    }
    captures = _rows(
        imported,
        select(capture_table)
        .where(capture_table.c.list == "participating")
        .order_by(capture_table.c.position),
    )
    by_sha = {hashlib.sha256(f.read_bytes()).hexdigest(): f for f in FILES}
    for key in gone:
        row = by_key[key]
        assert row.ended_by is not None and row.ended_by <= dt.date(2025, 7, 18), key
        # ended_by is the capture right after the last one that showed it
        last = next(i for i, c in enumerate(captures) if c.id == row.last_capture_id)
        assert captures[last + 1].id == row.ended_capture_id
        assert captures[last + 1].list_date == row.ended_by
        assert row.last_seen <= row.ended_by  # the same day when it goes between am and pm
        # checked on the sheets themselves: the last one lists it, the ending one does not
        assert key in keys_in(by_sha[row.last_capture_id])
        assert key not in keys_in(by_sha[row.ended_capture_id])


@pytest.mark.postgres
def test_postgresql_holds_the_same_registry_as_sqlite(imported: str, postgres_url: str) -> None:
    """All 64 captures on PostgreSQL, given newest first: the same agreements and history."""
    import_captures(list(reversed(FILES)), postgres_url)
    query = select(agreement_table).order_by(agreement_table.c.id)
    assert _rows(postgres_url, query) == _rows(imported, query)
    again = import_captures(FILES, postgres_url)
    assert again.loaded == 0 and _rows(postgres_url, query) == _rows(imported, query)
