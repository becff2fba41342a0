"""The search query language (docs/search.md), parsed into whoosh queries with clear errors."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from whoosh import query as wq

from kb.errors import QuerySyntaxError
from search_index.analysis import compound_parts, legal_analyzer, stem
from search_index.names import Entry, find_names, normalize
from search_index.synonyms import SYNONYMS
from search_index.thesaurus import EXPANSION_WEIGHT, expansions, find_phrases

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


SPANISH_FUNCTION_WORDS = frozenset(
    {
        "de",
        "del",
        "el",
        "la",
        "los",
        "las",
        "y",
        "o",
        "en",
        "por",
        "para",
        "que",
        "con",
        "un",
        "una",
        "unos",
        "unas",
        "se",
        "su",
        "sus",
        "al",
        "lo",
        "le",
        "les",
        "es",
        "si",
        "mi",
        "qué",
        "cómo",
        "cuándo",
        "dónde",
        "quién",
        "cuál",
    }
)
"""Spanish words as common as English stop words: not searched outside quotes and thesaurus
forms ("orden de retención" keeps its "de"), never offered by "did you mean"."""
NOT_SEARCHED = QUESTION_WORDS | SPANISH_FUNCTION_WORDS
DEFINITION_TERMS = frozenset({"defin", "definit", "definicion", "definición"})
"""Words that ask for a definition (define, defined, definition, definitions, definición)."""
DEFINITIONS: tuple[Entry, ...] = (("topic", "scope-definitions", 0.5),)
"""What a word asking for a definition also matches: the provisions on scope and definitions,
whether or not they use the word, with half a name's bonus (search_index.accel.NAME_SCORE)."""


@dataclass(frozen=True)
class WordGroup:
    """One typed word (or a name, or a thesaurus phrase): it matches when any alternative
    matches, an alternative when all its terms do (in either text field), or when the record
    belongs to one of `names`. Alternatives are the word itself, the parts of a cite or
    hyphenated word (`48-hour` -> 48 hour), synonyms (search_index.synonyms) and thesaurus forms
    (search_index.thesaurus, weighing EXPANSION_WEIGHT)."""

    word: str
    alternatives: tuple[tuple[str, ...], ...]
    fields: tuple[str, ...] = ("content", "meta")
    """Where the terms are looked for; fuzzy words look in the provision's own text only."""
    weights: tuple[float, ...] = ()
    """Per alternative; 1.0 for each when empty."""
    names: tuple[Entry, ...] = ()
    """(facet, value, weight): the records of a place or law this group names, or of the kind
    of provision it asks for (DEFINITIONS)."""
    required: bool = False
    """Typed with a leading +: a record must match it."""

    def terms(self) -> set[str]:
        return {term for alternative in self.alternatives for term in alternative}

    def weighted(self) -> list[tuple[tuple[str, ...], float]]:
        weights = self.weights or (1.0,) * len(self.alternatives)
        return list(zip(self.alternatives, weights, strict=True))


@dataclass
class ParsedQuery:
    text_query: wq.Query | None
    """What whoosh would score if every group were required: words, phrases, fuzzy terms; None
    when only filters were given."""
    filters: list[wq.Query] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    """Plain words as typed, for "did you mean"."""
    groups: list[WordGroup] = field(default_factory=list)
    """The plain words, names and thesaurus phrases, each with its alternatives."""
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

    def filter_query(self) -> wq.Query | None:
        if not self.filters:
            return None
        return self.filters[0] if len(self.filters) == 1 else wq.And(self.filters)


def analyzed(text: str) -> list[str]:
    return list(_analyzed(text))


@lru_cache(maxsize=16_384)
def _analyzed(text: str) -> tuple[str, ...]:
    """Query-time analysis, remembered: thesaurus forms are analysed on every query."""
    return tuple(t.text for t in _ANALYZER(text, mode="query"))


def parse(
    text: str,
    codebook_keys: frozenset[str],
    names: dict[str, list[Entry]] | None = None,
) -> ParsedQuery:
    """Read `text`; `names` (search_index.names) turns place and law names into groups."""
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(
            f"the query is {len(text):,} characters long; the limit is {MAX_QUERY_CHARS:,}"
        )
    if _CONTROL.search(text):
        raise QuerySyntaxError("the query contains control characters; type plain text")
    scored: list[wq.Query] = []
    parsed = ParsedQuery(text_query=None)
    run: list[str] = []  # plain words typed one after another, read together at the end of a run

    def end_run() -> None:
        for group in _run_groups(run, names or {}):
            parsed.groups.append(group)
            scored.append(_group_query(group))
            if not group.names and len(group.word.split()) == 1:
                parsed.words.append(group.word)
        run.clear()

    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:  # pragma: no cover - the word alternative matches any other character
            raise QuerySyntaxError(f"cannot read the query at position {pos + 1}")
        kind = match.lastgroup
        if kind == "space":
            pos = match.end()
            continue
        if kind == "word" and not match.group("word").startswith("+"):
            run.append(match.group("word"))
            pos = match.end()
            continue
        end_run()
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
        elif match.group("word") is not None:  # +word: required
            group = word_group(match.group("word")[1:], required=True)
            if group is not None:
                parsed.words.append(group.word)
                parsed.groups.append(group)
                scored.append(_group_query(group))
        pos = match.end()
    end_run()
    if scored:
        parsed.text_query = scored[0] if len(scored) == 1 else wq.And(scored)
    return parsed


def _run_groups(run: list[str], names: dict[str, list[Entry]]) -> list[WordGroup]:
    """The groups of a run of plain words: names and thesaurus phrases (longest first, a name
    winning a tie), then single words."""
    named = {start: end for start, end in find_names(run, names)}
    phrases = {start: end for start, end in find_phrases(run)}
    groups: list[WordGroup] = []
    i = 0
    while i < len(run):
        name_end, phrase_end = named.get(i, i), phrases.get(i, i)
        if name_end > i and name_end >= phrase_end:
            typed = " ".join(run[i:name_end])
            key = normalize(typed)
            terms = tuple(analyzed(typed))
            groups.append(WordGroup(typed, (terms,) if terms else (), names=tuple(names[key])))
            i = name_end
        elif phrase_end > i:
            group = word_group(" ".join(run[i:phrase_end]))
            if group is not None:
                groups.append(group)
            i = phrase_end
        else:
            group = word_group(run[i])
            if group is not None:
                groups.append(group)
            i += 1
    return groups


def word_group(word: str, required: bool = False) -> WordGroup | None:
    """The alternatives of a typed word or thesaurus phrase; None for a word that is not
    searched (NOT_SEARCHED)."""
    if word.lower() in NOT_SEARCHED:
        return None
    terms = tuple(analyzed(word))
    expanded = expansions(word)
    if not terms and not expanded:
        return None
    alternatives: list[tuple[str, ...]] = [terms]
    if len(terms) == 1:
        parts = compound_parts(terms[0])
        if len(parts) > 1:
            alternatives.append(tuple(stem(p) if p.isalpha() else p for p in parts))
    for synonym in SYNONYMS.get(word.lower(), ()):
        alternatives.append(tuple(analyzed(synonym)))
    weights = {alt: 1.0 for alt in alternatives if alt}
    for form in expanded:
        form_terms = tuple(analyzed(form))
        # "immigration detainer" for "detainer": the typed word already counts where it is found.
        if terms and set(terms) <= set(form_terms):
            continue
        weights.setdefault(form_terms, EXPANSION_WEIGHT)
    weights.pop((), None)
    kinds = DEFINITIONS if set(terms) & DEFINITION_TERMS else ()
    return WordGroup(
        word, tuple(weights), weights=tuple(weights.values()), names=kinds, required=required
    )


def _term(term: str, weight: float = 1.0) -> wq.Query:
    """A term in either text field; the protocol's name and citation weigh less."""
    return wq.Or(
        [wq.Term("content", term, boost=weight), wq.Term("meta", term, boost=META_BOOST * weight)]
    )


def _group_query(group: WordGroup) -> wq.Query:
    alternatives = [
        _term(alt[0], weight) if len(alt) == 1 else wq.And([_term(t, weight) for t in alt])
        for alt, weight in group.weighted()
    ]
    if not alternatives:
        return wq.NullQuery
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
