"""The index build analyses and stores documents itself (index format 8): held to whoosh's
analyzer and stored fields, and an index of an older format is rebuilt, never misread."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kb import store
from kb.db import make_engine
from kb.errors import IndexUnavailable
from search_index.accel import _Analysis
from search_index.analysis import legal_analyzer
from search_index.schema import documents, reference_index
from search_index.search import SearchIndex

TRICKY = [
    "The 287(g) agreement, İstanbul and ÉCOLE; a the of 48-hour I-247D holds",
    "§ 7282.5(a)(1) and 8 C.F.R. § 287.7 (u.s.c.) don't say 11-o-73 or x_y or 24-211.07(b)",
    "a an the",  # nothing but stop words
    "",
    "Under 18: no-one may not hold; I-200/I-205 warrants, AB-4, ab 4, 2(a)-(b)",
]


def whoosh_terms(text: str) -> list[tuple[str, int]]:
    return [(t.text, t.pos) for t in legal_analyzer(stem=True)(text, positions=True)]


def our_terms(texts: list[str]) -> list[list[tuple[str, int]]]:
    """What the build's analysis (search_index.accel._Analysis) indexes from each text."""
    analysis = _Analysis()
    return listed(analysis, analysis.occurrences(texts), len(texts))


def listed(analysis: _Analysis, occurrences: Any, count: int) -> list[list[tuple[str, int]]]:
    docs, positions, terms = occurrences
    vocabulary = analysis.vocabulary()
    found: list[list[tuple[str, int]]] = [[] for _ in range(count)]
    for doc, position, term in zip(docs.tolist(), positions.tolist(), terms.tolist(), strict=True):
        found[doc].append((vocabulary[term], position))
    return found


def test_the_build_indexes_what_the_analyzer_indexes() -> None:
    assert our_terms(TRICKY) == [whoosh_terms(text) for text in TRICKY]
    # each text on its own too (positions restart; a text of stop words only holds nothing)
    for text in TRICKY:
        assert our_terms([text]) == [whoosh_terms(text)]


def test_the_build_indexes_every_real_document_as_the_analyzer_does(
    real_build: tuple[str, Path],
) -> None:
    engine = make_engine(real_build[0])
    with store.session(engine) as db:
        docs = list(documents(db))
    engine.dispose()
    texts = sorted({doc[name] for doc in docs for name in ("content", "meta", "heading")})
    assert len(texts) > 300
    for text, ours in zip(texts, our_terms(texts), strict=True):
        assert ours == whoosh_terms(text), text[:80]
    # `content` is tokenized field by field (the heading once), then joined
    analysis = _Analysis()
    occurrences, headings = analysis.content_occurrences(docs)
    for doc, ours in zip(docs, listed(analysis, occurrences, len(docs)), strict=True):
        assert ours == whoosh_terms(doc["content"]), doc["id"]
    heading_terms = listed(analysis, analysis.occurrences_of_tokens(headings), len(docs))
    for doc, ours in zip(docs, heading_terms, strict=True):
        assert ours == whoosh_terms(doc["heading"]), doc["id"]


def test_stored_documents_are_what_whoosh_stores(
    real_build: tuple[str, Path], tmp_path: Path
) -> None:
    engine = make_engine(real_build[0])
    with store.session(engine) as db:
        docs = list(documents(db))
    engine.dispose()
    generation = SearchIndex(real_build[1])._generation()
    with reference_index(docs, tmp_path / "whoosh").searcher() as searcher:
        assert generation.accel.doc_count == searcher.doc_count_all() == len(docs)
        for docnum in range(len(docs)):
            assert generation.stored.get(docnum) == searcher.stored_fields(docnum), docnum
    with pytest.raises(IndexError):
        generation.stored.get(len(docs) + 40)


@pytest.mark.parametrize("older", ["6", "7"])
def test_an_index_of_an_older_format_is_refused_not_misread(tmp_path: Path, older: str) -> None:
    """Formats 6 and 7 were a whoosh segment beside the arrays; format 8 has no segment. A
    generation of another format is refused (and `kb serve` rebuilds it: api.index_refresh)."""
    from search_index.build import FORMAT_FILE, INDEX_FORMAT, VERSION_FILE
    from search_index.generations import switch_to

    assert INDEX_FORMAT == "8"
    generation = tmp_path / "index" / "gen-20261101T000000000000-abcdef"
    generation.mkdir(parents=True)
    (generation / FORMAT_FILE).write_text(older)
    (generation / VERSION_FILE).write_text("some-version")
    (generation / "MAIN_xyz.seg").write_bytes(b"whoosh")
    switch_to(tmp_path / "index", generation)
    with pytest.raises(IndexUnavailable, match="another version of protocol-kb"):
        SearchIndex(tmp_path / "index").search("warrant")


def documents_from_the_public_models(db: Any) -> list[dict[str, Any]]:
    """The index documents read through store.get_protocols (the product's public models), as
    search_index.schema read them before it read the tables itself."""
    from kb.codebook import value_text
    from search_index.schema import MAIN_DATES, _with_content

    jurisdictions = {j.id: j for j in store.list_jurisdictions(db)}
    docs = []
    for protocol in store.get_protocols(db):
        jurisdiction = jurisdictions[protocol.jurisdiction_id]
        coding = " ".join(
            f"{a.key}={value_text(a.value) or 'null'}"
            for a in protocol.coding
            if a.key != "applies_to"
        )
        main_date = next((protocol.dates[k] for k in MAIN_DATES if k in protocol.dates), "")
        answers: dict[str, list[str]] = {}
        for answer in protocol.coding:
            silent = answer.value in (None, False, "not_addressed")
            for provision_id in answer.provisions:
                answers.setdefault(provision_id, []).append(
                    f"{answer.key}:silent" if silent else answer.key
                )
        for provision in protocol.provisions:
            docs.append(
                _with_content(
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
            )
    return docs


def test_documents_read_from_the_tables_are_those_of_the_public_models(
    real_build: tuple[str, Path],
) -> None:
    engine = make_engine(real_build[0])
    with store.session(engine) as db:
        ours = list(documents(db))
        expected = documents_from_the_public_models(db)
    engine.dispose()
    provisions = [doc for doc in ours if doc["kind"] == "provision"]
    assert len(provisions) == len(expected) > 150
    assert any(doc["coding"] for doc in provisions) and any(doc["date"] for doc in provisions)
    assert any(":silent" in doc["answers"] for doc in provisions)
    assert any(doc["answers"] and ":" not in doc["answers"] for doc in provisions)
    for doc, reference in zip(provisions, expected, strict=True):
        assert json.dumps(doc) == json.dumps(reference), doc["id"]


def test_the_name_table_is_read_from_the_tables_as_from_the_public_models(
    real_build: tuple[str, Path],
) -> None:
    from search_index import names
    from search_index.schema import name_table

    engine = make_engine(real_build[0])
    with store.session(engine) as db:
        jurisdictions = store.list_jurisdictions(db)
        by_id = {j.id: j for j in jurisdictions}
        protocols = store.get_protocols(db)
        expected = names.name_table(
            jurisdictions,
            [(p.id, p.short_name, by_id[p.jurisdiction_id].name) for p in protocols],
            {p.jurisdiction_id for p in protocols},
        )
        assert name_table(db) == expected
    engine.dispose()


def test_facet_counts_are_counted_and_ordered_as_documented(real_build: tuple[str, Path]) -> None:
    """Years in order; other facets most frequent first, ties by value: checked against a plain
    count of the stored documents under a few masks."""
    import numpy as np

    generation = SearchIndex(real_build[1])._generation()
    accel = generation.accel
    rng = np.random.default_rng(0)
    for share in (1.0, 0.5, 0.05, 0.0):
        mask = rng.random(accel.doc_count) < share
        docs = [generation.stored.get(int(d)) for d in np.flatnonzero(mask)]
        for name, found in accel.facet_counts(mask).items():
            counted: dict[str, int] = {}
            for doc in docs:
                held = doc[name].split() if name == "topic" else [str(doc[name])]
                for value in held:
                    if value not in ("", "0"):
                        counted[value] = counted.get(value, 0) + 1
            order = (lambda kv: kv[0]) if name == "year" else (lambda kv: (-kv[1], kv[0]))
            assert found == sorted(counted.items(), key=order), (name, share)
