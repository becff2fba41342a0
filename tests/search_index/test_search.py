"""Search over a real index built from the fixture content."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kb.build import build
from kb.db import make_engine
from kb.errors import IndexUnavailable, QuerySyntaxError
from search_index.build import build_index
from search_index.generations import current_generation
from search_index.search import SearchIndex
from tests.conftest import ROOT


@pytest.fixture
def index(content: Path, tmp_path: Path) -> SearchIndex:
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    build(content, url)
    build_index(make_engine(url), tmp_path / "index")
    return SearchIndex(tmp_path / "index")


def ids(index: SearchIndex, query: str, **kwargs: object) -> list[str]:
    return [hit.id for hit in index.search(query, **kwargs).hits]  # type: ignore[arg-type]


def test_records_with_every_word_rank_first_then_the_best_partial_matches(
    index: SearchIndex,
) -> None:
    complete = index.search("criminal warrant")
    assert [h.id for h in complete.hits][:1] == ["us-xx-example-county/ordinance-2012-9/sec-2"]
    assert complete.complete == 1 and complete.hits[0].matched == ["criminal warrant"]
    assert all(h.unmatched for h in complete.hits[1:])
    partial = index.search("criminal warrant holiday")
    assert partial.complete == 0
    assert partial.hits[0].id == "us-xx-example-county/ordinance-2012-9/sec-2"
    assert partial.hits[0].unmatched == ["holiday"]
    # fewer than half the words: not a match
    assert ids(index, "banana feast warrant") == []


def test_a_plus_word_is_required(index: SearchIndex) -> None:
    assert ids(index, "criminal warrant +holiday") == []
    required = index.search("+criminal warrant").hits
    assert required[0].id == "us-xx-example-county/ordinance-2012-9/sec-2"
    assert all("criminal" in hit.matched for hit in required)


def test_a_heading_match_outranks_a_summary_match(index: SearchIndex) -> None:
    # "notice" is the heading of sec-3 and appears in no other summary as a heading word.
    assert ids(index, "notice")[0] == "us-xx-example-county/ordinance-2012-9/sec-3"


def test_stemming_matches_word_forms(index: SearchIndex) -> None:
    assert "us-xx-example-county/ordinance-2012-9/sec-1" in ids(index, "holding")


def test_phrases_must_match_in_order(index: SearchIndex) -> None:
    assert ids(index, '"criminal warrant"') == ["us-xx-example-county/ordinance-2012-9/sec-2"]
    assert ids(index, '"warrant criminal"') == []


def test_fuzzy_terms_tolerate_one_typo(index: SearchIndex) -> None:
    assert ids(index, "warrant") == ids(index, "warant~")
    assert index.search("warant").total == 0


def test_field_filters(index: SearchIndex) -> None:
    assert ids(index, "topic:notice-and-consent") == ["us-xx-example-county/ordinance-2012-9/sec-3"]
    assert ids(index, "status:superseded") == ["us-xx-example-county/ordinance-2010-3/sec-1"]
    assert ids(index, "year:2011..2014", per_page=10) == [
        "us-xx-example-county/ordinance-2012-9/sec-1",
        "us-xx-example-county/ordinance-2012-9/sec-2",
        "us-xx-example-county/ordinance-2012-9/sec-3",
    ]
    assert ids(index, "year:..2010 kind:provision") == [
        "us-xx-example-county/ordinance-2010-3/sec-1"
    ]
    assert ids(index, "kind:context") == ["context/detainer-regulation"]


def test_codebook_keys_are_fields(index: SearchIndex) -> None:
    assert len(ids(index, "detainer_response:declines_all")) == 3
    assert ids(index, "detainer_response:conditional") == [
        "us-xx-example-county/ordinance-2010-3/sec-1"
    ]
    assert ids(index, "max_hold_hours:48") == ["us-xx-example-county/ordinance-2010-3/sec-1"]


def test_facets_count_the_whole_result_set(index: SearchIndex) -> None:
    # "county" is in every provision's jurisdiction name, which is searched too.
    result = index.search("county", per_page=1)
    assert result.total == 4
    assert len(result.hits) == 1
    assert dict(result.facets["year"]) == {"2010": 1, "2012": 3}
    assert dict(result.facets["status"]) == {"superseded": 1, "in_force": 3}
    assert dict(result.facets["jurisdiction"]) == {"us-xx-example-county": 4}
    assert dict(result.facets["topic"])["detainers"] == 2


def test_highlights_escape_the_source_before_marking(index: SearchIndex) -> None:
    hit = index.search("alert").hits[0]
    assert "<script>" not in hit.highlight
    assert "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;" in hit.highlight


def test_pagination_and_date_sort(index: SearchIndex) -> None:
    everything = index.search("kind:provision", per_page=2, sort="date")
    assert everything.total == 4
    assert [h.year for h in everything.hits] == [2012, 2012]
    last = index.search("kind:provision", per_page=2, page=2, sort="date")
    assert [h.year for h in last.hits] == [2012, 2010]


def test_did_you_mean_when_nothing_is_found(index: SearchIndex) -> None:
    result = index.search("crimnal")
    assert result.total == 0
    assert result.suggestion == "criminal"
    assert index.search("criminal").suggestion is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"criminal warrant', "quotation mark at position 1 is not closed"),
        ("colour:blue", "unknown field 'colour'"),
        ("year:2014..2011", "runs backwards"),
        ("year:soon", "not a year or range"),
        ("x" * 10_000, "the limit is 1,000"),
        ("warrant\x07", "control characters"),
        ("topic:", "needs a value"),
        ("warrant~7", "fuzzy distance must be 1 or 2"),
    ],
)
def test_bad_queries_raise_one_error_type_with_a_plain_message(
    index: SearchIndex, query: str, message: str
) -> None:
    with pytest.raises(QuerySyntaxError, match=message):
        index.search(query)


def test_no_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexUnavailable, match="kb index"):
        SearchIndex(tmp_path / "none").search("x")


def test_a_rebuild_switches_readers_to_the_new_generation(
    content: Path, tmp_path: Path, index: SearchIndex
) -> None:
    before = current_generation(tmp_path / "index")
    assert ids(index, "smoke") == []
    path = content / "us-xx-example-county" / "ordinance-2012-9.md"
    path.write_text(path.read_text().replace("People are told", "People are told (smoke)"))
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    build(content, url)
    build_index(make_engine(url), tmp_path / "index")
    assert current_generation(tmp_path / "index") != before
    assert ids(index, "smoke") == ["us-xx-example-county/ordinance-2012-9/sec-3"]


def test_a_failed_index_build_keeps_the_current_index(tmp_path: Path, index: SearchIndex) -> None:
    before = current_generation(tmp_path / "index")
    empty = f"sqlite:///{tmp_path / 'never-built.sqlite3'}"
    with pytest.raises(Exception, match="kb build"):
        build_index(make_engine(empty), tmp_path / "index")
    assert current_generation(tmp_path / "index") == before
    assert ids(index, "criminal warrant") == ["us-xx-example-county/ordinance-2012-9/sec-2"]


@pytest.mark.parametrize(
    "query",
    [
        "detainer",
        "criminal warrant",
        "ice county",
        "holds",
        "county topic:detainers",
        "notice status:in_force",
        '"criminal warrant"',
        '"no holds" county',
        "juveniles notice",
        "2(a)-(b) warrant",
        "jail detainer",
    ],
)
def test_array_ranking_matches_whoosh_ranking(
    index: SearchIndex, tmp_path: Path, request: pytest.FixtureRequest, query: str
) -> None:
    """Words, filters, phrases and thesaurus forms are scored from arrays; on the records that
    match every word whoosh, on its own index of the same documents, must agree on the order
    and the scores (whoosh requires every word; the heading, adjacency and name bonuses come on
    top, search_index.accel.bonus)."""
    from kb import store
    from search_index.query import parse
    from search_index.schema import documents, reference_index

    with store.session(make_engine(f"sqlite:///{tmp_path / 'kb.sqlite3'}")) as db:
        docs = list(documents(db))
    searcher = reference_index(docs, tmp_path / "whoosh").searcher()
    request.addfinalizer(searcher.close)
    generation = index._generation()
    parsed = parse(query, generation.codebook_keys, generation.names)
    assert not parsed.fuzzy and parsed.text_query is not None
    assert not any(group.names for group in parsed.groups)
    masks, scores = generation.accel.score(parsed.groups, parsed.phrase_terms)
    mask = index._filter_mask(generation.accel, parsed)
    for phrase in parsed.phrases:
        mask &= generation.accel.phrase(phrase)
    for group_mask in masks:
        mask &= group_mask
    ours = generation.accel.top(mask, scores, 10)
    expected = searcher.search(parsed.text_query, filter=parsed.filter_query(), limit=10)
    assert [generation.stored_fields(d)["id"] for d in ours] == [hit["id"] for hit in expected]
    assert [scores[d] for d in ours] == pytest.approx([hit.score for hit in expected])
    assert int(mask.sum()) == len(expected)
    assert index.search(query).complete == len(expected)


def test_a_jurisdiction_name_boosts_its_records(index: SearchIndex) -> None:
    named = index.search("examplia detainer", per_page=20)
    plain = index.search("detainer", per_page=20)
    examplia = {h.id for h in plain.hits if h.jurisdiction.startswith("us-xx")}
    assert examplia and {h.id for h in named.hits[: len(examplia)]} == examplia
    assert all(h.matched == ["examplia", "detainer"] for h in named.hits[: len(examplia)])


READER = """
import sys, time
from pathlib import Path
from search_index.search import SearchIndex
index, stop = SearchIndex(Path(sys.argv[1])), Path(sys.argv[2])
seen, deadline = [], time.monotonic() + 120
while not stop.exists() and time.monotonic() < deadline:
    assert index.search("warrant").total == 1
    path = str(index._generation().path)
    if path not in seen:
        seen.append(path)
        print(path, flush=True)  # the parent waits for this line
"""


class Reader:
    """A reader process and the generations it has announced, read with a deadline."""

    def __init__(self, index_dir: Path, stop: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", READER, str(index_dir), str(stop)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.seen: list[str] = []
        self._partial = b""

    def wait_until_it_searched(self, generation: Path, seconds: float = 60) -> None:
        assert self.process.stdout is not None
        deadline = time.monotonic() + seconds
        while str(generation) not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"a reader never searched {generation.name}; it saw {self.seen}"
            ready, _, _ = select.select([self.process.stdout], [], [], left)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 65536)
                assert chunk, f"a reader exited: {self.process.communicate(timeout=10)[1]!r}"
                *lines, self._partial = (self._partial + chunk).split(b"\n")
                self.seen += [line.decode() for line in lines]


def test_several_processes_read_one_index_while_it_is_rebuilt(
    content: Path, tmp_path: Path
) -> None:
    """Two reader processes keep searching while the index is rebuilt: each moves to every new
    generation as it is switched in, and no search fails meanwhile."""
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    build(content, url)
    index_dir = tmp_path / "index"
    build_index(make_engine(url), index_dir)
    stop = tmp_path / "stop"
    readers = [Reader(index_dir, stop) for _ in range(2)]
    generations = []
    try:
        for rebuilds in range(5):
            if rebuilds:
                build_index(make_engine(url), index_dir)
            generation = current_generation(index_dir)
            assert generation is not None
            generations.append(str(generation))
            for reader in readers:
                reader.wait_until_it_searched(generation)
    finally:
        stop.touch()
    for reader in readers:
        _, err = reader.process.communicate(timeout=60)
        assert reader.process.returncode == 0, err.decode()
        assert reader.seen == generations


def test_an_index_from_another_format_is_refused_clearly(
    tmp_path: Path, index: SearchIndex
) -> None:
    from search_index.build import FORMAT_FILE

    generation = current_generation(tmp_path / "index")
    assert generation is not None
    (generation / FORMAT_FILE).write_text("0")
    with pytest.raises(IndexUnavailable, match="another version of protocol-kb: run `kb index`"):
        SearchIndex(tmp_path / "index").search("warrant")


def test_one_generation_serves_every_thread(index: SearchIndex) -> None:
    """Threads share one opened generation (the arrays, the stored documents), not one each:
    forty threads once meant forty copies of the index in memory."""
    from concurrent.futures import ThreadPoolExecutor

    expected = ids(index, "warrant")
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(
            pool.map(lambda _: (ids(index, "warrant"), id(index._generation())), range(32))
        )
    assert {tuple(hits) for hits, _ in found} == {tuple(expected)}
    assert len({generation for _, generation in found}) == 1


def test_stored_fields_memo_is_bounded(index: SearchIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    from search_index import search

    monkeypatch.setattr(search, "STORED_MEMO", 2)
    first = index.search("detainer", per_page=10)
    assert len(first.hits) > 2
    assert len(index._generation()._stored) == 2  # the oldest were dropped
    again = index.search("detainer", per_page=10)
    assert [h.id for h in again.hits] == [h.id for h in first.hits]
    assert [h.title for h in again.hits] == [h.title for h in first.hits]


def test_remembered_analysis_highlights_as_whoosh_does(real_build: tuple[str, Path]) -> None:
    """Snippets come from analysed tokens kept per summary and are kept by the terms that
    matched; both must give exactly what whoosh's highlighter gives on the summary itself."""
    import random
    import re
    import sqlite3

    from whoosh import highlight

    from kb.db import sqlite_path
    from search_index import search
    from search_index.analysis import stem

    with sqlite3.connect(sqlite_path(real_build[0])) as conn:
        summaries = [r[0] for r in conn.execute("select summary from provision order by id")]
    summaries += [
        "A detainer is a request, not a warrant; 287(g) and § 7282.5(a)(1) are cites. " * 4,
        "Short.",
    ]
    assert len(summaries) > 3
    rng = random.Random(0)
    for summary in summaries:
        words = re.findall(r"[A-Za-z]{3,}", summary) or ["none"]
        for _ in range(8):
            terms = frozenset(stem(w.lower()) for w in rng.sample(words, min(2, len(words))))
            terms |= {stem(rng.choice(["warrant", "holiday", "detainer"]))}
            whoosh_own = highlight.highlight(
                summary,
                terms,
                search._HIGHLIGHT_ANALYZER,
                highlight.ContextFragmenter(maxchars=search.SNIPPET_CHARS, surround=60),
                search._MarkFormatter(),
                top=2,
            )
            stored = (
                {"summary": summary, "topic": ""}
                | {k: "" for k in ("id", "kind", "protocol_id", "jurisdiction")}
                | {k: "" for k in ("jurisdiction_name", "title", "cite", "heading", "status")}
            )
            ours = search.SearchIndex._hit({**stored, "year": 0}, None, terms).highlight
            if whoosh_own:
                assert ours == " ".join(whoosh_own.split())
            else:
                assert "<mark>" not in ours and ours.startswith(summary[:20].replace("&", "&amp;"))
