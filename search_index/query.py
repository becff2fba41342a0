"""The search query language (docs/search.md), parsed into whoosh queries with clear errors."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from whoosh import query as wq

from kb.errors import QuerySyntaxError
from search_index.analysis import compound_parts, legal_analyzer, stem
from search_index.synonyms import SYNONYMS

MAX_QUERY_CHARS = 1000
META_BOOST = 0.5
"""How much a match in the protocol's name and citation counts against one in the provision."""
# query name -> index field
FILTER_FIELDS = {
    "jurisdiction": "jurisdiction",
    "topic": "topic",
    "status": "status",
    "level": "level",
    "state": "state",
    "kind": "kind",
    "protocol": "protocol_id",
    "year": "year",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<quote>")
    | (?P<field>[A-Za-z_][A-Za-z0-9_]*):(?P<value>"[^"]*"|[^\s"]*)
    | (?P<fuzzy>[^\s"~]+)~(?P<distance>\d*)
    | (?P<word>[^\s"]+)
    """,
    re.VERBOSE,
)
_YEAR_RANGE = re.compile(r"^(?P<low>\d{4})?(?:(?P<dots>\.\.)(?P<high>\d{4})?)?$")
_ANALYZER = legal_analyzer(stem=True)
# Words people put in questions that provisions rarely repeat ("who bars holds", "no holds past
# release"): not required outside quotes. Inside a "phrase" they count like any word.
QUESTION_WORDS = frozenset(
    {
        "no",
        "not",
        "only",
        "what",
        "who",
        "which",
        "how",
        "does",
        "do",
        "can",
        "should",
        "where",
        "why",
    }
)


@dataclass(frozen=True)
class WordGroup:
    """One typed word: it matches when any alternative matches, an alternative when all its terms
    do (in either text field). Alternatives are the word itself, the parts of a cite or hyphenated
    word (`48-hour` -> 48 hour) and synonyms (search_index.synonyms)."""

    word: str
    alternatives: tuple[tuple[str, ...], ...]
    fields: tuple[str, ...] = ("content", "meta")
    """Where the terms are looked for; fuzzy words look in the provision's own text only."""

    def terms(self) -> set[str]:
        return {term for alternative in self.alternatives for term in alternative}


@dataclass
class ParsedQuery:
    text_query: wq.Query | None
    """What is scored: words, phrases, fuzzy terms; None when only filters were given."""
    filters: list[wq.Query] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    """Plain words as typed, for "did you mean"."""
    groups: list[WordGroup] = field(default_factory=list)
    """The plain words, each with its alternatives: every group is required."""
    facet_filters: list[tuple[str, list[str]]] = field(default_factory=list)
    """(index field, accepted values) pairs; a document must match every pair."""
    year_ranges: list[tuple[int | None, int | None]] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)
    """The analyzed terms of each quoted phrase."""
    fuzzy: list[tuple[str, int]] = field(default_factory=list)
    """(analyzed term, edit distance) of each fuzzy word, expanded against the index at search
    time (search_index.search)."""

    @property
    def phrase_terms(self) -> list[str]:
        return [term for phrase in self.phrases for term in phrase]

    def combined(self) -> wq.Query:
        parts = ([self.text_query] if self.text_query is not None else []) + self.filters
        if not parts:
            return wq.Every()
        return parts[0] if len(parts) == 1 else wq.And(parts)

    def filter_query(self) -> wq.Query | None:
        if not self.filters:
            return None
        return self.filters[0] if len(self.filters) == 1 else wq.And(self.filters)


def analyzed(text: str) -> list[str]:
    return [t.text for t in _ANALYZER(text, mode="query")]


def parse(text: str, codebook_keys: frozenset[str]) -> ParsedQuery:
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(
            f"the query is {len(text):,} characters long; the limit is {MAX_QUERY_CHARS:,}"
        )
    if _CONTROL.search(text):
        raise QuerySyntaxError("the query contains control characters; type plain text")
    scored: list[wq.Query] = []
    parsed = ParsedQuery(text_query=None)
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:  # pragma: no cover - the word alternative matches any other character
            raise QuerySyntaxError(f"cannot read the query at position {pos + 1}")
        kind = match.lastgroup
        if kind == "quote":
            end = text.find('"', match.end())
            if end == -1:
                raise QuerySyntaxError(
                    f'a quotation mark at position {pos + 1} is not closed; add a closing "'
                )
            phrase = _phrase(text[match.end() : end])
            if phrase is not None:
                scored.append(phrase)
                parsed.phrases.append(analyzed(text[match.end() : end]))
            pos = end + 1
            continue
        if match.group("field") is not None:
            parsed.filters.append(
                _filter(match.group("field"), match.group("value"), codebook_keys, parsed)
            )
        elif match.group("fuzzy") is not None:
            fuzzy = _fuzzy(match.group("fuzzy"), match.group("distance"))
            scored.append(fuzzy)
            parsed.fuzzy.append((fuzzy.text, fuzzy.maxdist))
        elif match.group("word") is not None:
            group = word_group(match.group("word"))
            if group is not None:
                parsed.words.append(group.word)
                parsed.groups.append(group)
                scored.append(_group_query(group))
        pos = match.end()
    if scored:
        parsed.text_query = scored[0] if len(scored) == 1 else wq.And(scored)
    return parsed


def word_group(word: str) -> WordGroup | None:
    """The alternatives of one typed word; None for a word that is not required (QUESTION_WORDS)."""
    if word.lower() in QUESTION_WORDS:
        return None
    terms = tuple(analyzed(word))
    if not terms:
        return None
    alternatives = [terms]
    if len(terms) == 1:
        parts = compound_parts(terms[0])
        if len(parts) > 1:
            alternatives.append(tuple(stem(p) if p.isalpha() else p for p in parts))
    for synonym in SYNONYMS.get(word.lower(), ()):
        alternatives.append(tuple(analyzed(synonym)))
    return WordGroup(word, tuple(dict.fromkeys(a for a in alternatives if a)))


def _term(term: str) -> wq.Query:
    """A term in either text field; the protocol's name and citation weigh less."""
    return wq.Or([wq.Term("content", term), wq.Term("meta", term, boost=META_BOOST)])


def _group_query(group: WordGroup) -> wq.Query:
    alternatives = [
        _term(alt[0]) if len(alt) == 1 else wq.And([_term(t) for t in alt])
        for alt in group.alternatives
    ]
    return alternatives[0] if len(alternatives) == 1 else wq.Or(alternatives)


def _phrase(inside: str) -> wq.Query | None:
    terms = analyzed(inside)
    if not terms:
        return None
    if len(terms) == 1:
        return wq.Term("content", terms[0])
    return wq.Phrase("content", terms)


def _fuzzy(word: str, distance: str) -> wq.FuzzyTerm:
    terms = analyzed(word)
    if len(terms) != 1:
        raise QuerySyntaxError(f"fuzzy search takes one plain word: {word!r}~")
    maxdist = int(distance) if distance else 1
    if not 1 <= maxdist <= 2:
        raise QuerySyntaxError(f"fuzzy distance must be 1 or 2, not {distance}")
    return wq.FuzzyTerm("content", terms[0], maxdist=maxdist, prefixlength=1)


def _filter(name: str, value: str, codebook_keys: frozenset[str], parsed: ParsedQuery) -> wq.Query:
    value = value.strip('"')
    if not value:
        raise QuerySyntaxError(f"{name}: needs a value, e.g. {name}:something")
    if name == "year":
        query = _year(value)
        parsed.year_ranges.append((query.start, query.end))
        return query
    if name in FILTER_FIELDS:
        field_name = FILTER_FIELDS[name]
        values = [v.lower() if field_name == "topic" else v for v in value.split(",") if v]
        parsed.facet_filters.append((field_name, values))
        return _one_of(field_name, values)
    if name in codebook_keys:
        values = [f"{name}={v}" for v in value.split(",") if v]
        parsed.facet_filters.append(("coding", values))
        return _one_of("coding", values)
    known = ", ".join([*FILTER_FIELDS, "<codebook key>"])
    raise QuerySyntaxError(f"unknown field {name!r}; fields are: {known}")


def _one_of(field_name: str, values: list[str]) -> wq.Query:
    terms = [wq.Term(field_name, v) for v in values if v]
    return terms[0] if len(terms) == 1 else wq.Or(terms)


def _year(value: str) -> wq.NumericRange:
    match = _YEAR_RANGE.match(value)
    if not match or not (match.group("low") or match.group("high")):
        raise QuerySyntaxError(
            f"year:{value} is not a year or range; write year:2013 or year:2011..2014"
        )
    low = int(match.group("low")) if match.group("low") else None
    high = int(match.group("high")) if match.group("high") else None
    if not match.group("dots"):
        high = low
    if low is not None and high is not None and low > high:
        raise QuerySyntaxError(f"year:{value} runs backwards; write the earlier year first")
    return wq.NumericRange("year", low, high)
