"""Side-by-side comparison of protocols on the codebook, with the strongest answer marked."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from pydantic import BaseModel, Field
from sqlmodel import Session

from kb import models, store
from kb.codebook import INTEGER, TEXT, Codebook, CodebookKey, Value, value_text
from kb.errors import InvalidParameter, TooManyProtocols
from kb.message import Kept
from kb.score import (
    CONDITIONAL,
    HOLD_CONDITIONS,
    PAYMENT_NEVER_GIVEN,
    condition_strength,
    conditions_reason,
    deciding_condition,
)

MAX_COMPARED = 6
"""Most protocols one comparison takes (a printed page in landscape holds six columns)."""


class ProvisionRef(BaseModel):
    id: str
    cite: str = Field(serialization_alias="citation")
    heading: str
    summary: str


class SourceRef(BaseModel):
    key: str
    title: str
    url: str
    kind: str


class ComparedProtocol(BaseModel):
    id: str
    title: str
    citation: str
    jurisdiction_id: str
    jurisdiction_name: str
    status: models.Status
    year: int | None

    @classmethod
    def of(cls, protocol: models.ProtocolSummary) -> ComparedProtocol:
        return cls.model_validate(protocol, from_attributes=True)


class Cell(BaseModel):
    protocol_id: str
    value: str | int | bool | None
    label: str
    note: str | None = None
    confidence: models.Confidence | None = None
    strongest: bool = False
    """True when this cell holds the most protective value in its row."""
    strongest_reason: str | None = None
    """On a marked cell whose mark its conditions decided (several protocols hold only when
    conditions are met, docs/scoring.md): why, in plain words."""
    strongest_reason_message: Kept = None
    """`strongest_reason` as a message, for pages in any language."""
    provisions: list[ProvisionRef] = []
    sources: list[SourceRef] = []


class Row(BaseModel):
    key: str
    question: str
    topic: str = Field(serialization_alias="topic_id")
    cells: list[Cell]
    strongest: str | int | bool | None = None
    """The most protective value present; None when every cell is silent, or for text keys."""
    strongest_reason: str | None = None
    """Why the marked cells carry the mark, in plain words (docs/scoring.md)."""
    differs: bool


class TopicRow(BaseModel):
    """The provisions each protocol has on one topic."""

    topic: str = Field(serialization_alias="topic_id")
    name: str
    provisions: dict[str, list[ProvisionRef]]
    """Per protocol id, its provisions on the topic."""
    differs: bool


class Comparison(BaseModel):
    protocols: list[ComparedProtocol]
    rows: list[Row]
    topics: list[TopicRow]
    differences_only: bool


def compare_protocols(
    db: Session,
    ids: list[str],
    keys: list[str] | None = None,
    topics: list[str] | None = None,
    differences_only: bool = False,
) -> Comparison:
    """Rows are codebook questions (then, per topic, the provisions on it); columns are protocols.

    `keys` and `topics` narrow the rows; `differences_only` drops rows where every protocol
    gives the same answer.
    """
    ids = list(dict.fromkeys(i.strip() for i in ids if i.strip()))
    if not ids:
        raise InvalidParameter("name at least one protocol to compare", field="protocols")
    if len(ids) > MAX_COMPARED:
        raise TooManyProtocols(
            f"compare at most {MAX_COMPARED} protocols at once; {len(ids)} were given",
            field="protocols",
        )
    book = store.codebook(db)
    all_topics = {t.id: t for t in store.list_topics(db)}
    _check_known("codebook key", "keys", keys, book.keys)
    _check_known("topic", "topics", topics, all_topics)
    columns = _protocol_cells(db, book, store.get_protocols(db, ids))

    rows = [
        _row(db, book, key, columns)
        for key in book.keys
        if (keys is None or key in keys) and (topics is None or book[key].topic in topics)
    ]
    topic_rows = [
        _topic_row(topic.id, topic.name, columns)
        for topic in all_topics.values()
        if topics is None or topic.id in topics
    ]
    if differences_only:
        rows = [r for r in rows if r.differs]
        topic_rows = [t for t in topic_rows if t.differs]
    return Comparison.model_construct(
        protocols=[c.summary for c in columns],
        rows=rows,
        topics=[t for t in topic_rows if any(t.provisions.values())],
        differences_only=differences_only,
    )


def _check_known(
    what: str, option: str, wanted: list[str] | None, known: Mapping[str, object]
) -> None:
    for name in wanted or []:
        if name not in known:
            raise InvalidParameter(f"unknown {what} {name!r}", field=option)


class _ProtocolCells:
    """What one protocol contributes to any comparison, worked out once per build: its cell for
    every codebook key (not yet marked strongest) and its provisions on every topic."""

    def __init__(self, book: Codebook, protocol: models.ProtocolPublic) -> None:
        refs = {
            v.id: ProvisionRef(id=v.id, cite=v.cite, heading=v.heading, summary=v.summary)
            for v in protocol.provisions
        }
        sources_of = {v.id: v.sources for v in protocol.provisions}
        answers = {a.key: a for a in protocol.coding}
        self.summary = ComparedProtocol.of(protocol)
        self.cells: dict[str, Cell] = {}
        for key, spec in book.keys.items():
            answer = answers.get(key)
            supporting = [i for i in (answer.provisions if answer else []) if i in refs]
            wanted = {s for i in supporting for s in sources_of[i]}
            self.cells[key] = Cell(
                protocol_id=protocol.id,
                value=answer.value if answer else None,
                label=answer.label if answer else spec.label(None),
                note=answer.note if answer else None,
                confidence=answer.confidence if answer else None,
                provisions=[refs[i] for i in supporting],
                sources=[
                    SourceRef(key=s.key, title=s.title, url=s.url, kind=s.kind)
                    for s in protocol.sources
                    if s.key in wanted
                ],
            )
        # Marked copies, made once too: a cell object stands for one rendering of it.
        self.strongest = {
            k: c.model_copy(update={"strongest": True}) for k, c in self.cells.items()
        }
        self.topics: dict[str, list[ProvisionRef]] = {}
        for v in protocol.provisions:
            for topic in dict.fromkeys(v.topics):
                self.topics.setdefault(topic, []).append(refs[v.id])


def _protocol_cells(
    db: Session, book: Codebook, protocols: list[models.ProtocolPublic]
) -> list[_ProtocolCells]:
    return [
        store.remembered(db, ("compare cells", p.id), partial(_ProtocolCells, book, p))
        for p in protocols
    ]


def _row(db: Session, book: Codebook, key: str, columns: list[_ProtocolCells]) -> Row:
    spec = book[key]
    cells = [column.cells[key] for column in columns]
    ranks = {i: spec.rank(c.value) for i, c in enumerate(cells)}
    ranked = {i: r for i, r in ranks.items() if r is not None}
    strongest = None
    reason = None
    if spec.type != TEXT and ranked:
        best = min(ranked.values())
        top = [i for i, rank in ranked.items() if rank == best]
        strongest = cells[top[0]].value
        reason = _plain_reason(spec, strongest, len(top), len(cells))
        if (key, strongest) == CONDITIONAL and len(top) > 1:
            top, reason, marked = _rank_conditions(db, book, columns, top)
        else:
            marked = {i: columns[i].strongest[key] for i in top}
        cells = [marked.get(i, column.cells[key]) for i, column in enumerate(columns)]
    differs = len({value_text(c.value) for c in cells}) > 1
    return Row.model_construct(
        key=key,
        question=spec.question,
        topic=spec.topic,
        cells=cells,
        strongest=strongest,
        strongest_reason=reason,
        differs=differs,
    )


def _plain_reason(spec: CodebookKey, value: Value, marked: int, compared: int) -> str:
    label = spec.label(value)
    if spec.type == INTEGER:
        why = "the shortest limit given here (fewer is more protective)"
    else:
        why = "the most protective answer given here, by the codebook's order"
    if compared > 1 and marked == compared:
        why += "; every protocol compared gives it"
    return f"{label}: {why}."


def _rank_conditions(
    db: Session, book: Codebook, columns: list[_ProtocolCells], top: list[int]
) -> tuple[list[int], str, dict[int, Cell]]:
    """Among protocols that all hold only when conditions are met, the strictest conditions win
    (kb.score.condition_strength, docs/scoring.md): the marked cells, the row's reason and the
    marked cells' copies, each with the reason in words."""
    key = CONDITIONAL[0]
    values = {i: {k: c.value for k, c in columns[i].cells.items()} for i in top}
    strength = {i: condition_strength(book, values[i]) for i in top}
    order = sorted(top, key=lambda i: strength[i])
    best = [i for i in order if strength[i] == strength[order[0]]]
    rest = [i for i in order if i not in best]
    names = _short_names(columns)
    if not rest:
        together = " and ".join(names[i] for i in best)
        reason = f"{book[key].label(CONDITIONAL[1])}: {together} set the same conditions on a hold."
        return best, reason, {i: columns[i].strongest[key] for i in best}
    said = conditions_reason(book, values[best[0]], values[rest[0]])
    cell_reason = str(said)
    keys = [k for k in HOLD_CONDITIONS if k in book]
    deciders = {i: deciding_condition(book, values[best[0]], values[i]) or key for i in rest}
    upto = keys[: max(keys.index(d) for d in deciders.values()) + 1] if keys else []
    own = [
        book[k].label(values[best[0]].get(k))
        for k in upto
        if book[k].rank(values[best[0]].get(k)) is not None
    ]
    reason = (
        "Of the protocols that hold only when conditions are met, "
        f"{' and '.join(names[i] for i in best)} set{'s' if len(best) == 1 else ''} the "
        f"strictest conditions ({' and '.join(own)}); in order after "
        f"{'it' if len(best) == 1 else 'them'}, "
        + "; ".join(
            f"{names[i]} has “{book[deciders[i]].label(values[i].get(deciders[i]))}”" for i in rest
        )
        + ". Conditions are compared in this order: reimbursement, prior conviction, pending "
        "charges, look-back, hours; the first that differs decides."
    )
    if values[best[0]].get("reimbursement_required") is True:
        reason += " " + PAYMENT_NEVER_GIVEN

    def reasoned(i: int) -> Cell:
        cell = columns[i].cells[key]
        # Kept per build: the text depends on coded values alone, so copies are few.
        return store.remembered(
            db,
            ("conditional mark", cell.protocol_id, cell_reason),
            lambda: cell.model_copy(
                update={
                    "strongest": True,
                    "strongest_reason": cell_reason,
                    "strongest_reason_message": said,
                }
            ),
        )

    return best, reason, {i: reasoned(i) for i in best}


def _short_names(columns: list[_ProtocolCells]) -> dict[int, str]:
    """Each compared protocol by its jurisdiction's name, or by its title when one jurisdiction
    has several protocols in the comparison."""
    counts: dict[str, int] = {}
    for c in columns:
        counts[c.summary.jurisdiction_name] = counts.get(c.summary.jurisdiction_name, 0) + 1
    return {
        i: c.summary.jurisdiction_name
        if counts[c.summary.jurisdiction_name] == 1
        else f"{c.summary.jurisdiction_name} ({c.summary.citation or c.summary.title})"
        for i, c in enumerate(columns)
    }


def _topic_row(topic: str, name: str, columns: list[_ProtocolCells]) -> TopicRow:
    provisions = {c.summary.id: list(c.topics.get(topic, [])) for c in columns}
    # Provisions are each jurisdiction's own words, so a topic row differs whenever more than
    # one protocol is compared; it is dropped only when no protocol has a provision on it.
    return TopicRow.model_construct(
        topic=topic, name=name, provisions=provisions, differs=len(columns) > 1
    )
