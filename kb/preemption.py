"""What the laws above a place forbid it to adopt: the clauses of a draft that a state mandate
or ceiling (or a court order) binding the adopter rules out, with the law and its penalties."""

from __future__ import annotations

from pydantic import BaseModel
from sqlmodel import Session

from kb import models
from kb.codebook import Codebook, value_from_text
from kb.message import N_, Kept, Label, Message, clauses, message
from kb.resolve import ResolvedAnswer, resolve

CLOSED_ROOMS = ("must", "may_not_go_further")


class Forbidden(BaseModel):
    """A clause a higher layer rules out for this place, and why, in plain words."""

    key: str
    question: str
    wanted_label: str
    allowed_label: str
    room: str
    laws: list[str]
    """Title and citation of each law that closes it."""
    protocol_ids: list[str]
    citations: list[str]
    penalties: list[models.Penalty]
    text: str
    text_message: Kept = None
    """`text` as a message, for pages in any language."""


def closed_off(book: Codebook, answer: ResolvedAnswer, wanted: str | int | bool | None) -> bool:
    """Whether the higher layers forbid answering `answer.key` with `wanted` here: a mandate
    fixes another answer, or a ceiling is below it (docs/layers.md)."""
    if answer.room not in CLOSED_ROOMS or not answer.rules:
        return False
    spec = book[answer.key]
    if answer.room == "must":
        return wanted != answer.value
    wanted_rank, cap = spec.rank(wanted), spec.rank(answer.value)
    return wanted_rank is not None and cap is not None and wanted_rank < cap


def forbidden_here(
    db: Session, book: Codebook, jurisdiction_id: str, wanted: dict[str, str | None]
) -> list[Forbidden]:
    """Of the answers `wanted` (key -> value text), those the layers above the place rule out today."""
    resolution = resolve(db, jurisdiction_id)
    laws = {law.protocol_id: law for law in resolution.laws}
    found = []
    for answer in resolution.answers:
        if answer.key not in wanted:
            continue
        spec = book[answer.key]
        value = value_from_text(spec, wanted[answer.key])
        if not closed_off(book, answer, value):
            continue
        rule = answer.rules[0]
        penalties = laws[rule.protocol_id].penalties if rule.protocol_id in laws else []
        wanted_label = Label(spec.label(value), value)
        said = explain(resolution.jurisdiction.name, answer, wanted_label, penalties)
        found.append(
            Forbidden(
                key=answer.key,
                question=answer.question,
                wanted_label=spec.label(value),
                allowed_label=answer.label,
                room=answer.room,
                laws=[f"{rule.title} ({rule.citation})"],
                protocol_ids=[rule.protocol_id],
                citations=[c for c in rule.citations if c],
                penalties=penalties,
                text=str(said),
                text_message=said,
            )
        )
    return found


REQUIRES_HERE = N_(
    "In %(place)s, %(law)s (%(where)s) requires “%(allowed)s”, so a clause saying “%(wanted)s” "
    "cannot be adopted there."
)
ALLOWS_NO_MORE = N_(
    "In %(place)s, %(law)s (%(where)s) allows no more than “%(allowed)s”, so a clause saying "
    "“%(wanted)s” cannot be adopted there."
)
WITH_PENALTIES = N_("%(sentence)s Penalties: %(penalties)s.")
PENALTY = N_("%(kind)s for %(liable)s")
PENALTY_AMOUNT = N_("%(penalty)s (%(amount)s)")
PENALTY_UNVERIFIED = N_("%(penalty)s [unverified]")


def explain(
    place: str,
    answer: ResolvedAnswer,
    wanted: Label,
    penalties: list[models.Penalty],
) -> Message:
    """Why a clause answering `wanted` cannot be adopted in `place`, with the law's penalties.
    The law's citation and the penalties' liable parties and amounts are quoted as written."""
    rule = answer.rules[0]
    where = "; ".join(c for c in rule.citations if c) or rule.citation
    law = rule.citation.split(";")[0]  # "SB 4 (85th Leg., R.S.), Acts 2017, ch. 4"
    sentence = message(
        REQUIRES_HERE if answer.room == "must" else ALLOWS_NO_MORE,
        place=place,
        law=law,
        where=where,
        allowed=Label(answer.label, answer.value),
        wanted=wanted,
    )
    if not penalties:
        return sentence
    return message(
        WITH_PENALTIES, sentence=sentence, penalties=clauses(_penalty(p) for p in penalties)
    )


def _penalty(p: models.Penalty) -> Message:
    said = message(
        PENALTY,
        kind=message(p.kind.replace("_", " ")),
        liable=p.liable[0].lower() + p.liable[1:],
    )
    if p.amount:
        said = message(PENALTY_AMOUNT, penalty=said, amount=p.amount)
    if p.confidence == "unverified":
        said = message(PENALTY_UNVERIFIED, penalty=said)
    return said
