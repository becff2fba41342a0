"""Gap analysis: where other protocols in the knowledge base protect more than this one, and the
model provision that would close each gap."""

from __future__ import annotations

import csv
import io

from pydantic import BaseModel
from sqlmodel import Session

from kb import models, store
from kb.codebook import TEXT, CodebookKey, Value, value_text
from kb.compare import ComparedProtocol
from kb.errors import NotFound
from kb.model_language import NOT_IN_EFFECT
from kb.preemption import Forbidden, closed_off, forbidden_here
from kb.resolve import resolve

ENDED = ("superseded", "repealed", "struck_down", "preempted", "expired")
"""Statuses of protocols no longer in effect: a jurisdiction's current answers leave them out."""


class ModelRef(BaseModel):
    id: str
    title: str
    summary: str
    text: str


class Gap(BaseModel):
    key: str
    question: str
    current_value: str | int | bool | None
    current_label: str
    strongest_value: str | int | bool | None
    strongest_label: str
    held_by: list[ComparedProtocol]
    """Protocols in effect (or once in effect) that give the strongest answer."""
    model: ModelRef | None
    """The project's model provision that would close the gap (None when none is written)."""
    closed_by: Forbidden | None = None
    """The law above the place that forbids closing this gap today (in `closed_off` only)."""


class GapReport(BaseModel):
    subject: str
    """The protocol id, or the jurisdiction id when its current protocols were combined."""
    jurisdiction_id: str
    protocols: list[ComparedProtocol]
    """The place's own protocols in effect; empty for a place with none (then "now" is what
    governs there: the state's law, or nothing)."""
    gaps: list[Gap]
    """Gaps the place's own body may legally close."""
    closed_off: list[Gap] = []
    """Gaps a law above the place (a state mandate or ceiling) closes off, with that law."""


def find_gaps(db: Session, subject: str) -> GapReport:
    """`subject` is a protocol id, or a jurisdiction id: then its protocols still in effect are
    combined, each question taking the most protective answer any of them gives."""
    book = store.codebook(db)
    everything = store.get_protocols(db)
    took_effect = [p for p in everything if p.status not in NOT_IN_EFFECT]
    own = [p for p in everything if p.id == subject]
    place = own[0].jurisdiction_id if own else subject
    if not own:
        own = [
            p
            for p in everything
            if p.jurisdiction_id == subject and p.status not in NOT_IN_EFFECT + ENDED
        ]
        if not own and subject not in {j.id for j in store.list_jurisdictions(db)}:
            raise NotFound(f"no protocol or jurisdiction with id {subject!r}")
    # What governs the place today: the current answer of a place without protocols of its
    # own, and the laws above it that close gaps off (docs/layers.md).
    governs = {a.key: a for a in resolve(db, place).answers}
    models_by_key: dict[str, list[models.ModelProvisionBase]] = {}
    for model in store.model_provisions(db):
        models_by_key.setdefault(model.key, []).append(model)

    gaps: list[Gap] = []
    closed: list[Gap] = []
    for spec in book.keys.values():
        if spec.type == TEXT:
            continue
        if own:
            current = _best(spec, [a.value for p in own for a in p.coding if a.key == spec.key])
        else:
            current = governs[spec.key].value
        answers = {p.id: a.value for p in took_effect for a in p.coding if a.key == spec.key}
        strongest = _best(spec, list(answers.values()))
        best_rank = spec.rank(strongest)
        if best_rank is None:
            continue  # nobody addresses it: nothing to learn from the knowledge base
        current_rank = spec.rank(current)
        if current_rank is not None and current_rank <= best_rank:
            continue
        choices = models_by_key.get(spec.key, [])
        exact = [m for m in choices if m.value == value_text(strongest)]
        closing = next(iter(exact or choices), None)
        answer = governs.get(spec.key)
        bar = (
            forbidden_here(db, book, place, {spec.key: value_text(strongest)})
            if answer is not None and closed_off(book, answer, strongest)
            else []
        )
        (closed if bar else gaps).append(
            Gap(
                closed_by=bar[0] if bar else None,
                key=spec.key,
                question=spec.question,
                current_value=current,
                current_label=spec.label(current),
                strongest_value=strongest,
                strongest_label=spec.label(strongest),
                held_by=[
                    ComparedProtocol.of(p)
                    for p in took_effect
                    if spec.rank(answers.get(p.id)) == best_rank
                ],
                model=ModelRef(
                    id=closing.id, title=closing.title, summary=closing.summary, text=closing.text
                )
                if closing
                else None,
            )
        )
    return GapReport(
        subject=subject,
        jurisdiction_id=place,
        protocols=[ComparedProtocol.of(p) for p in own],
        gaps=gaps,
        closed_off=closed,
    )


def _best(spec: CodebookKey, values: list[Value]) -> Value:
    """The most protective of the values (None when all are silent)."""
    ranked = [(rank, v) for v in values if (rank := spec.rank(v)) is not None]
    return min(ranked, key=lambda rv: rv[0])[1] if ranked else None


GAP_COLUMNS = ("key", "question", "current", "strongest", "held_by", "model_id", "model_title")


def gaps_csv(report: GapReport) -> str:
    """One row per gap; UTF-8 with a byte-order mark for Excel."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(GAP_COLUMNS)
    for gap in report.gaps:
        writer.writerow(
            [
                gap.key,
                gap.question,
                gap.current_label,
                gap.strongest_label,
                "; ".join(f"{p.jurisdiction_name}: {p.title}" for p in gap.held_by),
                gap.model.id if gap.model else "",
                gap.model.title if gap.model else "",
            ]
        )
    return "\ufeff" + out.getvalue()


def gaps_markdown(report: GapReport) -> str:
    names = ", ".join(f"{p.jurisdiction_name}: {p.title}" for p in report.protocols)
    names = names or report.jurisdiction_id
    lines = [
        f"# Where {names} could protect more",
        "",
        "| Question | Now | Strongest in the knowledge base | Who has it | Model provision |",
        "|---|---|---|---|---|",
    ]
    for gap in report.gaps:
        who = "; ".join(f"{p.jurisdiction_name} ({p.year or 'n.d.'})" for p in gap.held_by)
        model = f"{gap.model.title} (`{gap.model.id}`)" if gap.model else "none written yet"
        cells = [gap.question, gap.current_label, gap.strongest_label, who, model]
        lines.append(
            "| " + " | ".join(" ".join(c.replace("|", "\\|").split()) for c in cells) + " |"
        )
    if not report.gaps:
        lines.append("| (no gaps: nothing in the knowledge base is more protective) | | | | |")
    if report.closed_off:
        lines += ["", "## Closed off by state law", ""]
        lines += [
            f"- {gap.question} {gap.closed_by.text}" for gap in report.closed_off if gap.closed_by
        ]
    return "\n".join(lines) + "\n"
