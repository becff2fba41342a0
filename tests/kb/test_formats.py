"""Comparison downloads: CSV that Excel opens, JSON that round-trips, Markdown tables."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from kb.build import build
from kb.compare import compare_protocols
from kb.formats import CSV_COLUMNS, comparison_csv, comparison_json, comparison_markdown
from tests.kb.test_compare import FIRST, SECOND, open_session


@pytest.fixture
def db(content: Path, tmp_path: Path) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    build(content, url)
    yield from open_session(url)


def test_csv_has_a_bom_and_one_row_per_cell(db: Session) -> None:
    comparison = compare_protocols(db, [FIRST, SECOND])
    text = comparison_csv(comparison)
    assert text.startswith("\ufeffkey,question,")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == len(comparison.rows) * 2
    hours = [r for r in rows if r["key"] == "max_hold_hours"]
    assert [(r["value"], r["most_protective"]) for r in hours] == [("48", "no"), ("0", "yes")]
    assert hours[0]["note"] == "Excluding weekends & <holidays>."
    assert hours[0]["provisions"] == f"Sec. 1 ({FIRST}/sec-1)"
    assert [r["value"] for r in rows if r["key"] == "reimbursement_required"] == ["true", "false"]


def test_json_round_trips(db: Session) -> None:
    comparison = compare_protocols(db, [FIRST, SECOND], keys=["juvenile_holds"])
    data = json.loads(comparison_json(comparison))
    assert data["rows"][0]["strongest"] == "prohibited"
    assert data["protocols"][1]["id"] == SECOND


def test_markdown_table_marks_the_strongest_in_words(db: Session) -> None:
    text = comparison_markdown(compare_protocols(db, [FIRST, SECOND], keys=["detainer_response"]))
    lines = text.splitlines()
    assert lines[0].startswith("| Question | Example County, Examplia: Detainer Cost Ordinance |")
    assert lines[1] == "|---|---|---|"
    assert "**Declines all holds [Sec. 1]** (most protective)" in lines[2]
    assert "Most protective:" in text
