"""Side-by-side comparison of protocols on the codebook, with the strongest answer marked."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from pydantic import BaseModel, Field
from sqlmodel import Session

from kb import models, store
from kb.codebook import TEXT, Codebook, value_text
from kb.errors import InvalidParameter, TooManyProtocols

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
    provisions: list[ProvisionRef] = []
    sources: list[SourceRef] = []


class Row(BaseModel):
    key: str
    question: str
    topic: str = Field(serialization_alias="topic_id")
    cells: list[Cell]
    strongest: str | int | bool | None = None
    """The most protective value present; None when every cell is silent, or for text keys."""
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
        _row(book, key, columns)
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


def _row(book: Codebook, key: str, columns: list[_ProtocolCells]) -> Row:
    spec = book[key]
    cells = [column.cells[key] for column in columns]
    ranks = {i: spec.rank(c.value) for i, c in enumerate(cells)}
    ranked = {i: r for i, r in ranks.items() if r is not None}
    strongest = None
    if spec.type != TEXT and ranked:
        best = min(ranked.values())
        cells = [
            column.strongest[key] if ranked.get(i) == best else column.cells[key]
            for i, column in enumerate(columns)
        ]
        strongest = next(cells[i].value for i, rank in ranked.items() if rank == best)
    differs = len({value_text(c.value) for c in cells}) > 1
    return Row.model_construct(
        key=key,
        question=spec.question,
        topic=spec.topic,
        cells=cells,
        strongest=strongest,
        differs=differs,
    )


def _topic_row(topic: str, name: str, columns: list[_ProtocolCells]) -> TopicRow:
    provisions = {c.summary.id: list(c.topics.get(topic, [])) for c in columns}
    # Provisions are each jurisdiction's own words, so a topic row differs whenever more than
    # one protocol is compared; it is dropped only when no protocol has a provision on it.
    return TopicRow.model_construct(
        topic=topic, name=name, provisions=provisions, differs=len(columns) > 1
    )
