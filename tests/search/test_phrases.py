"""Phrases are found from the bigram table and the positions; fuzzy words are expanded over the
arrays' terms: both must agree with whoosh's own index of the same documents."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from whoosh import query as wq

from kb.loader import load_valid_dataset
from search_index.query import analyzed
from search_index.search import SearchIndex
from tests.conftest import PROTOCOLS


def word_pairs() -> list[str]:
    """Adjacent word pairs from the content itself, plus cites and stop-word gaps."""
    dataset = load_valid_dataset(PROTOCOLS)
    words = re.findall(r"\S+", " ".join(v.summary for p in dataset.protocols for v in p.provisions))
    pairs = [f"{a} {b}" for a, b in zip(words[::13], words[1::13], strict=False)]
    return [
        *pairs[:400],
        "287(g) agreement",
        "48 hours",
        "judicial warrant",
        "violent felony",
        "no holds",
    ]


def word_triples() -> list[str]:
    dataset = load_valid_dataset(PROTOCOLS)
    words = re.findall(r"\S+", " ".join(v.summary for p in dataset.protocols for v in p.provisions))
    triples = [" ".join(words[i : i + 3]) for i in range(0, len(words) - 3, 11)]
    return [*triples[:500], "serious or violent felony", "civil immigration detainer"]


def long_phrases() -> list[str]:
    """Phrases of 4 words to whole summaries (past 64 words, once handed to whoosh), from the
    content itself."""
    dataset = load_valid_dataset(PROTOCOLS)
    summaries = [v.summary.replace('"', "") for p in dataset.protocols for v in p.provisions]
    phrases = []
    for i, summary in enumerate(summaries[::7]):
        words = summary.split()
        length = [4, 6, 9, 15, 30][i % 5]
        if len(words) >= length:
            phrases.append(" ".join(words[:length]))
    return phrases[:50] + sorted(summaries, key=len)[-10:]


def test_array_phrases_match_whoosh_phrases(index: SearchIndex, whoosh_searcher: Any) -> None:
    generation = index._generation()
    checked: dict[int, int] = {2: 0, 3: 0}
    longest = 0
    for text in word_pairs() + word_triples() + long_phrases():
        terms = analyzed(text)
        if len(terms) < 2:
            continue
        ours = generation.accel.phrase(terms)
        theirs = sorted(whoosh_searcher.docs_for_query(wq.Phrase("content", terms)))
        assert np.flatnonzero(ours).tolist() == theirs, text
        checked[min(len(terms), 4)] = checked.get(min(len(terms), 4), 0) + 1
        longest = max(longest, len(terms))
    assert checked[2] > 150 and checked[3] > 100 and checked[4] >= 25
    assert longest > 64  # once past what the arrays checked, handed to whoosh


@pytest.mark.parametrize(
    "word", ["warant", "detaner", "juvenle", "relase", "sherif", "imigration", "cort"]
)
def test_fuzzy_words_find_what_whoosh_fuzzy_finds(
    index: SearchIndex, whoosh_searcher: Any, word: str
) -> None:
    """A fuzzy word is expanded with whoosh's automaton over the arrays' terms and matched from
    the arrays: the same words and documents as whoosh's FuzzyTerm on its own index."""
    generation = index._generation()
    reader = whoosh_searcher.reader()
    for distance in (1, 2):
        ours = index.search(f"{word}~{distance}", per_page=1, with_facets=False).total
        fuzzy = wq.FuzzyTerm("content", analyzed(word)[0], maxdist=distance)
        theirs = len(list(whoosh_searcher.docs_for_query(fuzzy)))
        assert ours == theirs, (word, distance)
        term = analyzed(word)[0]
        expected = list(reader.terms_within("content", term, distance, prefix=1))
        assert generation.accel.terms_within(term, distance) == expected
    assert index.search(f"{word}~", per_page=1).total > 0
