"""The protection score: a transparent tally of a protocol's coded answers by the codebook's order
(docs/scoring.md). It scores the text of a protocol, not how it is applied in practice."""

from __future__ import annotations

import math
from collections.abc import Mapping

from pydantic import BaseModel

from kb import models
from kb.codebook import INTEGER, TEXT, Codebook, CodebookKey, Value
from kb.message import N_, Kept, Label, Message, Names, Number, message

RUBRIC = N_(
    "Each codebook question with an order is worth up to 1 point. A choice or yes/no answer "
    "earns its place in the codebook's order: the most protective answer 1, the least 0, "
    "evenly spaced between. An hour or year limit earns 1 at zero and 0.5 for any other limit. "
    "A question the protocol does not address earns 0. The score is the points as a share of "
    "every scored question, out of 100."
)


class KeyScore(BaseModel):
    key: str
    question: str
    value: str | int | bool | None
    label: str
    points: float
    reason: str
    reason_message: Kept = None
    """`reason` as a message, for pages in any language."""


class Score(BaseModel):
    """The tally of a set of answers: a protocol's own, or what governs a place."""

    score: int
    """0 to 100: points as a share of the questions scored."""
    points: float
    possible: int
    keys: list[KeyScore]
    rubric: str = RUBRIC


class ProtectionScore(Score):
    protocol_id: str


def key_points(spec: CodebookKey, value: Value) -> tuple[float, Message]:
    """Points (0 to 1) and the reason in words, from the codebook's order alone."""
    label = Label(spec.label(value), value)
    if spec.is_unaddressed(value):
        return 0.0, message(
            N_("%(label)s: a question the protocol does not address scores 0"), label=label
        )
    if spec.type == INTEGER:
        if value == 0:
            return 1.0, message(
                N_("%(label)s: none at all, the most protective limit (1 point)"), label=label
            )
        return 0.5, message(N_("%(label)s: a limit, but not zero (0.5 points)"), label=label)
    ordered = [v for v in spec.values if not spec.is_unaddressed(v)]
    rank = spec.rank(value) or 0
    if len(ordered) == 1:
        return 1.0, message(N_("%(label)s: the only answer (1 point)"), label=label)
    points = round((len(ordered) - 1 - rank) / (len(ordered) - 1), 2)
    if rank == 0:
        words = N_(
            "%(label)s: the most protective of %(count)s answers, from most protective "
            "(%(points)s points)"
        )
    else:
        words = N_(
            "%(label)s: number %(place)s of %(count)s answers, from most protective "
            "(%(points)s points)"
        )
    return points, message(
        words, label=label, place=rank + 1, count=len(ordered), points=Number(points)
    )


def protection_score(book: Codebook, protocol: models.ProtocolPublic) -> ProtectionScore:
    tally = score_values(book, {a.key: a.value for a in protocol.coding})
    # Field by field, not model_dump(): that would drop the reasons' messages (kb.message.Kept).
    fields = {name: getattr(tally, name) for name in Score.model_fields}
    return ProtectionScore(protocol_id=protocol.id, **fields)


def score_values(book: Codebook, values: Mapping[str, Value]) -> Score:
    """The score of answers given per codebook key (a key missing is not addressed): a
    protocol's own, or the answers the resolver finds governing a place (kb.resolve)."""
    keys = []
    for spec in book.keys.values():
        if spec.type == TEXT:
            continue
        value = values.get(spec.key)
        points, reason = key_points(spec, value)
        keys.append(
            KeyScore(
                key=spec.key,
                question=spec.question,
                value=value,
                label=spec.label(value),
                points=points,
                reason=str(reason),
                reason_message=reason,
            )
        )
    total = round(sum(k.points for k in keys), 2)
    return Score(
        score=round(100 * total / len(keys)) if keys else 0,
        points=total,
        possible=len(keys),
        keys=keys,
    )


# --- Ranking answers that hold only when conditions are met (docs/scoring.md) ---------------

CONDITIONAL = ("detainer_response", "conditional")
"""The answer the codebook's order cannot rank alone: two protocols that both "hold only when
conditions are met" are told apart by their conditions."""

HOLD_CONDITIONS = (
    "reimbursement_required",
    "offense_threshold",
    "pending_charges_qualify",
    "conviction_lookback_years",
    "max_hold_hours",
)
"""The conditions on honoring a hold, in the order they are compared: the first that differs
decides. Reimbursement comes first because no hold waits on it in practice: the records note
that no written promise of federal payment was ever given (docs/scoring.md)."""

PAYMENT_NEVER_GIVEN = N_(
    "The records here report no written promise of federal payment ever given, so in practice "
    "no one is held."
)


def condition_strength(book: Codebook, values: Mapping[str, Value]) -> tuple[float, ...]:
    """A sort key for a conditional answer's conditions, smaller is stricter: per condition of
    HOLD_CONDITIONS in order, its place in the codebook's order (hours and years: the number).
    A condition not addressed counts as no condition at all: silence never protects."""
    return tuple(
        math.inf if (rank := book[key].rank(values.get(key))) is None else float(rank)
        for key in HOLD_CONDITIONS
        if key in book
    )


def deciding_condition(
    book: Codebook, stricter: Mapping[str, Value], other: Mapping[str, Value]
) -> str | None:
    """The first condition, in the order compared, on which two conditional answers differ."""
    keys = [k for k in HOLD_CONDITIONS if k in book]
    pairs = zip(condition_strength(book, stricter), condition_strength(book, other), strict=True)
    return next((key for key, (a, b) in zip(keys, pairs, strict=True) if a != b), None)


SAME_CONDITIONS = N_("The same conditions as the strictest here.")
STRICTEST = N_("Strictest conditions: %(own)s; the next strictest here has “%(next)s”.")
WITH_NOTE = N_("%(sentence)s %(note)s")


def conditions_reason(
    book: Codebook, values: Mapping[str, Value], next_values: Mapping[str, Value]
) -> Message:
    """Why one conditional answer outranks the next strictest, in plain words: its conditions up
    to the one that decides, and what the next has there. Depends only on coded values."""
    decider = deciding_condition(book, values, next_values)
    if decider is None:
        return message(SAME_CONDITIONS)
    keys = [k for k in HOLD_CONDITIONS if k in book]
    shown = keys[: keys.index(decider) + 1]
    own = [
        Label(book[k].label(values.get(k)), values.get(k))
        for k in shown
        if book[k].rank(values.get(k)) is not None
    ]
    theirs = next_values.get(decider)
    said = message(
        STRICTEST, own=Names(tuple(own)), next=Label(book[decider].label(theirs), theirs)
    )
    if values.get("reimbursement_required") is True:
        said = message(WITH_NOTE, sentence=said, note=message(PAYMENT_NEVER_GIVEN))
    return said
