"""The index build analyses and stores documents itself (index format 7): held to whoosh's
analyzer and stored fields, and an index of an older format is rebuilt, never misread."""

from __future__ import annotations

from pathlib import Path

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
    docs, positions, terms = analysis.occurrences(texts)
    vocabulary = analysis.vocabulary()
    found: list[list[tuple[str, int]]] = [[] for _ in texts]
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


def test_an_index_of_format_6_is_refused_not_misread(tmp_path: Path) -> None:
    """Format 6 was a whoosh segment beside the arrays; format 7 has no segment. A generation
    of another format is refused (and `kb serve` rebuilds it: api.index_refresh)."""
    from search_index.build import FORMAT_FILE, INDEX_FORMAT, VERSION_FILE
    from search_index.generations import switch_to

    assert INDEX_FORMAT == "7"
    generation = tmp_path / "index" / "gen-20261101T000000000000-abcdef"
    generation.mkdir(parents=True)
    (generation / FORMAT_FILE).write_text("6")
    (generation / VERSION_FILE).write_text("some-version")
    (generation / "MAIN_xyz.seg").write_bytes(b"whoosh")
    switch_to(tmp_path / "index", generation)
    with pytest.raises(IndexUnavailable, match="another version of protocol-kb"):
        SearchIndex(tmp_path / "index").search("warrant")
