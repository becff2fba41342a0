"""The search query language (docs/search.md), parsed into whoosh queries with clear errors."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from whoosh import query as wq

from kb.errors import QuerySyntaxError
from search_index.analysis import legal_analyzer

MAX_QUERY_CHARS = 1000
TEXT_FIELDS = ("content",)
PHRASE_FIELDS = ("content",)
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


@dataclass
class ParsedQuery:
    text_query: wq.Query | None
    """What is scored: words, phrases, fuzzy terms; None when only filters were given."""
    filters: list[wq.Query] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    """Plain words as typed, for "did you mean"."""
    terms: list[str] = field(default_factory=list)
    """The analyzed terms of the plain words: every one is required."""
    facet_filters: list[tuple[str, list[str]]] = field(default_factory=list)
    """(index field, accepted values) pairs; a document must match every pair."""
    year_ranges: list[tuple[int | None, int | None]] = field(default_factory=list)
    phrase_terms: list[str] = field(default_factory=list)
    """The analyzed terms of the quoted phrases."""
    simple: bool = True
    """Only words and filters: no phrase or fuzzy term."""
    fuzzy: bool = False

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
                parsed.phrase_terms.extend(analyzed(text[match.end() : end]))
                parsed.simple = False
            pos = end + 1
            continue
        if match.group("field") is not None:
            parsed.filters.append(
                _filter(match.group("field"), match.group("value"), codebook_keys, parsed)
            )
        elif match.group("fuzzy") is not None:
            scored.append(_fuzzy(match.group("fuzzy"), match.group("distance")))
            parsed.simple = False
            parsed.fuzzy = True
        elif match.group("word") is not None:
            word = match.group("word")
            terms = analyzed(word)
            if terms:
                parsed.words.append(word)
                parsed.terms.extend(terms)
                scored.append(_any_field(terms))
        pos = match.end()
    if scored:
        parsed.text_query = scored[0] if len(scored) == 1 else wq.And(scored)
    return parsed


def _any_field(terms: list[str]) -> wq.Query:
    """One typed word (which may analyze to several terms): all its terms, in any text field."""
    per_term = [wq.Or([wq.Term(f, t) for f in TEXT_FIELDS]) for t in terms]
    return per_term[0] if len(per_term) == 1 else wq.And(per_term)


def _phrase(inside: str) -> wq.Query | None:
    terms = analyzed(inside)
    if not terms:
        return None
    if len(terms) == 1:
        return _any_field(terms)
    return wq.Or([wq.Phrase(f, terms) for f in PHRASE_FIELDS])


def _fuzzy(word: str, distance: str) -> wq.Query:
    terms = analyzed(word)
    if len(terms) != 1:
        raise QuerySyntaxError(f"fuzzy search takes one plain word: {word!r}~")
    maxdist = int(distance) if distance else 1
    if not 1 <= maxdist <= 2:
        raise QuerySyntaxError(f"fuzzy distance must be 1 or 2, not {distance}")
    return wq.Or(
        [wq.FuzzyTerm(f, terms[0], maxdist=maxdist, prefixlength=1) for f in PHRASE_FIELDS]
    )


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
