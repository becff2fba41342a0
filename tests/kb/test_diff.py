"""diff_versions on the fixture versions and on AB 1081 (vetoed) -> AB 4 (enacted)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from kb.build import build
from kb.diff import diff_versions
from kb.errors import NotFound
from tests.conftest import PROTOCOLS
from tests.kb.test_compare import FIRST, SECOND, open_session


@pytest.fixture
def fixture_db(content: Path, database_url: str) -> Iterator[Session]:
    build(content, database_url)
    yield from open_session(database_url)


def test_versions_are_aligned_and_redlined(fixture_db: Session) -> None:
    diff = diff_versions(fixture_db, FIRST, SECOND)
    assert diff.linked is True
    assert [(c.status, (c.old or c.new).id) for c in diff.provisions] == [  # type: ignore[union-attr]
        ("changed", f"{FIRST}/sec-1"),
        ("added", f"{SECOND}/sec-2"),
        ("added", f"{SECOND}/sec-3"),
    ]
    assert diff.counts == {"added": 2, "removed": 0, "changed": 1, "unchanged": 0}
    first = diff.provisions[0]
    assert first.heading_changed and not first.cite_changed
    old_text = "".join(w.text for w in first.redline if w.op != "insert")
    new_text = "".join(w.text for w in first.redline if w.op != "delete")
    assert old_text == first.old.summary  # type: ignore[union-attr]
    assert new_text == first.new.summary  # type: ignore[union-attr]
    assert {"equal", "insert", "delete"} <= {w.op for w in first.redline}
    changed = {a.key: (a.old_value, a.new_value) for a in diff.answers}
    assert changed["detainer_response"] == ("conditional", "declines_all")
    assert changed["max_hold_hours"] == (48, 0)
    assert "status_inquiry" not in changed


def test_the_reverse_diff_removes_and_is_not_linked(fixture_db: Session) -> None:
    diff = diff_versions(fixture_db, SECOND, FIRST)
    assert diff.linked is False
    assert diff.counts == {"added": 0, "removed": 2, "changed": 1, "unchanged": 0}
    assert [c.status for c in diff.provisions] == ["changed", "removed", "removed"]


def test_a_protocol_against_itself_is_unchanged(fixture_db: Session) -> None:
    diff = diff_versions(fixture_db, SECOND, SECOND)
    assert {c.status for c in diff.provisions} == {"unchanged"}
    assert diff.answers == []


def test_unknown_version_is_named(fixture_db: Session) -> None:
    with pytest.raises(NotFound, match="'us-xx/none'"):
        diff_versions(fixture_db, FIRST, "us-xx/none")


def test_trust_act_ab_1081_to_ab_4(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    build(PROTOCOLS, url)
    db = next(open_session(url))
    diff = diff_versions(db, "us-ca/ab-1081-2012", "us-ca/ab-4-2013")
    assert diff.linked is True
    by_anchor = {(c.new or c.old).id.rsplit("/", 1)[1]: c.status for c in diff.provisions}  # type: ignore[union-attr]
    for shared in (
        "findings",
        "discretion-rule",
        "crit-serious-violent-felony",
        "crit-pending-felony-charge",
    ):
        assert by_anchor[shared] in ("changed", "unchanged"), shared
    assert diff.counts["added"] >= 5
    changed = {a.key: (a.old_value, a.new_value) for a in diff.answers}
    assert changed["offense_threshold"] == ("serious_or_violent_felony", "enumerated_offenses")
    assert changed["max_hold_hours"] == (None, 48)
