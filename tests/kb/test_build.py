"""`kb build` on SQLite and PostgreSQL: all or nothing, and the export round-trips the files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kb import store
from kb.build import build, write_dataset
from kb.codebook import value_text
from kb.db import make_engine
from kb.errors import BuildFailed, ValidationFailed
from kb.export import EXPORT_FORMAT, export_data
from kb.loader import load_valid_dataset
from kb.records import Dataset
from kbcli.commands import main


def exported(database_url: str) -> dict[str, Any]:
    engine = make_engine(database_url)
    try:
        with store.session(engine) as db:
            return export_data(db)
    finally:
        engine.dispose()


def expected_from_files(dataset: Dataset) -> dict[str, Any]:
    """What the export must say, written straight from the loaded files (independent of the store)."""
    return {
        "models": sorted(
            (f"{m.key}/{value_text(level.value)}", level.text, level.drawn_from)
            for m in dataset.models.keys
            for level in m.levels
        ),
        "terms": sorted(t.id for t in dataset.models.terms),
        "jurisdictions": sorted(j.id for j in dataset.jurisdictions),
        "protocols": {
            p.id: {
                "status": p.status,
                "year": p.year,
                "dates": p.dates,
                "predecessors": sorted(p.predecessors),
                "successors": sorted(p.successors),
                "sources": [(s.id, s.url, s.kind, s.accessed) for s in p.sources],
                "provisions": [
                    (
                        p.provision_id(v.anchor),
                        v.cite,
                        v.topics,
                        v.summary,
                        p.provision_sources(v),
                        v.context,
                    )
                    for v in p.provisions
                ],
                "coding": {
                    k: (
                        value_text(a.value),
                        a.note,
                        [p.provision_id(x) for x in sorted(a.provisions)],
                    )
                    for k, a in p.coding.items()
                },
            }
            for p in dataset.protocols
        },
    }


def _written(when: dict[str, str]) -> str:
    """A dumped date back as the content wrote it: `2013`, `2013-10` or `2013-10-05`."""
    parts = {"year": 1, "month": 2, "day": 3}[when["precision"]]
    return "-".join(when["date"].split("-")[:parts])


def as_compared(export: dict[str, Any]) -> dict[str, Any]:
    def text(value: Any) -> str | None:
        return value_text(value)

    return {
        "models": [(m["id"], m["text"], m["drawn_from"]) for m in export["models"]["provisions"]],
        "terms": [t["id"] for t in export["models"]["terms"]],
        "jurisdictions": [j["id"] for j in export["jurisdictions"]],
        "protocols": {
            p["id"]: {
                "status": p["status"],
                "year": p["year"],
                "dates": {
                    event: _written(when) for event, when in p["dates"].items() if when is not None
                },
                "predecessors": p["predecessor_ids"],
                "successors": p["successor_ids"],
                "sources": [(s["key"], s["url"], s["kind"], s["accessed"]) for s in p["sources"]],
                "provisions": [
                    (
                        v["id"],
                        v["citation"],
                        v["topic_ids"],
                        v["summary"],
                        v["source_keys"],
                        v["context_ids"],
                    )
                    for v in p["provisions"]
                ],
                "coding": {
                    a["key"]: (text(a["value"]), a["note"], sorted(a["provision_ids"]))
                    for a in p["coding"]
                },
            }
            for p in export["protocols"]
        },
    }


def test_files_to_database_to_export_round_trip(content: Path, database_url: str) -> None:
    report = build(content, database_url)
    export = exported(database_url)

    dataset = load_valid_dataset(content)
    assert export["format"] == EXPORT_FORMAT
    assert export["version"] == dataset.version == report.version
    assert export["counts"] == dataset.counts() == report.counts
    assert as_compared(export) == expected_from_files(dataset)
    # A few facts checked by hand against tests/fixtures/good.
    second = next(
        p for p in export["protocols"] if p["id"] == "us-xx-example-county/ordinance-2012-9"
    )
    assert second["jurisdiction_name"] == "Example County, Examplia"
    assert second["predecessor_ids"] == ["us-xx-example-county/ordinance-2010-3"]
    hours = next(a for a in second["coding"] if a["key"] == "max_hold_hours")
    assert hours["value"] == 0 and hours["label"] == "0 hours"
    notice = next(a for a in second["coding"] if a["key"] == "detainee_notice")
    assert notice["value"] is True
    assert second["provisions"][0]["key_terms"] == [
        {"text": "shall not detain", "citation": "Sec. 1"}
    ]
    assert export["context"][0]["sources"][0]["url"] == "https://example.org/fixture"


def test_export_is_stable_across_builds(content: Path, database_url: str) -> None:
    build(content, database_url)
    first = json.dumps(exported(database_url))
    build(content, database_url)
    assert json.dumps(exported(database_url)) == first


def test_rebuild_replaces_the_content(content: Path, database_url: str) -> None:
    build(content, database_url)
    (content / "us-xx-example-county" / "ordinance-2012-9.md").write_text(
        (content / "us-xx-example-county" / "ordinance-2012-9.md")
        .read_text()
        .replace("## Notice {#sec-3", "## Notice to the person {#sec-3")
    )
    build(content, database_url)
    export = exported(database_url)
    headings = [v["heading"] for p in export["protocols"] for v in p["provisions"]]
    assert "Notice to the person" in headings and "Notice" not in headings


def test_invalid_content_leaves_the_previous_database_untouched(
    content: Path, database_url: str
) -> None:
    build(content, database_url)
    before = exported(database_url)
    path = content / "us-xx-example-county" / "ordinance-2012-9.md"
    path.write_text(path.read_text().replace("status: in_force", "status: in-force"))

    with pytest.raises(ValidationFailed):
        build(content, database_url)

    assert exported(database_url) == before


def test_a_write_that_fails_midway_leaves_the_previous_database_untouched(
    content: Path, database_url: str
) -> None:
    build(content, database_url)
    before = exported(database_url)
    dataset = load_valid_dataset(content)
    # Break an invariant the validator guarantees, so the database itself rejects a row
    # after others were written (a coded answer citing a provision that does not exist).
    dataset.protocols[1].coding["detainer_response"].provisions = ["no-such-provision"]

    with pytest.raises(BuildFailed, match="previous"):
        write_dataset(dataset, database_url)

    assert exported(database_url) == before


def test_cli_build_prints_one_timing_line(
    content: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", "--protocols", str(content), "--database-url", database_url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1
    assert out[0].startswith(
        "built 2 protocols, 4 provisions, 32 coded answers, 2 jurisdictions into "
    )
    assert out[0].endswith(" s")
