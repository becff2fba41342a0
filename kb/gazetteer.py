"""Reading the gazetteer (protocols/gazetteer/jurisdictions.csv): every US state, D.C. and county."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from kb.fields import SLUG, Report
from kb.records import LEVELS, JurisdictionRecord

GAZETTEER = Path("gazetteer") / "jurisdictions.csv"
COLUMNS = ["fips", "id", "name", "level", "state", "parent"]
FIPS = re.compile(r"^\d{2}(?:\d{3})?$")
STATE = re.compile(r"^[A-Z]{2}$")


def read_gazetteer(text: str, report: Report) -> list[JurisdictionRecord]:
    """The rows of the gazetteer; a bad row is reported with its line and left out."""
    rows = csv.reader(text.splitlines())
    header = next(rows, None)
    if header != COLUMNS:
        report(1, f"the first line must name the columns {','.join(COLUMNS)}")
        return []
    records: list[JurisdictionRecord] = []
    for line, row in enumerate(rows, start=2):
        if len(row) != len(COLUMNS):
            report(line, f"expected {len(COLUMNS)} columns, found {len(row)}")
            continue
        fips, jid, name, level, state, parent = (cell.strip() for cell in row)
        problems = [
            message
            for bad, message in (
                (not FIPS.match(fips), f"FIPS code {fips!r} is not 2 or 5 digits"),
                (not SLUG.match(jid), f"{jid!r} is not an id (lowercase letters, digits, hyphens)"),
                (not name, "the name is empty"),
                (level not in LEVELS, f"level {level!r} is not one of {', '.join(LEVELS)}"),
                (not STATE.match(state), f"{state!r} is not a two-letter state code"),
                (bool(parent) and not SLUG.match(parent), f"parent {parent!r} is not an id"),
            )
            if bad
        ]
        for message in problems:
            report(line, message)
        if not problems:
            records.append(JurisdictionRecord(jid, name, level, state, parent or None, fips, line))
    return records


def merge(
    gazetteer: list[JurisdictionRecord], listed: list[JurisdictionRecord]
) -> list[JurisdictionRecord]:
    """The gazetteer's places, each overridden by jurisdictions.yaml's entry with the same id
    (its name, level and parent win; the FIPS code and, when it has none, the parent come from
    the gazetteer), then the listed places the gazetteer does not hold."""
    by_id = {r.id: r for r in gazetteer}
    merged = dict(by_id)
    for record in listed:
        known = by_id.get(record.id)
        if known is not None:
            record.fips = record.fips or known.fips
            record.parent = record.parent or known.parent
        merged[record.id] = record
    return list(merged.values())
