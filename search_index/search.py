"""Searching the current index generation: ranked hits, facet counts, safe highlights, suggestions.

One SearchIndex per process. Each thread keeps its own whoosh searcher for the generation that
`current` points at, and reopens only when a build switches generations; facet values are read
once per generation and shared.
"""

from __future__ import annotations

import html
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh import highlight
from whoosh.index import EmptyIndexError, open_dir

from kb.errors import IndexUnavailable, QuerySyntaxError
from search_index.generations import current_generation
from search_index.query import ParsedQuery, parse
from search_index.schema import FACETS

SORTS = ("relevance", "date")
MAX_PER_PAGE = 100
SNIPPET_CHARS = 240


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


class _MarkFormatter(highlight.Formatter):  # type: ignore[misc]
    """Escape the source text first, then add <mark> around matches."""

    between = " … "

    def _text(self, text: str) -> str:
        return html.escape(text, quote=False)

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return f"<mark>{html.escape(highlight.get_text(text, token, replace), quote=False)}</mark>"


class _FacetValues:
    """Per-document facet values of one generation, for counting any result set quickly."""

    def __init__(self, reader: Any) -> None:
        self.values: dict[str, list[tuple[str, ...]]] = {name: [] for name in FACETS}
        self.dates: list[str] = []
        for _docnum, stored in sorted(reader.iter_docs(), key=lambda pair: pair[0]):
            self.values["jurisdiction"].append(
                (stored["jurisdiction"],) if stored["jurisdiction"] else ()
            )
            self.values["topic"].append(tuple(stored["topic"].split()))
            self.values["status"].append((stored["status"],) if stored["status"] else ())
            self.values["level"].append((stored["level"],) if stored["level"] else ())
            self.values["year"].append((str(stored["year"]),) if stored["year"] else ())
            self.dates.append(stored["date"])

    def count(self, docnums: list[int]) -> dict[str, list[tuple[str, int]]]:
        facets = {}
        for name, per_doc in self.values.items():
            counter: Counter[str] = Counter()
            for docnum in docnums:
                counter.update(per_doc[docnum])
            ordered = sorted(
                counter.items(),
                key=(lambda kv: kv[0]) if name == "year" else (lambda kv: (-kv[1], kv[0])),
            )
            facets[name] = ordered
        return facets


class _Generation:
    def __init__(self, path: Path, facets: _FacetValues | None) -> None:
        self.path = path
        try:
            self.index = open_dir(str(path))
        except (EmptyIndexError, OSError) as exc:
            raise IndexUnavailable(
                f"cannot open the search index at {path}: run `kb index`"
            ) from exc
        self.searcher = self.index.searcher()
        self.facets = facets or _FacetValues(self.searcher.reader())
        self.version = (path / "KB_VERSION").read_text() if (path / "KB_VERSION").exists() else ""
        self.codebook_keys = frozenset(
            term.decode().split("=", 1)[0] for term in self.searcher.lexicon("coding")
        )


class SearchIndex:
    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._local = threading.local()
        self._facets: dict[Path, _FacetValues] = {}
        self._lock = threading.Lock()

    def _generation(self) -> _Generation:
        path = current_generation(self.index_dir)
        if path is None:
            raise IndexUnavailable(
                f"there is no search index in {self.index_dir}: run `kb index` (or `kb build`)"
            )
        current: _Generation | None = getattr(self._local, "generation", None)
        if current is not None and current.path == path:
            return current
        with self._lock:
            opened = _Generation(path, self._facets.get(path))
            self._facets = {path: opened.facets}  # older generations are no longer needed
        if current is not None:
            current.searcher.close()
        self._local.generation = opened
        return opened

    def search(
        self,
        text: str,
        *,
        page: int = 1,
        per_page: int = 20,
        sort: str = "relevance",
        with_facets: bool = True,
        with_highlights: bool = True,
    ) -> SearchResult:
        if sort not in SORTS:
            raise QuerySyntaxError(f"sort must be one of: {', '.join(SORTS)}")
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
            raise QuerySyntaxError(f"page starts at 1 and per_page is 1 to {MAX_PER_PAGE}")
        gen = self._generation()
        parsed = parse(text, gen.codebook_keys)
        searcher = gen.searcher
        everything = parsed.combined()
        start = (page - 1) * per_page
        if sort == "date" or parsed.text_query is None:
            matched = sorted(searcher.docs_for_query(everything))
            if sort == "date":
                matched.sort(key=lambda d: gen.facets.dates[d], reverse=True)
            total = len(matched)
            hits = [
                self._hit(searcher.stored_fields(d), None, None, parsed)
                for d in matched[start : start + per_page]
            ]
            docnums = matched
        else:
            results = searcher.search(
                parsed.text_query, filter=parsed.filter_query(), limit=start + per_page, terms=True
            )
            results.formatter = _MarkFormatter()
            results.fragmenter = highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60)
            total = len(results)
            hits = [
                self._hit(hit.fields(), hit.score, hit, parsed)
                for hit in results[start : start + per_page]
            ]
            docnums = sorted(searcher.docs_for_query(everything)) if with_facets else []
        return SearchResult(
            query=text,
            total=total,
            page=page,
            per_page=per_page,
            sort=sort,
            hits=hits,
            facets=gen.facets.count(docnums) if with_facets else {},
            suggestion=self._suggest(gen, text, parsed) if total == 0 else None,
            version=gen.version,
        )

    def _hit(
        self, stored: dict[str, Any], score: float | None, hit: Any, parsed: ParsedQuery
    ) -> Hit:
        snippet = ""
        if hit is not None:
            snippet = hit.highlights("summary", top=2)
        if not snippet:
            summary = stored["summary"]
            cut = (
                summary
                if len(summary) <= SNIPPET_CHARS
                else summary[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
            )
            snippet = html.escape(cut, quote=False)
        snippet = " ".join(snippet.split())
        return Hit(
            id=stored["id"],
            kind=stored["kind"],
            protocol_id=stored["protocol_id"],
            jurisdiction=stored["jurisdiction"],
            jurisdiction_name=stored["jurisdiction_name"],
            title=stored["title"],
            cite=stored["cite"],
            heading=stored["heading"],
            status=stored["status"],
            year=stored["year"],
            topics=stored["topic"].split(),
            score=score,
            highlight=snippet,
        )

    def _suggest(self, gen: _Generation, text: str, parsed: ParsedQuery) -> str | None:
        """The query with misspelled words replaced by the closest indexed words, if any differ."""
        corrector = gen.searcher.corrector("words")
        corrected = text
        changed = False
        for word in parsed.words:
            lowered = word.lower()
            if gen.searcher.doc_frequency("words", lowered):
                continue
            suggestions = corrector.suggest(lowered, limit=1, maxdist=2)
            if suggestions and suggestions[0] != lowered:
                corrected = corrected.replace(word, suggestions[0], 1)
                changed = True
        return corrected if changed else None
