"""Two-word phrases are found from the bigram table; it must agree with whoosh's phrase matcher."""

from __future__ import annotations

import re

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


def test_array_phrases_match_whoosh_phrases(index: SearchIndex) -> None:
    generation = index._generation()
    checked = {2: 0, 3: 0}
    for text in word_pairs() + word_triples():
        terms = analyzed(text)
        if len(terms) not in checked:
            continue
        ours = generation.accel.phrase(terms)
        assert ours is not None
        theirs = sorted(generation.searcher.docs_for_query(wq.Phrase("content", terms)))
        assert np.flatnonzero(ours).tolist() == theirs, text
        checked[len(terms)] += 1
    assert checked[2] > 150 and checked[3] > 100


@pytest.mark.parametrize(
    "word", ["warant", "detaner", "juvenle", "relase", "sherif", "imigration", "cort"]
)
def test_fuzzy_words_find_what_whoosh_fuzzy_finds(index: SearchIndex, word: str) -> None:
    """A fuzzy word is expanded by whoosh and matched from the arrays: the same documents."""
    generation = index._generation()
    for distance in (1, 2):
        ours = index.search(f"{word}~{distance}", per_page=1, with_facets=False).total
        fuzzy = wq.FuzzyTerm("content", analyzed(word)[0], maxdist=distance)
        theirs = len(list(generation.searcher.docs_for_query(fuzzy)))
        assert ours == theirs, (word, distance)
    assert index.search(f"{word}~", per_page=1).total > 0
