"""The index schema and the documents built from the store: one per provision and background record."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlmodel import Session
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from kb import store
from kb.codebook import value_text
from search_index import names
from search_index.analysis import legal_analyzer
from search_index.names import Entry

FACETS = ("jurisdiction", "topic", "status", "level", "year")
# Text searched, in two fields: the provision itself (the heading written twice, so a match
# there weighs more) and, weighing less, the protocol it belongs to (search_index.query.META_BOOST).
CONTENT = ("cite", "heading", "heading", "summary")
META = ("jurisdiction_name", "short_name", "title", "citation", "overview")


def make_schema() -> Schema:
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


def documents(db: Session) -> Iterator[dict[str, Any]]:
    """Index documents from the store, in a fixed order."""
    jurisdictions = {j.id: j for j in store.list_jurisdictions(db)}
    for protocol in store.get_protocols(db):
        jurisdiction = jurisdictions[protocol.jurisdiction_id]
        coding = " ".join(
            f"{a.key}={value_text(a.value) or 'null'}"
            for a in protocol.coding
            if a.key != "applies_to"
        )
        main_date = next(
            (
                protocol.dates[k]
                for k in (
                    "signed",
                    "vetoed",
                    "adopted",
                    "issued",
                    "passed",
                    "effective",
                    "introduced",
                )
                if k in protocol.dates
            ),
            "",
        )
        # The codebook questions whose coded answer rests on each provision: `key` where the
        # answer says something, `key:silent` where it is null, false or not_addressed (the
        # coders cite the provision to say it does not answer the question).
        answers: dict[str, list[str]] = {}
        for answer in protocol.coding:
            silent = answer.value in (None, False, "not_addressed")
            for provision_id in answer.provisions:
                answers.setdefault(provision_id, []).append(
                    f"{answer.key}:silent" if silent else answer.key
                )
        for provision in protocol.provisions:
            yield _with_content(
                {
                    "id": provision.id,
                    "kind": "provision",
                    "protocol_id": protocol.id,
                    "jurisdiction": jurisdiction.id,
                    "jurisdiction_name": jurisdiction.name,
                    "level": jurisdiction.level,
                    "state": jurisdiction.state,
                    "status": protocol.status,
                    "year": protocol.year or 0,
                    "date": main_date,
                    "title": protocol.title,
                    "short_name": protocol.short_name,
                    "citation": protocol.citation,
                    "cite": provision.cite,
                    "heading": provision.heading,
                    "summary": provision.summary,
                    "topic": " ".join(provision.topics),
                    "coding": coding,
                    "answers": " ".join(answers.get(provision.id, [])),
                    "overview": protocol.overview,
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


def name_table(db: Session) -> dict[str, list[Entry]]:
    """The names of every jurisdiction (the gazetteer's counties too) and every protocol's
    short name, for search_index.names."""
    jurisdictions = store.list_jurisdictions(db)
    by_id = {j.id: j for j in jurisdictions}
    protocols = store.get_protocols(db)
    return names.name_table(
        jurisdictions,
        [(p.id, p.short_name, by_id[p.jurisdiction_id].name) for p in protocols],
        {p.jurisdiction_id for p in protocols},
    )
