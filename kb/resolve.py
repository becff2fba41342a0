"""Which rules apply in a place on a date: the layers (state, court order, county, city) resolved
per codebook question. Every surface (CLI, API, pages, drafting, gaps) calls `resolve`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel
from pydantic import Field as Public
from sqlmodel import Session

from kb import models, store
from kb.codebook import TEXT, Codebook, CodebookKey, Value
from kb.errors import NotFound
from kb.message import N_, Day, Kept, Label, Message, message
from kb.score import Score, score_values

Layer = Literal["state", "court_order", "county", "city", "district"]
Room = Literal["must", "may_not_go_further", "may_go_further"]
Role = Literal["governs", "bounds", "agrees", "overridden"]

ROOM_LABELS: dict[str, str] = {
    "must": "must",
    "may_not_go_further": "may not go further",
    "may_go_further": "may go further",
}
LAYER_LABELS: dict[str, str] = {
    "state": "state law",
    "court_order": "court order",
    "county": "county",
    "city": "city",
    "district": "district",
}
STARTS = ("effective", "signed", "adopted", "issued", "passed")
"""A law governs from the first of these dates that is present."""
ENDS = ("superseded", "repealed", "struck_down", "preempted", "expired")
"""…until the earliest of these."""
ENDED_NAMES = {
    "superseded": N_("superseded"),
    "repealed": N_("repealed"),
    "struck_down": N_("struck down"),
    "preempted": N_("preempted"),
    "expired": N_("expired"),
}
"""Each of ENDS in words."""
NEVER_GOVERNS = ("introduced", "passed", "vetoed")
"""Statuses of a text that never became law."""
COURT_ORDER = "court_order"


# --- What the resolver answers ---------------------------------------------------------------


class RuleApplied(BaseModel):
    """One law's answer to a question, and what it does in this place on this date."""

    protocol_id: str
    title: str
    citation: str
    jurisdiction_id: str
    jurisdiction_name: str
    layer: Layer
    role: Role = Public(
        description="governs: it sets the answer; bounds: it limits what the local body may do "
        "without setting the answer; agrees: it gives the same answer as the rule that governs; "
        "overridden: a higher layer sets its answer aside"
    )
    effect: models.Effect | None = None
    value: str | int | bool | None
    label: str
    provisions: list[str] = Public(default=[], serialization_alias="provision_ids")
    citations: list[str] = Public(
        default=[], description="The pinpoint cite of each provision, in the same order"
    )
    note: str | None = None
    confidence: models.Confidence | None = None


class CaseBearing(BaseModel):
    """A court case bearing on a rule in force here, as it stood on the date asked about."""

    protocol_id: str
    case: str
    court: str
    citation: str | None = None
    summary: str
    pending: bool = Public(description="Filed and not yet decided on the date asked about")
    enjoined: bool = Public(description="An injunction in the case covered the date asked about")
    confidence: models.Confidence | None = None


class ResolvedAnswer(BaseModel):
    key: str
    question: str
    value: str | int | bool | None
    label: str
    layer: Layer | None = Public(description="The layer the governing answer comes from")
    room: Room = Public(
        description="What the local body may still do: must (a mandate fixes the answer), "
        "may_not_go_further (a ceiling caps it), may_go_further (nothing above stops it)"
    )
    room_label: str
    rules: list[RuleApplied] = Public(default=[], description="Governing rule first")
    conflict: str | None = Public(
        default=None, description="Where a higher layer overrides a lower one, in plain words"
    )
    conflict_message: Kept = None
    """`conflict` as a message, for pages in any language."""
    cases: list[CaseBearing] = []
    contested: bool = Public(
        default=False, description="A case about a rule here was pending, or an injunction ran"
    )
    context: list[str] = Public(
        default=[],
        serialization_alias="context_ids",
        description="Background records (federal law, rulings) the rules' provisions rest on",
    )


class LawConsidered(BaseModel):
    protocol_id: str
    title: str
    citation: str
    jurisdiction_id: str
    layer: Layer
    binds: list[models.Binds]
    governs: bool = Public(description="Whether it was law here on the date asked about")
    reason: str = Public(description="Why it does or does not govern, with the date")
    reason_message: Kept = None
    """`reason` as a message, for pages in any language."""
    penalties: list[models.Penalty] = []


class Resolution(BaseModel):
    jurisdiction: models.JurisdictionPublic
    chain: list[models.JurisdictionPublic] = Public(
        description="The place, then each enclosing jurisdiction up to its state"
    )
    as_of: dt.date
    answers: list[ResolvedAnswer]
    laws: list[LawConsidered]
    context: list[models.ContextRecordPublic] = Public(
        default=[], description="Federal law and rulings the rules here rest on"
    )
    score: Score = Public(
        description="The protection score (docs/scoring.md) of what governs here on that date"
    )


# --- The data the resolver reads, once per build -----------------------------------------------


@dataclass
class _Law:
    protocol: models.ProtocolPublic
    start: dt.date | None
    end: dt.date | None
    citations: dict[str, str]
    """provision id -> its cite."""
    context: dict[str, list[str]]
    """provision id -> background record ids."""


@dataclass
class _Index:
    codebook: Codebook
    places: dict[str, models.JurisdictionPublic]
    laws: dict[str, list[_Law]] = field(default_factory=lambda: defaultdict(list))
    contexts: dict[str, models.ContextRecordPublic] = field(default_factory=dict)


def _day(text: str) -> dt.date:
    return models.PartialDate.of(text).date


def _index(db: Session) -> _Index:
    def read() -> _Index:
        index = _Index(
            codebook=store.codebook(db),
            places={j.id: j for j in store.list_jurisdictions(db)},
            contexts={c.id: c for c in store.list_context(db)},
        )
        for protocol in store.get_protocols(db):
            dates = protocol.dates
            start = next((_day(dates[k]) for k in STARTS if k in dates), None)
            ends = [_day(dates[k]) for k in ENDS if k in dates]
            index.laws[protocol.jurisdiction_id].append(
                _Law(
                    protocol=protocol,
                    start=start,
                    end=min(ends) if ends else None,
                    citations={v.id: v.cite for v in protocol.provisions},
                    context={v.id: v.context for v in protocol.provisions},
                )
            )
        return index

    return store.per_build(db, "resolve index", read)


def _governs(law: _Law, on: dt.date) -> tuple[bool, Message]:
    status = law.protocol.status
    if status in NEVER_GOVERNS:
        return False, message(N_("never became law (status: %(status)s)"), status=message(status))
    if law.start is None:
        return False, message(N_("no date it took effect is recorded"))
    if on < law.start:
        return False, message(N_("not yet in force (from %(date)s)"), date=_iso(law.start))
    if law.end is not None and on >= law.end:
        ended = next(k for k in ENDS if k in law.protocol.dates)
        return False, message(
            N_("no longer in force (%(ended)s %(date)s)"),
            ended=message(ENDED_NAMES[ended]),
            date=_iso(law.end),
        )
    return True, message(N_("in force from %(date)s"), date=_iso(law.start))


def _iso(day: dt.date) -> Day:
    return Day(day.isoformat())


# --- The resolver ------------------------------------------------------------------------------


def resolve(db: Session, jurisdiction_id: str, as_of: dt.date | None = None) -> Resolution:
    """Per codebook question, the answer that governs `jurisdiction_id` on `as_of` (default
    today), the laws that set or bound it, the room left to the local body, and any conflict
    between layers or case in court. The rules are in docs/layers.md."""
    index = _index(db)
    place = index.places.get(jurisdiction_id)
    if place is None:
        raise NotFound(f"no jurisdiction with id {jurisdiction_id!r}")
    on = as_of or dt.date.today()
    chain = _chain(index, place)
    laws, answers = _resolved(index, chain, _laws_here(index, chain), on)
    cited = dict.fromkeys(c for a in answers for c in a.context)
    return Resolution(
        jurisdiction=place,
        chain=chain,
        as_of=on,
        answers=answers,
        laws=laws,
        context=[index.contexts[c] for c in cited if c in index.contexts],
        score=score_values(index.codebook, {a.key: a.value for a in answers}),
    )


def resolve_places(
    db: Session, jurisdiction_ids: list[str], as_of: dt.date | None = None
) -> dict[str, tuple[list[ResolvedAnswer], Score]]:
    """`resolve`'s answers and score for many places at once (the county map's 3,000 and more).

    Places whose stacks hold the same laws, in the same layers, and that the same court cases
    name, get the same answers, so each such stack is resolved once: a state's counties with no
    law of their own share one resolution. The answers are `resolve`'s own, shared between the
    places: treat them as read-only."""
    index = _index(db)
    stacks = _stacks(db, index)
    on = as_of or dt.date.today()
    done: dict[tuple[object, ...], tuple[list[ResolvedAnswer], Score]] = {}
    found: dict[str, tuple[list[ResolvedAnswer], Score]] = {}
    for jurisdiction_id in jurisdiction_ids:
        stack = stacks.get(jurisdiction_id)
        if stack is None:
            raise NotFound(f"no jurisdiction with id {jurisdiction_id!r}")
        if stack.key not in done:
            answers = _resolved(index, stack.chain, stack.considered, on)[1]
            done[stack.key] = (
                answers,
                score_values(index.codebook, {a.key: a.value for a in answers}),
            )
        found[jurisdiction_id] = done[stack.key]
    return found


@dataclass
class _Stack:
    chain: list[models.JurisdictionPublic]
    considered: list[tuple[_Law, Layer, bool]]
    key: tuple[object, ...]
    """The laws in their layers and the places court cases name: equal keys, equal answers."""


def _stacks(db: Session, index: _Index) -> dict[str, _Stack]:
    """Every place's stack of laws, once per build: it does not depend on the date."""

    def read() -> dict[str, _Stack]:
        named = {
            j
            for laws in index.laws.values()
            for law in laws
            for case in law.protocol.litigation
            for j in case.jurisdictions
        }
        stacks: dict[str, _Stack] = {}
        for place in index.places.values():
            chain = _chain(index, place)
            considered = _laws_here(index, chain)
            key = (
                tuple((law.protocol.id, layer, above) for law, layer, above in considered),
                frozenset(j.id for j in chain) & named,
            )
            stacks[place.id] = _Stack(chain, considered, key)
        return stacks

    return store.per_build(db, "resolve stacks", read)


def _resolved(
    index: _Index,
    chain: list[models.JurisdictionPublic],
    considered: list[tuple[_Law, Layer, bool]],
    on: dt.date,
) -> tuple[list[LawConsidered], list[ResolvedAnswer]]:
    laws: list[LawConsidered] = []
    in_force: list[tuple[_Law, Layer, bool]] = []  # (law, layer, binds from above)
    for law, layer, above in considered:
        governs, reason = _governs(law, on)
        p = law.protocol
        laws.append(
            LawConsidered(
                protocol_id=p.id, title=p.title, citation=p.citation,
                jurisdiction_id=p.jurisdiction_id, layer=layer, binds=p.binds,
                governs=governs, reason=str(reason), reason_message=reason,
                penalties=p.penalties,
            )
        )  # fmt: skip
        if governs:
            in_force.append((law, layer, above))
    # Text keys (applies_to) describe each law's own reach, not a rule that layers can stack.
    answers = [_answer(spec, in_force, chain, on) for spec in index.codebook if spec.type != TEXT]
    return laws, answers


def _chain(index: _Index, place: models.JurisdictionPublic) -> list[models.JurisdictionPublic]:
    chain = [place]
    while chain[-1].parent_id and chain[-1].parent_id in index.places:
        parent = index.places[chain[-1].parent_id]
        if any(parent.id == c.id for c in chain):  # a loop in the data: stop rather than spin
            break
        chain.append(parent)
    return chain


def _layer(level: str) -> Layer:
    return "state" if level == "state" else level  # type: ignore[return-value]


def _laws_here(
    index: _Index, chain: list[models.JurisdictionPublic]
) -> list[tuple[_Law, Layer, bool]]:
    """Every law that may bind the place: its own, and those of enclosing places that bind
    the places below them; state first, the place's own last."""
    found: list[tuple[_Law, Layer, bool]] = []
    for depth, place in reversed(list(enumerate(chain))):
        above = depth > 0
        for law in index.laws.get(place.id, []):
            if law.protocol.kind == COURT_ORDER:
                found.append((law, "court_order", above))
            elif not above or any(b != "own_agencies" for b in law.protocol.binds):
                found.append((law, _layer(place.level), above))
    return found


def _rule(law: _Law, layer: Layer, answer: models.CodedAnswerPublic, role: Role) -> RuleApplied:
    p = law.protocol
    return RuleApplied(
        protocol_id=p.id, title=p.title, citation=p.citation,
        jurisdiction_id=p.jurisdiction_id, jurisdiction_name=p.jurisdiction_name, layer=layer,
        role=role, effect=answer.effect, value=answer.value, label=answer.label,
        provisions=answer.provisions,
        citations=[law.citations.get(v, "") for v in answer.provisions],
        note=answer.note, confidence=answer.confidence,
    )  # fmt: skip


@dataclass
class _Candidate:
    law: _Law
    layer: Layer
    answer: models.CodedAnswerPublic
    above: bool


def _answer(
    spec: CodebookKey,
    in_force: list[tuple[_Law, Layer, bool]],
    chain: list[models.JurisdictionPublic],
    on: dt.date,
) -> ResolvedAnswer:
    place_ids = {j.id for j in chain}
    cases: list[CaseBearing] = []
    bounds: list[_Candidate] = []
    local: list[_Candidate] = []
    for law, layer, above in in_force:
        answer = next((a for a in law.protocol.coding if a.key == spec.key), None)
        if answer is None or spec.is_unaddressed(answer.value):
            continue
        lifted = False
        for case in law.protocol.litigation:
            if case.keys and spec.key not in case.keys:
                continue
            bearing, enjoined_verified = _case_bearing(law, case, on, place_ids)
            cases.append(bearing)
            lifted = lifted or enjoined_verified
        if lifted:
            continue
        candidate = _Candidate(law, layer, answer, above)
        if answer.effect is not None and (above or layer == "court_order"):
            bounds.append(candidate)
        elif not above:
            local.append(candidate)
    # The place's own latest rule speaks for it (a later law replaces an earlier one).
    own = max(local, key=lambda c: c.law.start or dt.date.min, default=None)
    rules: list[RuleApplied] = []
    conflict: Message | None = None
    governing: _Candidate | None = own
    room: Room = "may_go_further"

    mandates = [c for c in bounds if c.answer.effect == "mandate"]
    ceilings = [c for c in bounds if c.answer.effect == "ceiling"]
    floors = [c for c in bounds if c.answer.effect == "floor"]
    if mandates:
        # A court order binds its parties even against a state law; otherwise the higher layer.
        mandates.sort(key=lambda c: (c.layer != "court_order", _order(in_force, c.law)))
        governing, room = mandates[0], "must"
        for other in mandates[1:]:
            if other.answer.value != governing.answer.value:
                conflict = _conflict_text(other, governing, REQUIRES)
        if own is not None and own.answer.value != governing.answer.value:
            conflict = conflict or _conflict_text(own, governing, REQUIRES)
    else:
        # The tightest bound speaks; between equal ones, the latest law.
        ceiling = max(
            ceilings, key=lambda c: (_rank(spec, c.answer.value), _start(c)), default=None
        )
        floor = min(floors, key=lambda c: (_rank(spec, c.answer.value), -_start(c)), default=None)
        if ceiling is not None:
            room = "may_not_go_further"
            if own is None or _rank(spec, own.answer.value) < _rank(spec, ceiling.answer.value):
                if own is not None:
                    conflict = _conflict_text(own, ceiling, FORBIDS_MORE)
                governing = ceiling
        below_floor = floor is not None and (
            own is None or _rank(spec, own.answer.value) > _rank(spec, floor.answer.value)
        )
        if floor is not None and below_floor and (ceiling is None or governing is not ceiling):
            if own is not None:
                conflict = _conflict_text(own, floor, REQUIRES_AT_LEAST)
            governing = floor
    if governing is not None:
        rules.append(_rule(governing.law, governing.layer, governing.answer, "governs"))
    for candidate in bounds:
        if candidate is not governing:
            role: Role = "bounds"
            if candidate.answer.effect == "mandate" and candidate.answer.value != (
                governing.answer.value if governing else None
            ):
                role = "overridden"
            rules.append(_rule(candidate.law, candidate.layer, candidate.answer, role))
    if own is not None and own is not governing:
        role = "overridden" if own.answer.value != rules[0].value else "agrees"
        rules.append(_rule(own.law, own.layer, own.answer, role))
    value: Value = governing.answer.value if governing else _silent(spec)
    context = [
        c
        for candidate in ([governing] if governing else []) + bounds
        for v in candidate.answer.provisions
        for c in candidate.law.context.get(v, [])
    ]
    return ResolvedAnswer(
        key=spec.key,
        question=spec.question,
        value=value,
        label=spec.label(value),
        layer=governing.layer if governing else None,
        room=room,
        room_label=ROOM_LABELS[room],
        rules=rules,
        conflict=str(conflict) if conflict else None,
        conflict_message=conflict,
        cases=cases,
        contested=any(c.pending or c.enjoined for c in cases),
        context=list(dict.fromkeys(context)),
    )


def _case_bearing(
    law: _Law, case: models.CourtCase, on: dt.date, place_ids: set[str]
) -> tuple[CaseBearing, bool]:
    """The case as it stood on `on`, and whether a confirmed injunction lifted the law here."""
    filed = _day(case.filed) if case.filed else None
    decided = _day(case.decided) if case.decided else None
    if case.status == "pending":
        pending = filed is None or filed <= on
    else:  # decided: pending only between a known filing and the decision
        pending = filed is not None and decided is not None and filed <= on < decided
    enjoined = False
    if case.enjoined_from and (not case.jurisdictions or place_ids & set(case.jurisdictions)):
        start = _day(case.enjoined_from)
        end = _day(case.enjoined_until) if case.enjoined_until else None
        enjoined = start <= on and (end is None or on < end)
    bearing = CaseBearing(
        protocol_id=law.protocol.id, case=case.case, court=case.court, citation=case.citation,
        summary=case.summary, pending=pending, enjoined=enjoined, confidence=case.confidence,
    )  # fmt: skip
    return bearing, enjoined and case.confidence != "unverified"


def _rank(spec: CodebookKey, value: Value) -> int:
    rank = spec.rank(value)
    return rank if rank is not None else 1 << 30


def _start(candidate: _Candidate) -> int:
    return (candidate.law.start or dt.date.min).toordinal()


def _order(in_force: list[tuple[_Law, Layer, bool]], law: _Law) -> int:
    return next(i for i, (other, _, _) in enumerate(in_force) if other is law)


def _silent(spec: CodebookKey) -> Value:
    return "not_addressed" if spec.type == "choice" else None


REQUIRES = N_(
    "%(lower)s (%(place)s) says “%(own)s”, but %(higher)s (%(layer)s) requires “%(answer)s”: "
    "the %(layer)s governs."
)
FORBIDS_MORE = N_(
    "%(lower)s (%(place)s) says “%(own)s”, but %(higher)s (%(layer)s) forbids going further "
    "than “%(answer)s”: the %(layer)s governs."
)
REQUIRES_AT_LEAST = N_(
    "%(lower)s (%(place)s) says “%(own)s”, but %(higher)s (%(layer)s) requires at least "
    "“%(answer)s”: the %(layer)s governs."
)
"""How a higher layer's answer overrides a lower one's: a mandate, a ceiling, a floor."""


def _conflict_text(lower: _Candidate, higher: _Candidate, words: str) -> Message:
    return message(
        words,
        lower=lower.law.protocol.short_name,
        place=lower.law.protocol.jurisdiction_name,
        own=Label(lower.answer.label, lower.answer.value),
        higher=higher.law.protocol.short_name,
        layer=message(LAYER_LABELS[higher.layer]),
        answer=Label(higher.answer.label, higher.answer.value),
    )
