"""The index schema and the documents built from the store: one per provision and background record."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.index import create_in

from kb import models, store
from kb.codebook import value_from_text, value_text
from search_index import names
from search_index.analysis import legal_analyzer
from search_index.names import Entry

FACETS = ("jurisdiction", "topic", "status", "level", "year")
# Text searched, in two fields: the provision itself (the heading written twice, so a match
# there weighs more) and, weighing less, the protocol it belongs to (search_index.query.META_BOOST).
CONTENT = ("cite", "heading", "heading", "summary")
META = ("jurisdiction_name", "short_name", "title", "citation", "overview")


def make_schema() -> Schema:
    """How each field is analysed, weighted and stored, as a whoosh schema.

    Since index format 8 no whoosh index is written: search_index.accel analyses and weighs the
    documents itself and search_index.stored keeps the stored fields. The schema stays the
    definition they follow, and `reference_index` builds a whoosh index of the same documents
    with it, which the tests hold the arrays to (rankings, scores, phrases, fuzzy words)."""
    return Schema(
        id=ID(stored=True, unique=True),
        kind=ID(stored=True),
        protocol_id=ID(stored=True),
        jurisdiction=ID(stored=True),
        jurisdiction_name=STORED(),
        level=ID(stored=True),
        state=ID(stored=True),
        status=ID(stored=True),
        year=NUMERIC(int, stored=True, signed=False),
        date=STORED(),
        title=STORED(),
        citation=STORED(),
        cite=STORED(),
        heading=STORED(),
        summary=STORED(),
        topic=KEYWORD(stored=True, lowercase=True, scorable=False),
        coding=KEYWORD(lowercase=False, scorable=False),
        answers=KEYWORD(lowercase=False, scorable=False),
        content=TEXT(analyzer=legal_analyzer(stem=True), phrase=True),
        meta=TEXT(analyzer=legal_analyzer(stem=True), phrase=False),
    )


MAIN_DATES = ("signed", "vetoed", "adopted", "issued", "passed", "effective", "introduced")
"""The date a record is sorted by: the first of these a protocol has."""


def documents(db: Session) -> Iterator[dict[str, Any]]:
    """Index documents from the store, in a fixed order: every protocol's provisions (protocols
    in store.get_protocols's order, by place name, year and id), then the background records.

    Read with a few plain selects rather than store.get_protocols, which builds every law's
    whole public model (sources, links, penalties...) and took half of the index build at
    45,000 provisions; a test holds the two to the same documents."""
    jurisdictions = {j.id: j for j in store.list_jurisdictions(db)}
    book = store.codebook(db)
    order = {key: i for i, key in enumerate(book.keys)}
    provisions: dict[str, list[Any]] = defaultdict(list)
    for row in (
        db.connection()
        .execute(
            select(
                col(models.Provision.protocol_id),
                col(models.Provision.id),
                col(models.Provision.cite),
                col(models.Provision.heading),
                col(models.Provision.summary),
            ).order_by(col(models.Provision.protocol_id), col(models.Provision.position))
        )
        .all()
    ):
        provisions[row[0]].append(row)
    topics: dict[str, list[str]] = defaultdict(list)
    for provision_id, topic_id in (
        db.connection()
        .execute(
            select(
                col(models.ProvisionTopic.provision_id), col(models.ProvisionTopic.topic_id)
            ).order_by(col(models.ProvisionTopic.provision_id), col(models.ProvisionTopic.position))
        )
        .all()
    ):
        topics[provision_id].append(topic_id)
    coded: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    for protocol_id, key, value in (
        db.connection()
        .execute(
            select(
                col(models.CodedAnswer.protocol_id),
                col(models.CodedAnswer.key),
                col(models.CodedAnswer.value),
            )
        )
        .all()
    ):
        coded[protocol_id].append((key, value))
    supports: dict[tuple[str, str], list[str]] = defaultdict(list)
    for protocol_id, key, provision_id in (
        db.connection()
        .execute(
            select(
                col(models.CodedAnswerProvision.protocol_id),
                col(models.CodedAnswerProvision.key),
                col(models.CodedAnswerProvision.provision_id),
            ).order_by(col(models.CodedAnswerProvision.provision_id))
        )
        .all()
    ):
        supports[(protocol_id, key)].append(provision_id)
    protocols = _protocol_rows(
        db,
        models.Protocol.id,
        models.Protocol.jurisdiction_id,
        models.Protocol.status,
        models.Protocol.year,
        models.Protocol.dates,
        models.Protocol.title,
        models.Protocol.short_name,
        models.Protocol.citation,
        models.Protocol.overview,
    )
    for pid, jid, status, year, dates, title, short_name, citation, overview in protocols:
        jurisdiction = jurisdictions[jid]
        coding = " ".join(
            f"{key}={value_text(value_from_text(book[key], value)) or 'null'}"
            for key, value in sorted(coded[pid], key=lambda a: order[a[0]])
            if key != "applies_to"
        )
        main_date = next((dates[k] for k in MAIN_DATES if k in dates), "")
        # The codebook questions whose coded answer rests on each provision: `key` where the
        # answer says something, `key:silent` where it is null, false or not_addressed (the
        # coders cite the provision to say it does not answer the question).
        answers: dict[str, list[str]] = {}
        for key, value in sorted(coded[pid], key=lambda a: order[a[0]]):
            silent = value_from_text(book[key], value) in (None, False, "not_addressed")
            for supporting in supports[(pid, key)]:
                answers.setdefault(supporting, []).append(f"{key}:silent" if silent else key)
        for _protocol_id, provision_id, cite, heading, summary in provisions[pid]:
            yield _with_content(
                {
                    "id": provision_id,
                    "kind": "provision",
                    "protocol_id": pid,
                    "jurisdiction": jurisdiction.id,
                    "jurisdiction_name": jurisdiction.name,
                    "level": jurisdiction.level,
                    "state": jurisdiction.state,
                    "status": status,
                    "year": year or 0,
                    "date": main_date,
                    "title": title,
                    "short_name": short_name,
                    "citation": citation,
                    "cite": cite,
                    "heading": heading,
                    "summary": summary,
                    "topic": " ".join(topics[provision_id]),
                    "coding": coding,
                    "answers": " ".join(answers.get(provision_id, [])),
                    "overview": overview,
                }
            )
    for record in store.list_context(db):
        yield _with_content(
            {
                "id": f"context/{record.id}",
                "kind": "context",
                "protocol_id": "",
                "jurisdiction": "",
                "jurisdiction_name": "",
                "level": "",
                "state": "",
                "status": "",
                "year": int(record.date[:4]),
                "date": record.date,
                "title": record.title,
                "short_name": "",
                "citation": record.citation or "",
                "cite": record.citation or "",
                "heading": record.title,
                "summary": record.summary,
                "topic": "",
                "coding": "",
                "answers": "",
                "overview": "",
            }
        )


def _with_content(doc: dict[str, Any]) -> dict[str, Any]:
    doc["content"] = "\n".join(str(doc[name]) for name in CONTENT)
    doc["meta"] = "\n".join(str(doc[name]) for name in META)
    del doc["overview"], doc["short_name"]  # searched through `meta`, not stored
    return doc


def reference_index(docs: list[dict[str, Any]], path: Path) -> Any:
    """A whoosh index of `docs` in make_schema(), document numbers as in the arrays (tests and
    benchmarks compare with it; slow: whoosh analyses and writes in Python)."""
    path.mkdir(parents=True, exist_ok=True)
    index = create_in(str(path), make_schema())
    writer = index.writer(limitmb=256)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit(optimize=True)
    return index


def name_table(db: Session) -> dict[str, list[Entry]]:
    """The names of every jurisdiction (the gazetteer's counties too) and every protocol's
    short name, for search_index.names."""
    jurisdictions = store.list_jurisdictions(db)
    by_id = {j.id: j for j in jurisdictions}
    protocols = _protocol_rows(
        db, models.Protocol.id, models.Protocol.short_name, models.Protocol.jurisdiction_id
    )
    return names.name_table(
        jurisdictions,
        [(pid, short_name, by_id[jid].name) for pid, short_name, jid in protocols],
        {jid for _pid, _short_name, jid in protocols},
    )


def _protocol_rows(db: Session, *columns: Any) -> Sequence[Any]:
    """The given columns of every protocol, in the order the index numbers documents (the
    jurisdiction's name, then year, then id), read with a plain select."""
    return (
        db.connection()
        .execute(
            select(*(col(column) for column in columns))
            .join(models.Jurisdiction)
            .order_by(
                col(models.Jurisdiction.name), col(models.Protocol.year), col(models.Protocol.id)
            )
        )
        .all()
    )
