"""The protection score: a transparent tally of a protocol's coded answers by the codebook's order
(docs/scoring.md). It scores the text of a protocol, not how it is applied in practice."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel

from kb import models
from kb.codebook import INTEGER, TEXT, Codebook, CodebookKey, Value

RUBRIC = (
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


def key_points(spec: CodebookKey, value: Value) -> tuple[float, str]:
    """Points (0 to 1) and the reason in words, from the codebook's order alone."""
    label = spec.label(value)
    if spec.is_unaddressed(value):
        return 0.0, f"{label}: a question the protocol does not address scores 0"
    if spec.type == INTEGER:
        if value == 0:
            return 1.0, f"{label}: none at all, the most protective limit (1 point)"
        return 0.5, f"{label}: a limit, but not zero (0.5 points)"
    ordered = [v for v in spec.values if not spec.is_unaddressed(v)]
    rank = spec.rank(value) or 0
    if len(ordered) == 1:
        return 1.0, f"{label}: the only answer (1 point)"
    points = round((len(ordered) - 1 - rank) / (len(ordered) - 1), 2)
    place = "the most protective" if rank == 0 else f"number {rank + 1}"
    return (
        points,
        f"{label}: {place} of {len(ordered)} answers, from most protective ({points:g} points)",
    )


def protection_score(book: Codebook, protocol: models.ProtocolPublic) -> ProtectionScore:
    tally = score_values(book, {a.key: a.value for a in protocol.coding})
    return ProtectionScore(protocol_id=protocol.id, **tally.model_dump())


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
                reason=reason,
            )
        )
    total = round(sum(k.points for k in keys), 2)
    return Score(
        score=round(100 * total / len(keys)) if keys else 0,
        points=total,
        possible=len(keys),
        keys=keys,
    )
