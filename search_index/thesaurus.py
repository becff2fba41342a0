"""The legal thesaurus (search_index/thesaurus.yaml): ways advocates, drafters and Spanish
speakers name the same thing, expanded at query time with less weight than the typed words."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from search_index.names import find_names, normalize

THESAURUS = Path(__file__).with_name("thesaurus.yaml")
EXPANSION_WEIGHT = 0.5
"""How much a match through the thesaurus counts against a match of the words typed."""


@dataclass(frozen=True)
class Concept:
    concept: str
    terms: tuple[str, ...]
    """English forms, as the protocols write them: each is searched when any form is typed."""
    spanish: tuple[str, ...]
    """Spanish forms: typed, they search the English forms."""


@cache
def concepts() -> tuple[Concept, ...]:
    entries = yaml.safe_load(THESAURUS.read_text(encoding="utf-8")) or []
    return tuple(
        Concept(e["concept"], tuple(e["terms"]), tuple(e.get("spanish", ()))) for e in entries
    )


@cache
def _table() -> dict[str, list[Concept]]:
    table: dict[str, list[Concept]] = {}
    for concept in concepts():
        for form in concept.terms + concept.spanish:
            table.setdefault(normalize(form), []).append(concept)
        for form in concept.terms:  # English plurals: civil immigration warrants, hold requests
            words = normalize(form).split()
            if words and words[-1].isalpha():
                last = words[-1]
                plural = last[:-1] + "ies" if last.endswith("y") else last + "s"
                table.setdefault(" ".join([*words[:-1], plural]), []).append(concept)
        for form in concept.spanish:  # plurals: cárceles, retenciones, órdenes de retención
            words = normalize(form).split()
            for i in (0, len(words) - 1):
                for ending in ("s", "es"):
                    plural = " ".join(w + ending if j == i else w for j, w in enumerate(words))
                    table.setdefault(plural, []).append(concept)
    return table


def find_phrases(words: list[str]) -> list[tuple[int, int]]:
    """(start, end) spans of the typed `words` that are thesaurus forms, longest first."""
    return find_names(words, _table())  # type: ignore[arg-type]


def expansions(typed: str) -> list[str]:
    """The English forms to search besides `typed` (any form of any concept it belongs to)."""
    key = normalize(typed)
    found: list[str] = []
    for concept in dict.fromkeys(_table().get(key, [])):
        found += [t for t in concept.terms if normalize(t) != key]
    return list(dict.fromkeys(found))
