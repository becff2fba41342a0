"""Searching the current index generation: ranked hits, facet counts, safe highlights, suggestions.

One SearchIndex per process. It opens the generation that `current` points at once, for every
thread (the arrays of search_index.accel and the stored documents of search_index.stored), and
opens another only when a build switches generations. Queries are answered from those arrays
(BM25F weights as whoosh's scorer computes them); whoosh's code still analyses queries, expands
fuzzy words (its Levenshtein automaton, over the arrays' terms) and highlights.
"""

from __future__ import annotations

import html
import threading
from collections import OrderedDict
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from whoosh import highlight
from whoosh.analysis import Token
from whoosh.spelling import ListCorrector

from kb.errors import IndexUnavailable, QuerySyntaxError
from search_index.accel import Accelerator, Mask
from search_index.analysis import LEGAL_STOP_WORDS, legal_analyzer
from search_index.build import generation_version
from search_index.generations import current_generation
from search_index.query import NOT_SEARCHED, ParsedQuery, WordGroup, analyzed, parse
from search_index.results import Hit, SearchResult
from search_index.stored import StoredFields

__all__ = ["MAX_PER_PAGE", "SORTS", "Hit", "SearchIndex", "SearchResult", "minimum_matched"]

SORTS = ("relevance", "date")
MAX_PER_PAGE = 100
SNIPPET_CHARS = 240
COMMON_SHARE = 0.15
"""A word held by more than this share of the records is common: records are ranked in tiers
by the other words they match (docs/search.md)."""
_HIGHLIGHT_ANALYZER = legal_analyzer(stem=True)
STORED_MEMO = 4096
"""Documents whose stored fields a generation keeps in memory (least recently used dropped
first): about 2 KB each, so about 8 MB at most."""
HIGHLIGHT_MEMO = 1024
"""Summaries whose analysed tokens are kept for highlighting (per process, least recently used
dropped first): about 8 KB each at most, so about 8 MB."""
RERANK_POOL = 200
"""How many of the best records are ranked again once forms of several words said apart count
less (_best_said)."""
SNIPPET_MEMO = 4096
"""Highlighted snippets kept, by summary and the query terms found in it (least recently used
dropped first): under 1 KB each, so about 4 MB at most."""


@lru_cache(maxsize=HIGHLIGHT_MEMO)
def _analysed(summary: str) -> tuple[tuple[str, int, int, int, float, bool], ...]:
    """The tokens whoosh's highlighter would analyse `summary` into, as plain tuples. Keyed by
    stored text, never by a query, so the memo holds at most the index's summaries."""
    return tuple(
        (t.text, t.startchar, t.endchar, t.pos, t.boost, t.stopped)
        for t in _HIGHLIGHT_ANALYZER(
            summary, positions=True, chars=True, mode="query", removestops=False
        )
    )


@lru_cache(maxsize=HIGHLIGHT_MEMO)
def _terms_of(summary: str) -> frozenset[str]:
    return frozenset(token[0] for token in _analysed(summary))


@lru_cache(maxsize=SNIPPET_MEMO)
def _snippet(summary: str, matched: frozenset[str]) -> str:
    """The summary's best two passages around `matched` (the query's terms that occur in it),
    escaped, matches in <mark>; its start when nothing matched. A query's other terms cannot
    change the passages, so the memo is keyed by what matched, not by the query."""
    snippet = ""
    if matched:
        snippet = highlight.highlight(
            summary,
            matched,
            _replay_analysis,
            highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60),
            _MarkFormatter(),
            top=2,
        )
    if not snippet:
        cut = (
            summary
            if len(summary) <= SNIPPET_CHARS
            else summary[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
        )
        snippet = html.escape(cut, quote=False)
    return " ".join(snippet.split())


def _replay_analysis(summary: str, **_options: Any) -> Iterator[Token]:
    """An analyzer for whoosh's highlight(): the remembered tokens, in one reused Token as
    whoosh's own analyzers yield them (the fragmenter copies the ones it keeps)."""
    token = Token(positions=True, chars=True, removestops=False, mode="query")
    for (
        token.text,
        token.startchar,
        token.endchar,
        token.pos,
        token.boost,
        token.stopped,
    ) in _analysed(summary):
        yield token


class _MarkFormatter(highlight.Formatter):  # type: ignore[misc]
    """Escape the source text first, then add <mark> around matches."""

    between = " … "

    def _text(self, text: str) -> str:
        return html.escape(text, quote=False)

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return f"<mark>{html.escape(highlight.get_text(text, token, replace), quote=False)}</mark>"


NOT_READY = "the search index is not ready: run `kb index`"
"""What a client is told; the operator's message names the folder."""


class _Generation:
    """One opened index generation, shared by every thread: the arrays and the stored
    documents; the documents read are remembered (under `lock`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        version = generation_version(path)
        if version is None:
            raise IndexUnavailable(
                f"the search index at {path} was built by another version of protocol-kb: "
                "run `kb index`",
                NOT_READY,
            )
        try:
            self.accel = Accelerator.load(path)
            self.stored = StoredFields(path)
        except (OSError, ValueError, KeyError) as exc:
            raise IndexUnavailable(
                f"cannot open the search index at {path}: run `kb index`", NOT_READY
            ) from exc
        self.lock = threading.Lock()
        self.version = version
        self.codebook_keys = frozenset(term.split("=", 1)[0] for term in self.accel.coding)
        self.names = self.accel.names
        self.corrector = ListCorrector(
            [
                w
                for w in self.accel.words
                if len(w) > 2 and w not in LEGAL_STOP_WORDS and w not in NOT_SEARCHED
            ]
        )
        self._stored: OrderedDict[int, dict[str, Any]] = OrderedDict()

    def stored_fields(self, docnum: int) -> dict[str, Any]:
        """A document's stored fields (shared: read them, never change them)."""
        with self.lock:
            found = self._stored.get(docnum)
            if found is None:
                found = self._stored[docnum] = self.stored.get(docnum)
                if len(self._stored) > STORED_MEMO:
                    self._stored.popitem(last=False)
            else:
                self._stored.move_to_end(docnum)
            return found


class SearchIndex:
    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._current: _Generation | None = None
        self._lock = threading.Lock()

    def _generation(self) -> _Generation:
        path = current_generation(self.index_dir)
        if path is None:
            raise IndexUnavailable(
                f"there is no search index in {self.index_dir}: run `kb index` (or `kb build`)",
                NOT_READY,
            )
        current = self._current
        if current is not None and current.path == path:
            return current
        with self._lock:
            if self._current is None or self._current.path != path:
                # The generation it replaces is closed when the last search using it lets go
                # of it (its files stay readable until then, even once deleted).
                self._current = _Generation(path)
            return self._current

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
        parsed = parse(text, gen.codebook_keys, gen.names)
        wanted = page * per_page
        # The arrays rank everything with BM25F weights (a phrase scores as the sum of its
        # terms in whoosh too). Phrases are found through the pair table or shifted positions;
        # a fuzzy word becomes a group of the indexed words within its edit distance.
        groups = parsed.groups + [
            self._fuzzy_group(gen, term, distance) for term, distance in parsed.fuzzy
        ]
        mask = self._filter_mask(gen.accel, parsed)
        for phrase in parsed.phrases:
            phrase_mask = gen.accel.phrase(phrase)
            mask &= phrase_mask
        scores = rank = None
        group_masks: list[Mask] = []
        complete_mask = mask
        if groups or parsed.phrases:
            group_masks, scores = gen.accel.score(groups, parsed.phrase_terms)
            scores = scores + gen.accel.bonus(groups)
            rank = scores
            if group_masks:
                # Records with every word first, then those with most of them (docs/search.md).
                count = np.zeros(gen.accel.doc_count, dtype=np.int16)
                tier = np.zeros(gen.accel.doc_count, dtype=np.int16)
                for group, group_mask in zip(groups, group_masks, strict=True):
                    count += group_mask
                    if group.required:
                        mask &= group_mask
                    # A word most records hold ("all", "county") does not decide the tier.
                    if _holders(gen.accel, group, group_mask) <= COMMON_SHARE * gen.accel.doc_count:
                        tier += group_mask
                complete_mask = mask & (count == len(group_masks))
                mask &= count >= minimum_matched(len(group_masks))
                rank = tier * (float(scores.max()) + 1.0) + scores
        if sort == "relevance" and rank is not None and scores is not None and groups:
            docnums, scores = self._best_said(gen.accel, mask, rank, scores, groups, wanted)
        else:
            docnums = gen.accel.top(mask, rank if sort == "relevance" else None, wanted)
        terms = frozenset(parsed.phrase_terms).union(*(g.terms() for g in groups))
        total = int(mask.sum())
        hits = [
            self._hit(
                gen.stored_fields(d),
                None if scores is None else float(scores[d]),
                terms if with_highlights else frozenset(),
                [g.word for g, m in zip(groups, group_masks, strict=True) if m[d]],
                [g.word for g, m in zip(groups, group_masks, strict=True) if not m[d]],
            )
            for d in docnums[(page - 1) * per_page :]
        ]
        return SearchResult(
            query=text,
            total=total,
            page=page,
            per_page=per_page,
            sort=sort,
            hits=hits,
            facets=gen.accel.facet_counts(mask) if with_facets else {},
            suggestion=self._suggest(gen, text, parsed, groups, group_masks),
            version=gen.version,
            complete=int(complete_mask.sum()),
        )

    @staticmethod
    def _best_said(
        accel: Accelerator,
        mask: Mask,
        rank: NDArray[np.float64],
        scores: NDArray[np.float64],
        groups: list[WordGroup],
        wanted: int,
    ) -> tuple[list[int], NDArray[np.float64]]:
        """The first `wanted` records once forms of several words said apart count less
        (accel.scattered_loss): the best RERANK_POOL records by the ranking without it (four
        times `wanted` if that is more) are ranked again, so the cost stays the same at any
        size of index."""
        pool = np.flatnonzero(mask)
        size = max(RERANK_POOL, 4 * wanted)
        if len(pool) > size:
            pool = pool[np.argpartition(-rank[pool], size - 1)[:size]]
        loss = accel.scattered_loss(groups, pool)
        if not loss.any():
            return accel.top(mask, rank, wanted), scores
        order = np.lexsort((pool, loss - rank[pool]))[:wanted]
        scores = scores.copy()
        scores[pool] -= loss
        return [int(d) for d in pool[order]], scores

    @staticmethod
    def _fuzzy_group(gen: _Generation, term: str, distance: int) -> WordGroup:
        """The indexed words within `distance` edits (same first letter), as whoosh's FuzzyTerm
        finds them; a document matches if it holds any."""
        words = gen.accel.terms_within(term, distance)
        return WordGroup(f"{term}~", tuple((w,) for w in words) or ((term,),), fields=("content",))

    @staticmethod
    def _filter_mask(accel: Accelerator, parsed: ParsedQuery) -> Mask:
        mask = accel.everything()
        for name, values in parsed.facet_filters:
            mask &= accel.where(name, values)
        for low, high in parsed.year_ranges:
            mask &= accel.years(low, high)
        return mask

    @staticmethod
    def _hit(
        stored: dict[str, Any],
        score: float | None,
        terms: frozenset[str],
        matched_words: list[str] | None = None,
        unmatched_words: list[str] | None = None,
    ) -> Hit:
        summary = stored["summary"]
        matched = terms & _terms_of(summary) if terms else frozenset()
        snippet = _snippet(summary, matched)
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
            matched=matched_words or [],
            unmatched=unmatched_words or [],
        )

    @staticmethod
    def _suggest(
        gen: _Generation,
        text: str,
        parsed: ParsedQuery,
        groups: list[WordGroup],
        group_masks: list[Mask],
    ) -> str | None:
        """The query with each word that matches nothing replaced by the closest indexed word
        that does (never a stop word, a number or a word that is already found)."""
        unmatched = {
            g.word for g, m in zip(groups, group_masks, strict=True) if not g.names and not m.any()
        }
        corrected = text
        changed = False
        for word in parsed.words:
            lowered = word.lower()
            if word not in unmatched or not lowered.isalpha():
                continue
            for suggestion in gen.corrector.suggest(lowered, limit=3, maxdist=2):
                terms = analyzed(suggestion)
                if (
                    suggestion != lowered
                    and terms
                    and all(
                        f"content:{t}" in gen.accel.term_index
                        or f"meta:{t}" in gen.accel.term_index
                        for t in terms
                    )
                ):
                    corrected = corrected.replace(word, suggestion, 1)
                    changed = True
                    break
        return corrected if changed else None


def _holders(accel: Accelerator, group: WordGroup, group_mask: Mask) -> int:
    """How many records hold a word, to tell whether it is common (COMMON_SHARE): those that
    hold it as typed, in their own text or their protocol's description, and those that hold one
    of its other forms (a synonym, a thesaurus form, the parts of a cite) in their own text. A
    description is shared by every provision of its protocol, so a synonym that a few overviews
    mention ("minor" for "menores de edad") would otherwise make the word common and let records
    without it into the first tier. A name's records are its holders (group_mask)."""
    if group.names or len(group.alternatives) < 2:
        return int(group_mask.sum())
    held = ~accel.everything()
    for number, alternative in enumerate(group.alternatives):
        fields = group.fields if number == 0 else ("content",)
        alternative_mask = accel.everything()
        for term in alternative:
            term_mask = ~accel.everything()
            for field_name in fields:
                term_mask[accel.postings(field_name, term)[0]] = True
            alternative_mask &= term_mask
        held |= alternative_mask
    return int(held.sum())


def minimum_matched(groups: int) -> int:
    """How many of a query's word groups (words, names, thesaurus phrases) a record must match:
    half, rounded up, and at least one (docs/search.md)."""
    return max(1, (groups + 1) // 2)
