"""Policy beside practice: where the rules bar 287(g) and ICE's list shows an agreement, or require it and the list shows none."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from kb import store
from kb.errors import NotFound
from kb.message import N_, Kept, Label, LongDay, Message, clauses, message
from kb.models import JurisdictionPublic
from kb.registry import _capture_order
from kb.registry_models import agreement_table, capture_table, entry_table
from kb.resolve import LAYER_LABELS, ResolvedAnswer, resolve

KEY = "program_287g"
"""The codebook question on 287(g) (protocols/codebook.yaml)."""
MODEL_NAMES = {
    "jail_enforcement": "Jail Enforcement Model",
    "task_force": "Task Force Model",
    "warrant_service_officer": "Warrant Service Officer",
}
NoteKind = Literal["agreement_where_barred", "none_where_required"]


class CaptureRef(BaseModel):
    id: str
    file_name: str
    list_date: dt.date


class ListedAgreement(BaseModel):
    id: str
    agency: str
    model: str
    model_name: str
    signed: dt.date | None


class PracticeNote(BaseModel):
    """One place where what governs on 287(g) and what ICE's list shows do not line up; both
    sources named, in words that state facts and draw no conclusion."""

    kind: NoteKind
    jurisdiction_id: str
    jurisdiction_name: str
    protocol_id: str = Field(description="the law that governs the 287(g) question here")
    protocol_name: str
    citation: str
    provision_ids: list[str]
    cites: list[str]
    value_label: str
    layer: str
    rule_note: str | None
    capture: CaptureRef
    agreements: list[ListedAgreement] = Field(description="barred: the agreements ICE lists here")
    pending_capture: CaptureRef | None = None
    pending: list[ListedAgreement] = Field(default=[], description="required: pending requests")
    text: str = Field(description="the note in one paragraph")
    text_message: Kept = None
    """`text` as a message, for pages in any language."""


def _listed(row: Any) -> ListedAgreement:
    return ListedAgreement(
        id=row.id, agency=row.agency, model=row.model,
        model_name=MODEL_NAMES.get(row.model, row.model), signed=row.signed,
    )  # fmt: skip


def _captures(db: Session, kind: str, on: dt.date | None) -> CaptureRef | None:
    """The latest capture of a list on or before `on` (any, when None)."""
    try:
        if not inspect(db.connection()).has_table(capture_table.name):
            return None
        rows = db.connection().execute(select(capture_table).where(capture_table.c.list == kind))
        found = [r for r in rows.all() if on is None or r.list_date <= on]
    except SQLAlchemyError:
        return None  # a registry never imported: nothing to compare
    if not found:
        return None
    last = max(found, key=_capture_order)
    return CaptureRef(id=last.id, file_name=last.file_name, list_date=last.list_date)


def _rows_in(db: Session, capture: CaptureRef) -> list[Any]:
    t, e = agreement_table, entry_table
    query = (
        select(t)
        .join(e, e.c.agreement_id == t.c.id)
        .where(e.c.capture_id == capture.id)
        .order_by(t.c.agency, t.c.model, t.c.signed)
    )
    return list(db.connection().execute(query).all())


def _within(place: JurisdictionPublic, row: Any) -> bool:
    if place.level in ("state", "district") and place.parent_id is None:
        return bool(row.state == place.state)
    if row.jurisdiction_id == place.id:
        return True
    return bool(place.fips and len(place.fips) == 5 and row.county_fips == place.fips)


def _governing(answer: ResolvedAnswer) -> Any:
    return next((rule for rule in answer.rules if rule.role == "governs"), None)


class PlacePractice(BaseModel):
    """What ICE's list shows in a place, beside what governs there."""

    capture: CaptureRef | None = Field(description="null: no capture on or before the date")
    agreements: list[ListedAgreement] = Field(
        description="the agreements the capture lists with agencies in the place"
    )
    notes: list[PracticeNote]


def practice_here(db: Session, jurisdiction_id: str, as_of: dt.date | None = None) -> PlacePractice:
    """The latest participating capture on or before `as_of` (the latest of all by default),
    the agreements it lists in this place, and the notes for the place on that capture's date."""
    place = store.get_jurisdiction(db, jurisdiction_id)
    capture = _captures(db, "participating", as_of)
    if capture is None:
        return PlacePractice(capture=None, agreements=[], notes=[])
    rows = _rows_in(db, capture)
    return PlacePractice(
        capture=capture,
        agreements=[_listed(r) for r in rows if _within(place, r)],
        notes=_notes(db, place, capture, rows),
    )


def _notes(
    db: Session, place: JurisdictionPublic, capture: CaptureRef, rows: Sequence[Any]
) -> list[PracticeNote]:
    on = capture.list_date
    resolution = resolve(db, place.id, on)
    answer = next((a for a in resolution.answers if a.key == KEY), None)
    if answer is None:
        return []
    rule = _governing(answer)
    if rule is None:
        return []
    here = [r for r in rows if _within(place, r)]
    own = rule.jurisdiction_id == place.id and rule.layer in ("county", "city")
    if own:  # a local body's own rule binds its own agencies, not every agency within it
        here = [r for r in here if r.jurisdiction_id == place.id]
    source = dict(
        jurisdiction_id=place.id, jurisdiction_name=place.name, protocol_id=rule.protocol_id,
        protocol_name=_name(db, rule.protocol_id, rule.title), citation=rule.citation,
        provision_ids=rule.provisions, cites=[c for c in rule.citations if c],
        value_label=rule.label, layer=LAYER_LABELS.get(rule.layer, rule.layer),
        rule_note=rule.note, capture=capture,
    )  # fmt: skip
    where = f"{source['protocol_name']} ({'; '.join(source['cites']) or rule.citation})"
    listed = message(ICE_LIST, date=LongDay(on), file=capture.file_name)
    layer = message(LAYER_LABELS[rule.layer]) if rule.layer in LAYER_LABELS else rule.layer
    if answer.value == "prohibited" and here:
        shown = clauses(_agreement(r) for r in here)
        count = message(ONE_ACTIVE if len(here) == 1 else ACTIVE, n=len(here))
        said = message(
            BARRED,
            listed=listed,
            count=count,
            place=place.name,
            shown=shown,
            where=where,
            label=Label(rule.label, rule.value),
            layer=layer,
        )
        return [
            PracticeNote(
                kind="agreement_where_barred", agreements=[_listed(r) for r in here],
                text=str(said), text_message=said, **source,
            )
        ]  # fmt: skip
    county_level = place.level == "county" or (place.fips is not None and len(place.fips) == 5)
    if answer.value == "participates" and answer.room == "must" and county_level:
        county_agencies = [r for r in here if r.agency_type == "county"]
        if county_agencies:
            return []
        pending_capture = _captures(db, "pending", on)
        pending = (
            [
                r
                for r in _rows_in(db, pending_capture)
                if _within(place, r) and r.agency_type == "county"
            ]
            if pending_capture
            else []
        )
        said = message(
            NONE_LISTED,
            listed=listed,
            place=place.name,
            where=where,
            label=Label(rule.label, rule.value),
            layer=layer,
        )
        if rule.note:
            said = message(CODING_NOTE, sentence=said, note=rule.note.rstrip("."))
        if pending and pending_capture is not None:
            requests = clauses(
                message(REQUEST, agency=r.agency, model=MODEL_NAMES.get(r.model, r.model))
                for r in pending
            )
            said = message(
                PENDING,
                sentence=said,
                date=LongDay(pending_capture.list_date),
                file=pending_capture.file_name,
                requests=requests,
            )
        return [
            PracticeNote(
                kind="none_where_required", agreements=[], pending_capture=pending_capture,
                pending=[_listed(r) for r in pending], text=str(said), text_message=said,
                **source,
            )
        ]  # fmt: skip
    return []


ICE_LIST = N_("ICE's list of %(date)s (%(file)s)")
ONE_ACTIVE = N_("%(n)s active 287(g) agreement")
ACTIVE = N_("%(n)s active 287(g) agreements")
AGREEMENT = N_("a %(model)s agreement with %(agency)s")
AGREEMENT_SIGNED = N_("a %(model)s agreement with %(agency)s, signed %(date)s")
BARRED = N_(
    "%(listed)s shows %(count)s in %(place)s: %(shown)s. %(where)s bars 287(g) agreements here "
    "(coded “%(label)s”, %(layer)s)."
)
NONE_LISTED = N_(
    "%(listed)s shows no 287(g) agreement with a sheriff's office or other county agency of "
    "%(place)s. %(where)s is coded “%(label)s” for this place, as a mandate of %(layer)s."
)
CODING_NOTE = N_("%(sentence)s Its coding note: “%(note)s.”")
PENDING = N_(
    "%(sentence)s ICE's pending list of %(date)s (%(file)s) shows a request: %(requests)s."
)
REQUEST = N_("%(agency)s (%(model)s)")
"""The notes' sentences: facts from both sources, no conclusion drawn. Names of laws, places,
agencies, ICE's models and files, and a coding note, are quoted as written."""


def _agreement(row: Any) -> Message:
    model = MODEL_NAMES.get(row.model, row.model)
    if row.signed:
        return message(AGREEMENT_SIGNED, model=model, agency=row.agency, date=LongDay(row.signed))
    return message(AGREEMENT, model=model, agency=row.agency)


def _name(db: Session, protocol_id: str, title: str) -> str:
    found = store.get_protocols(db, [protocol_id])
    return found[0].short_name if found else title


def check_287g(db: Session) -> tuple[CaptureRef | None, list[PracticeNote]]:
    """Every note for the latest participating capture: each place where a law in the store
    codes the 287(g) question as barred, or as a mandate to take part (a state's counties when
    it binds the places below). A state-wide bar is noted once, at the state."""
    capture = _captures(db, "participating", None)
    if capture is None:
        return None, []

    def compute() -> list[PracticeNote]:
        places = {j.id: j for j in store.list_jurisdictions(db)}
        candidates: dict[str, None] = {}
        for protocol in store.get_protocols(db):
            answer = next((a for a in protocol.coding if a.key == KEY), None)
            if answer is None or answer.value not in ("prohibited", "participates"):
                continue
            if answer.value == "participates" and answer.effect != "mandate":
                continue
            home = places.get(protocol.jurisdiction_id)
            if home is None:
                continue
            candidates[home.id] = None
            if answer.effect is not None and home.level == "state":
                for j in places.values():
                    if j.state == home.state and j.level == "county":
                        candidates[j.id] = None
        rows = _rows_in(db, capture)
        notes: list[PracticeNote] = []
        barred_at_state: set[str] = set()
        for jid in sorted(candidates, key=lambda i: (places[i].level != "state", i)):
            for note in _notes(db, places[jid], capture, rows):
                if note.kind == "agreement_where_barred":
                    if places[jid].level == "state":
                        barred_at_state.add(note.protocol_id)
                    elif note.protocol_id in barred_at_state:
                        continue  # already noted, with these agreements, at the state
                notes.append(note)
        return notes

    try:
        return capture, store.remembered(db, ("287g check", capture.id), compute)
    except NotFound:
        return capture, []
