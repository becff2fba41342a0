"""The changes feed: 287(g) agreements listed, ended or pending between captures, and protocols' dated events, newest first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from kb import models, store
from kb.errors import InvalidParameter, NotFound
from kb.registry import _capture_order
from kb.registry_check import MODEL_NAMES
from kb.registry_models import agreement_table, capture_table
from kb.registry_sheet import STATE_CODES

ChangeKind = Literal[
    "agreement_listed", "agreement_ended", "request_pending", "request_closed", "protocol_event"
]
MAX_ENTRIES = 500
EVENT_WORDS = {
    "introduced": "introduced", "passed": "passed", "adopted": "adopted", "signed": "signed",
    "vetoed": "vetoed", "issued": "issued", "effective": "took effect", "amended": "amended",
    "superseded": "superseded", "repealed": "repealed", "struck_down": "struck down",
    "preempted": "preempted",
}  # fmt: skip


@dataclass(frozen=True)
class Change:
    """One entry: `path` is the site path of its source (an agreement's record in the API, or a
    protocol page); `capture` names the capture it was seen in (registry changes)."""

    id: str
    kind: ChangeKind
    day: dt.date
    title: str
    summary: str
    path: str
    state: str
    jurisdiction_id: str | None
    capture: str | None = None
    capture_id: str | None = None
    county_fips: str | None = None
    parts: tuple[tuple[str, str], ...] = ()
    """What `title` and `summary` are written from, for writing them in another language
    (api.routes.feeds): for a registry change where, agency, model, list, file, day, signed and
    last (ISO dates, "" when unknown); for a protocol event name, title, citation, place, event
    (its `dates` key) and day (as the protocol file gives it)."""


@dataclass(frozen=True)
class FeedFilter:
    state: str | None = None
    jurisdiction: str | None = None


def _place(db: Session, where: FeedFilter) -> tuple[str | None, models.JurisdictionPublic | None]:
    state = where.state.upper() if where.state else None
    if state is not None and state not in STATE_CODES:
        raise InvalidParameter(
            f"unknown state {where.state!r}: use a two-letter USPS code such as TX", field="state"
        )
    place = None
    if where.jurisdiction is not None:
        try:
            place = store.get_jurisdiction(db, where.jurisdiction)
        except NotFound:
            raise InvalidParameter(
                f"no jurisdiction with id {where.jurisdiction!r}: use a gazetteer id such as "
                "us-tx-harris-county or us-fl",
                field="jurisdiction",
            ) from None
    return state, place


def list_changes(db: Session, where: FeedFilter, limit: int = 100) -> list[Change]:
    """The newest `limit` changes that match: registry changes from the captures, protocol events
    from each protocol's dates (builds keep no history: docs/registry.md, "The changes feed")."""
    state, place = _place(db, where)
    chain = _chain(db, place) if place is not None else set()
    changes = [c for c in _registry_changes(db) if _matches(c, state, place)]
    for change in _protocol_changes(db):
        if state is not None and change.state != state:
            continue
        if place is not None and change.jurisdiction_id not in chain | _below(db, place):
            continue
        changes.append(change)
    changes.sort(key=lambda c: (c.day, c.id), reverse=True)
    return changes[:limit]


def _chain(db: Session, place: models.JurisdictionPublic) -> set[str]:
    """The place and every place enclosing it: their laws bear on it."""
    places = {j.id: j for j in store.list_jurisdictions(db)}
    found = {place.id}
    current = place
    while current.parent_id and current.parent_id in places and current.parent_id not in found:
        found.add(current.parent_id)
        current = places[current.parent_id]
    return found


def _below(db: Session, place: models.JurisdictionPublic) -> set[str]:
    """For a county, the cities it holds (their own laws are news for the county too)."""
    return {j.id for j in store.list_jurisdictions(db) if j.parent_id == place.id}


def _matches(change: Change, state: str | None, place: models.JurisdictionPublic | None) -> bool:
    if state is not None and change.state != state:
        return False
    if place is None:
        return True
    if place.level in ("state", "district") and place.parent_id is None:
        return change.state == place.state
    fips = place.fips if place.fips and len(place.fips) == 5 else None
    return change.jurisdiction_id == place.id or (fips is not None and change.county_fips == fips)


def _registry_changes(db: Session) -> list[Change]:
    conn = db.connection()
    try:
        if not inspect(conn).has_table(capture_table.name):
            return []
        captures = sorted(conn.execute(select(capture_table)).all(), key=_capture_order)
        rows = conn.execute(select(agreement_table)).all()
    except SQLAlchemyError:
        return []
    first: dict[str, str] = {}
    by_id = {c.id: c for c in captures}
    for c in captures:
        first.setdefault(c.list, c.id)
    changes: list[Change] = []
    for row in rows:
        model = MODEL_NAMES.get(row.model, row.model)
        what = f"{model} agreement" if row.list == "participating" else f"{model} request"
        where = f"{row.agency} ({row.state})"
        signed = f", signed {row.signed.isoformat()}" if row.signed else ""
        base = {
            "path": f"/api/v1/287g/agreements/{row.id}", "state": row.state,
            "jurisdiction_id": row.jurisdiction_id,
        }  # fmt: skip
        parts = (
            ("where", where), ("agency", row.agency), ("model", model), ("list", row.list),
            ("signed", row.signed.isoformat() if row.signed else ""),
        )  # fmt: skip
        if row.first_capture_id != first.get(row.list):  # the first capture is the baseline
            seen = by_id[row.first_capture_id]
            kind: ChangeKind = (
                "agreement_listed" if row.list == "participating" else "request_pending"
            )
            verb = "now lists" if row.list == "participating" else "now lists as pending"
            changes.append(
                Change(
                    id=f"{row.id}/listed/{seen.id[:12]}", kind=kind, day=seen.list_date,
                    title=f"{where}: {what} listed{signed}",
                    summary=f"ICE's {row.list} list of {seen.list_date.isoformat()} "
                    f"({seen.file_name}) {verb} a {what} with {row.agency}{signed}; the capture "
                    "before it did not.",
                    capture=seen.file_name, capture_id=seen.id, county_fips=row.county_fips,
                    parts=(*parts, ("file", seen.file_name), ("day", seen.list_date.isoformat())),
                    **base,
                )
            )  # fmt: skip
        if row.ended_capture_id is not None:
            gone = by_id[row.ended_capture_id]
            kind = "agreement_ended" if row.list == "participating" else "request_closed"
            changes.append(
                Change(
                    id=f"{row.id}/ended/{gone.id[:12]}", kind=kind, day=gone.list_date,
                    title=f"{where}: {what} no longer listed",
                    summary=f"ICE's {row.list} list of {gone.list_date.isoformat()} "
                    f"({gone.file_name}) no longer shows the {what} with {row.agency}{signed}, "
                    f"last listed on {row.last_seen.isoformat()}. Dropping out of the list can "
                    "mean an ended agreement, a corrected row or, for a request, one signed or "
                    "withdrawn (docs/registry.md).",
                    capture=gone.file_name, capture_id=gone.id, county_fips=row.county_fips,
                    parts=(
                        *parts, ("file", gone.file_name), ("day", gone.list_date.isoformat()),
                        ("last", row.last_seen.isoformat()),
                    ),
                    **base,
                )
            )  # fmt: skip
    return changes


def _protocol_changes(db: Session) -> list[Change]:
    def compute() -> list[Change]:
        places = {j.id: j for j in store.list_jurisdictions(db)}
        found: list[Change] = []
        for p in store.get_protocols(db):
            state = places[p.jurisdiction_id].state if p.jurisdiction_id in places else ""
            for event, text in p.dates.items():
                day = models.PartialDate.of(text).date
                words = EVENT_WORDS.get(event, event.replace("_", " "))
                found.append(
                    Change(
                        id=f"protocol/{p.id}/{event}", kind="protocol_event", day=day,
                        title=f"{p.short_name}: {words} {text}",
                        summary=f"{p.title} ({p.citation}), {p.jurisdiction_name}: {words} "
                        f"{text}.",
                        path=f"/protocols/{p.id}", state=state, jurisdiction_id=p.jurisdiction_id,
                        parts=(
                            ("name", p.short_name), ("title", p.title),
                            ("citation", p.citation), ("place", p.jurisdiction_name),
                            ("event", event), ("day", text),
                        ),
                    )
                )  # fmt: skip
        return found

    return store.per_build(db, "feed protocol changes", compute)


def feed_updated(changes: list[Change]) -> dt.date | None:
    return max((c.day for c in changes), default=None)
