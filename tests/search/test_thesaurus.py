"""Every thesaurus concept finds, through its other forms, a real record that does not hold the
words asked (search_index/thesaurus.yaml, checked against the real content)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from search_index.query import analyzed, word_group
from search_index.search import SearchIndex
from search_index.thesaurus import THESAURUS, concepts, expansions, find_phrases

ENTRIES: list[dict[str, Any]] = yaml.safe_load(THESAURUS.read_text(encoding="utf-8"))


def _examples() -> list[Any]:
    return [
        pytest.param(entry["concept"], example, id=f"{entry['concept']}: {example['query']}")
        for entry in ENTRIES
        for example in entry["examples"]
    ]


def test_every_concept_has_an_example_and_spanish_forms_search_english_ones() -> None:
    assert len(concepts()) == len(ENTRIES) >= 20
    for entry in ENTRIES:
        assert entry["examples"], entry["concept"]
        for form in entry.get("spanish", []):
            assert set(expansions(form)) == set(entry["terms"]), form


@pytest.mark.parametrize(("concept", "example"), _examples())
def test_the_expansion_finds_a_record_without_the_words_asked(
    index: SearchIndex, concept: str, example: dict[str, str]
) -> None:
    generation = index._generation()
    hits = index.search(example["query"], per_page=10, with_facets=False).hits
    found = [hit for hit in hits if hit.id == example["finds"]]
    assert found, f"{example['finds']} not in the top 10 of {example['query']!r}"
    docnum = next(
        d
        for d in range(generation.accel.doc_count)
        if generation.stored_fields(d)["id"] == example["finds"]
    )

    def holds(text: str) -> bool:
        return all(
            docnum in generation.accel.postings(name, term)[0]
            for term in analyzed(text)
            for name in ("content",)
        )

    form = next(t for t in concepts() if t.concept == concept)
    typed = [f for f in (*form.terms, *form.spanish) if f.lower() in example["query"].lower()]
    typed = [f for f in typed if not any(f != g and f.lower() in g.lower() for g in typed)]
    assert typed, f"the example must type a form of {concept!r}"
    # The record does not say what was typed, but does say another form of the concept.
    assert not any(holds(f) for f in typed), f"{example['finds']} says {typed} itself"
    assert any(holds(t) for t in form.terms if t not in typed)


def test_english_forms_are_found_in_the_plural() -> None:
    assert find_phrases(["arrests", "on", "civil", "immigration", "warrants"]) == [(2, 5)]
    assert "administrative warrant" in expansions("civil immigration warrants")
    assert "detention facility" in expansions("jails")


def test_a_form_that_holds_the_typed_word_adds_nothing() -> None:
    # "immigration detainer" for "detainer" would count the word twice where it is found
    group = word_group("detainer")
    assert group is not None
    assert ("immigr", "detain") not in group.alternatives
    assert ("hold", "request") in group.alternatives
