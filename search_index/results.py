"""What a search answers, in the project's own types: `kb`, `kbcli` and `api` see these, never
whoosh's objects (which stay inside search_index/)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Hit:
    id: str
    kind: str
    protocol_id: str
    jurisdiction: str
    jurisdiction_name: str
    title: str
    cite: str
    heading: str
    status: str
    year: int
    topics: list[str]
    score: float | None
    highlight: str
    """HTML-safe: the source text is escaped, then matches are wrapped in <mark>."""
    matched: list[str] = field(default_factory=list)
    """The query's words (or names, or thesaurus phrases) this record matches, as typed."""
    unmatched: list[str] = field(default_factory=list)
    """The query's words this record does not match: empty when it matches them all."""


@dataclass
class SearchResult:
    query: str
    total: int
    page: int
    per_page: int
    sort: str
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    suggestion: str | None = None
    version: str = ""
    complete: int = 0
    """How many of the `total` records match every word (they rank first); the rest match
    only some (docs/search.md, "Words that are not all found")."""
