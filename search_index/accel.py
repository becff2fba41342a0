"""Arrays kept beside each index generation so common queries and facet counts never walk
posting lists in Python: every text term's documents with their BM25F weights (computed by
whoosh's own scorer, so rankings match whoosh's), and every document's facet values as codes.
"""

from __future__ import annotations

import gzip
import json
import re
from array import array
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from whoosh import scoring

from search_index.analysis import compound_forms, compound_parts, legal_analyzer
from search_index.names import Entry
from search_index.query import META_BOOST, WordGroup
from search_index.schema import FACETS

ARRAYS = "accel.npz"
LISTS = "accel.json.gz"
TEXT_FIELDS = ("content", "meta")
SINGLE_FACETS = ("jurisdiction", "status", "level", "year", "kind", "state", "protocol_id")
_WORD = re.compile(r"[^\W\d_][^\W_'-]*", re.UNICODE)

Mask = NDArray[np.bool_]
WHERE_MEMO = 256
"""Facet masks kept per generation (one bit-per-document array each: 45 KB at 45,000)."""
CITE_SCORE = 24.0
"""What a typed cite adds to a provision whose own cite is that section, a quarter as much for
each subdivision deeper: "§ 7282.5" means the section's opening rule, § 7282.5(a), more than
§ 7282.5(a)(4)."""
HEADING_SCORE = 3.0
"""What a typed word in a provision's heading adds, beyond its weight in the text."""
PAIR_SCORE = 3.0
"""What holding two typed words next to each other, as typed, adds to a record's score."""
NAME_SCORE = 4.0
"""What belonging to a place or law a query names adds to a record's score (about one
distinctive word's BM25F weight)."""
BACKGROUND_TOPIC = "findings-purpose"
BACKGROUND_PENALTY = 2.0
"""Findings, recitals and statements of purpose repeat every word of a law without being its
rule: they rank lower, unless the query asks for them (BACKGROUND_WORDS)."""
BACKGROUND_WORDS = frozenset({"find", "purpos", "recit", "fact", "intent", "why", "whereas"})
SCATTERED_LOSS = 0.5
"""A form of several words (a thesaurus or synonym form, a cite's parts, a typed phrase of the
thesaurus) found with its words apart rather than side by side loses this share of their weight:
"person in custody" is not said by a provision that mentions a person and, later, custody."""
TOPIC_SCORE = 3.0
"""What a provision gains for each of its topics the query names, every word of the topic's id
in some form: topics are tagged by people who read the provision."""
ANSWER_SCORE = 5.0
"""What a provision gains when the query names a codebook question (every word of its key in
some form: "juvenile holds" names juvenile_holds) and the protocol's coded answer to it rests on
that provision: the people who coded the protocol read it as the rule that answers it."""
NOT_IN_FORCE = (
    *("superseded", "repealed", "expired", "struck_down", "preempted"),
    *("introduced", "passed", "vetoed"),
)
NOT_IN_FORCE_PENALTY = 2.75
"""A provision of a law that no longer governs (replaced, repealed, lapsed, struck down or
preempted) or never did (a bill only introduced, passed or vetoed) ranks below the same rule in
a law in force: most such laws have a successor, or a law in force elsewhere, that says the
same. Not when the query names the status ("veto", "repealed")."""


def write(
    index: Any, docs: list[dict[str, Any]], generation: Path, names: dict[str, list[Entry]]
) -> None:
    """Read the committed whoosh index back into flat arrays (once per build)."""
    searcher = index.searcher(weighting=scoring.BM25F())
    try:
        reader = searcher.reader()
        term_names: list[str] = []
        offsets = [0]
        doc_chunks: list[NDArray[np.int32]] = []
        weight_chunks: list[NDArray[np.float64]] = []
        # (document, position, term number) of every `content` token, for the bigram table
        occurrences: tuple[array[int], array[int], array[int]] = (
            array("i"),
            array("i"),
            array("i"),
        )
        for field_name in TEXT_FIELDS:
            for raw in reader.lexicon(field_name):
                term = raw.decode("utf-8")
                scorer = searcher.weighting.scorer(searcher, field_name, term)
                matcher = reader.postings(field_name, term)
                ids: list[int] = []
                weights: list[float] = []
                term_number = len(term_names)
                while matcher.is_active():
                    ids.append(matcher.id())
                    weights.append(scorer.score(matcher))
                    if field_name == "content":
                        for position in matcher.value_as("positions"):
                            occurrences[0].append(matcher.id())
                            occurrences[1].append(position)
                            occurrences[2].append(term_number)
                    matcher.next()
                term_names.append(f"{field_name}:{term}")
                doc_chunks.append(np.asarray(ids, dtype=np.int32))
                weight_chunks.append(np.asarray(weights, dtype=np.float64))
                offsets.append(offsets[-1] + len(ids))
        coding: dict[str, list[int]] = {}
        for raw in reader.lexicon("coding"):
            term = raw.decode("utf-8")
            coding[term] = [int(d) for d in reader.postings("coding", term).all_ids()]
        answers: dict[str, list[int]] = {}
        for raw in reader.lexicon("answers"):
            term = raw.decode("utf-8")
            answers[term] = [int(d) for d in reader.postings("answers", term).all_ids()]
    finally:
        searcher.close()

    values: dict[str, list[str]] = {}
    codes: dict[str, NDArray[np.int32]] = {}
    for name in SINGLE_FACETS:
        column = [str(doc[name]) if doc[name] not in ("", 0) else "" for doc in docs]
        values[name] = sorted({v for v in column if v})
        lookup = {v: i for i, v in enumerate(values[name])}
        codes[name] = np.asarray([lookup.get(v, -1) for v in column], dtype=np.int32)
    topics = sorted({t for doc in docs for t in doc["topic"].split()})
    topic_matrix = np.zeros((len(topics), len(docs)), dtype=np.bool_)
    for docnum, doc in enumerate(docs):
        for topic in doc["topic"].split():
            topic_matrix[topics.index(topic), docnum] = True
    date_order = sorted(range(len(docs)), key=lambda d: (docs[d]["date"], -d))
    date_rank = np.empty(len(docs), dtype=np.int32)
    date_rank[date_order] = np.arange(len(docs), dtype=np.int32)
    words = sorted(
        {w.lower() for doc in docs for w in _WORD.findall(f"{doc['content']} {doc['meta']}")}
    )

    arrays: dict[str, NDArray[Any]] = {f"codes_{name}": codes[name] for name in SINGLE_FACETS}
    arrays.update(_headings(docs, {t: i for i, t in enumerate(term_names)}))
    arrays.update(_cites(docs, {t: i for i, t in enumerate(term_names)}))
    arrays.update(_bigrams(*occurrences, term_count=len(term_names)))
    arrays.update(_positions(*occurrences, term_count=len(term_names)))
    # numpy's stubs read **kwargs of savez as its allow_pickle flag, hence the ignore.
    # Compressed: about a fifth of the size, read once per generation (docs/performance.md).
    np.savez_compressed(
        generation / ARRAYS,
        **arrays,  # type: ignore[arg-type]
        term_docs=np.concatenate(doc_chunks) if doc_chunks else np.zeros(0, np.int32),
        term_weights=np.concatenate(weight_chunks) if weight_chunks else np.zeros(0, np.float64),
        term_offsets=np.asarray(offsets, dtype=np.int64),
        topic_matrix=topic_matrix,
        date_rank=date_rank,
        year=np.asarray([int(doc["year"]) for doc in docs], dtype=np.int32),
    )
    (generation / LISTS).write_bytes(
        gzip.compress(
            json.dumps(
                {
                    "terms": term_names,
                    "values": values,
                    "topics": topics,
                    "coding": coding,
                    "answers": answers,
                    "words": words,
                    "names": names,
                }
            ).encode("utf-8"),
            compresslevel=6,
        )
    )


def _bigrams(
    docs: array[int], positions: array[int], terms: array[int], term_count: int
) -> dict[str, NDArray[Any]]:
    """Every pair of terms at consecutive positions of a document (as whoosh stored them, so
    forms of a cite and stop-word gaps behave as in whoosh's phrase matcher), with its documents:
    a two-word phrase becomes one lookup."""
    doc = np.frombuffer(docs, dtype=np.int32).astype(np.int64)
    pos = np.frombuffer(positions, dtype=np.int32).astype(np.int64)
    term = np.frombuffer(terms, dtype=np.int32).astype(np.int64)
    stride = int(pos.max()) + 2 if len(pos) else 1
    keys = doc * stride + pos
    order = np.argsort(keys, kind="stable")
    keys, doc, term = keys[order], doc[order], term[order]
    low = np.searchsorted(keys, keys + 1, side="left")
    count = np.searchsorted(keys, keys + 1, side="right") - low
    first = np.repeat(np.arange(len(keys)), count)
    within = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    second = np.repeat(low, count) + within
    pair = term[first] * term_count + term[second]
    pair_doc = doc[first]
    order = np.lexsort((pair_doc, pair))
    pair, pair_doc = pair[order], pair_doc[order]
    keep = np.ones(len(pair), dtype=np.bool_)
    keep[1:] = (pair[1:] != pair[:-1]) | (pair_doc[1:] != pair_doc[:-1])
    pair, pair_doc = pair[keep], pair_doc[keep]
    unique, starts = np.unique(pair, return_index=True)
    return {
        "bigram_keys": unique,
        "bigram_offsets": np.append(starts, len(pair)).astype(np.int64),
        "bigram_docs": pair_doc.astype(np.int32),
    }


def _headings(docs: list[dict[str, Any]], numbers: dict[str, int]) -> dict[str, NDArray[Any]]:
    """Which documents hold each `content` term in their heading (a heading that says what the
    query asks is the provision that answers it)."""
    analyzer = legal_analyzer(stem=True)
    pairs = sorted(
        {
            (numbers[f"content:{token.text}"], docnum)
            for docnum, doc in enumerate(docs)
            for token in analyzer(doc["heading"])
            if f"content:{token.text}" in numbers
        }
    )
    terms = np.asarray([t for t, _d in pairs], dtype=np.int64)
    return {
        "heading_docs": np.asarray([d for _t, d in pairs], dtype=np.int32),
        "heading_offsets": np.searchsorted(terms, np.arange(len(numbers) + 1)).astype(np.int64),
    }


def _cites(docs: list[dict[str, Any]], numbers: dict[str, int]) -> dict[str, NDArray[Any]]:
    """For each cite term (`7282.5`), the records whose own cite holds it and how many
    subdivisions deeper their cite goes (`7282.5(a)` 1, `7282.5(a)(4)` 2)."""
    analyzer = legal_analyzer(stem=False)
    found: dict[tuple[int, int], int] = {}
    for docnum, doc in enumerate(docs):
        for token in analyzer(doc["cite"], mode="query"):
            whole = token.text
            if not any(c.isdigit() for c in whole):
                continue
            for form in [whole, *compound_forms(whole)]:
                number = numbers.get(f"content:{form}")
                if form == "".join(compound_parts(whole)):  # 287g for 287(g)
                    rest = ""
                else:
                    rest = whole[len(form) :] if whole.startswith(form) else "-"
                if number is not None and (not rest or rest.startswith("(")):
                    depth = rest.count("(")
                    key = (number, docnum)
                    found[key] = min(found.get(key, depth), depth)
    keys = sorted(found)
    terms = np.asarray([t for t, _d in keys], dtype=np.int64)
    return {
        "cite_docs": np.asarray([d for _t, d in keys], dtype=np.int32),
        "cite_depths": np.asarray([found[k] for k in keys], dtype=np.int16),
        "cite_offsets": np.searchsorted(terms, np.arange(len(numbers) + 1)).astype(np.int64),
    }


PHRASE_SLACK = 64
"""Longest phrase the position arrays check; longer ones go to whoosh."""
POSITION_STRIDE = 1 << 21


def _positions(
    docs: array[int], positions: array[int], terms: array[int], term_count: int
) -> dict[str, NDArray[Any]]:
    """Every occurrence of every `content` term as (document, position), grouped by term, so a
    phrase of any length is checked by intersecting shifted positions."""
    doc = np.frombuffer(docs, dtype=np.int32)
    pos = np.frombuffer(positions, dtype=np.int32)
    term = np.frombuffer(terms, dtype=np.int32)
    order = np.lexsort((pos, doc, term))
    return {
        "occurrence_docs": doc[order].copy(),
        "occurrence_positions": pos[order].copy(),
        "occurrence_offsets": np.searchsorted(term[order], np.arange(term_count + 1)).astype(
            np.int64
        ),
    }


@dataclass
class Accelerator:
    doc_count: int
    term_index: dict[str, int]
    term_docs: NDArray[np.int32]
    term_weights: NDArray[np.float64]
    term_offsets: NDArray[np.int64]
    values: dict[str, list[str]]
    codes: dict[str, NDArray[np.int32]]
    topics: list[str]
    topic_matrix: NDArray[np.bool_]
    coding: dict[str, list[int]]
    answers: dict[str, list[int]]
    """Codebook key -> the provisions its coded answers rest on (search_index.schema)."""
    date_rank: NDArray[np.int32]
    year: NDArray[np.int32]
    words: list[str]
    names: dict[str, list[Entry]]
    bigram_keys: NDArray[np.int64]
    bigram_offsets: NDArray[np.int64]
    bigram_docs: NDArray[np.int32]
    occurrence_docs: NDArray[np.int32]
    occurrence_positions: NDArray[np.int32]
    occurrence_offsets: NDArray[np.int64]
    heading_docs: NDArray[np.int32]
    heading_offsets: NDArray[np.int64]
    cite_docs: NDArray[np.int32]
    cite_depths: NDArray[np.int16]
    cite_offsets: NDArray[np.int64]
    _where_memo: dict[tuple[str, tuple[str, ...]], Mask] = field(default_factory=dict)
    _topic_memo: list[frozenset[str]] | None = None

    @classmethod
    def load(cls, generation: Path) -> Accelerator:
        with np.load(generation / ARRAYS) as stored:
            arrays = {name: stored[name] for name in stored.files}
        lists = json.loads(gzip.decompress((generation / LISTS).read_bytes()))
        return cls(
            doc_count=len(arrays["date_rank"]),
            term_index={t: i for i, t in enumerate(lists["terms"])},
            term_docs=arrays["term_docs"],
            term_weights=arrays["term_weights"],
            term_offsets=arrays["term_offsets"],
            values=lists["values"],
            codes={name: arrays[f"codes_{name}"] for name in SINGLE_FACETS},
            topics=lists["topics"],
            topic_matrix=arrays["topic_matrix"],
            coding=lists["coding"],
            answers=lists["answers"],
            date_rank=arrays["date_rank"],
            year=arrays["year"],
            words=lists["words"],
            names={k: [tuple(e) for e in v] for k, v in lists["names"].items()},
            bigram_keys=arrays["bigram_keys"],
            bigram_offsets=arrays["bigram_offsets"],
            bigram_docs=arrays["bigram_docs"],
            occurrence_docs=arrays["occurrence_docs"],
            occurrence_positions=arrays["occurrence_positions"],
            occurrence_offsets=arrays["occurrence_offsets"],
            heading_docs=arrays["heading_docs"],
            heading_offsets=arrays["heading_offsets"],
            cite_docs=arrays["cite_docs"],
            cite_depths=arrays["cite_depths"],
            cite_offsets=arrays["cite_offsets"],
        )

    def postings(self, field_name: str, term: str) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
        i = self.term_index.get(f"{field_name}:{term}")
        if i is None:
            return np.zeros(0, np.int32), np.zeros(0, np.float64)
        start, end = self.term_offsets[i], self.term_offsets[i + 1]
        return self.term_docs[start:end], self.term_weights[start:end]

    def score(
        self, groups: list[WordGroup], phrase_terms: list[str]
    ) -> tuple[list[Mask], NDArray[np.float64]]:
        """Each word group's documents, and every document's score: a sum over every matching
        term, weighted as whoosh's And/Or matchers weigh them (search_index.query), plus the
        weight of a named place or law for its records."""
        scores = np.zeros(self.doc_count, dtype=np.float64)
        masks: list[Mask] = []
        for group in groups:
            group_mask = ~self.everything()
            for alternative, weight in group.weighted():
                alt_mask = self.everything()
                alt_scores = np.zeros(self.doc_count, dtype=np.float64)
                for term in alternative:
                    term_mask = ~self.everything()
                    for field_name in group.fields:
                        boost = META_BOOST if field_name == "meta" else 1.0
                        docs, weights = self.postings(field_name, term)
                        term_mask[docs] = True
                        alt_scores[docs] += weights * (boost * weight)
                    alt_mask &= term_mask
                group_mask |= alt_mask
                scores += np.where(alt_mask, alt_scores, 0.0)
            for facet, value, _weight in group.names:
                group_mask |= self.where(facet, [value])
            masks.append(group_mask)
        for term in phrase_terms:
            docs, weights = self.postings("content", term)
            scores[docs] += weights
        return masks, scores

    def scattered_loss(self, groups: list[WordGroup], docs: NDArray[Any]) -> NDArray[np.float64]:
        """For the records `docs` (sorted or not), what the groups' forms of several words
        ("person in custody", "civil immigration warrant") scored beyond what the records say:
        half their words' weight in a provision that holds them all but not side by side (each
        word next to the one before, from the pair table), and all of it where the words are
        split between the provision and its protocol's description (which keeps no positions:
        all its words there count). Computed for a few records at a time: search_index.search
        asks it for the best-ranked ones only."""
        loss = np.zeros(len(docs), dtype=np.float64)
        for group in groups:
            if group.names:
                continue
            for alternative, weight in group.weighted():
                if len(alternative) > 1:
                    loss += weight * self._scattered(alternative, docs)
        return loss

    def _scattered(self, terms: tuple[str, ...], docs: NDArray[Any]) -> NDArray[np.float64]:
        found = np.ones(len(docs), dtype=np.bool_)
        holds = {name: np.ones(len(docs), dtype=np.bool_) for name in TEXT_FIELDS}
        weight = {name: np.zeros(len(docs), dtype=np.float64) for name in TEXT_FIELDS}
        for term in terms:
            either = np.zeros(len(docs), dtype=np.bool_)
            for name in TEXT_FIELDS:
                inside, at, weights = _members(*self.postings(name, term), docs)
                holds[name] &= inside
                either |= inside
                boost = META_BOOST if name == "meta" else 1.0
                weight[name][inside] += weights[at[inside]] * boost
            found &= either
            if not found.any():
                return np.zeros(len(docs), dtype=np.float64)
        said = holds["content"].copy()
        numbers = [self.term_index.get(f"content:{term}") for term in terms]
        for first, second in pairwise(numbers):
            if first is None or second is None:
                said[:] = False
                break
            pair_docs = self._bigram_docs(first, second)
            said &= _members(pair_docs, np.zeros(len(pair_docs)), docs)[0]
        content_loss = np.where(said, 0.0, np.where(holds["content"], SCATTERED_LOSS, 1.0))
        meta_loss = np.where(holds["meta"], 0.0, 1.0)
        loss = weight["content"] * content_loss + weight["meta"] * meta_loss
        return np.where(found, loss, 0.0)

    def bonus(self, groups: list[WordGroup]) -> NDArray[np.float64]:
        """What whoosh's BM25F does not see: a typed word in the heading, typed words next to
        each other in the text, and belonging to a place or law the query names."""
        bonus = np.zeros(self.doc_count, dtype=np.float64)
        for group in groups:
            heading = np.zeros(self.doc_count, dtype=np.float64)
            for alternative, weight in group.weighted():
                held = self.everything()
                for term in alternative:
                    number = self.term_index.get(f"content:{term}")
                    in_heading = ~self.everything()
                    if number is not None:
                        low, high = self.heading_offsets[number], self.heading_offsets[number + 1]
                        in_heading[self.heading_docs[low:high]] = True
                    held &= in_heading
                heading = np.maximum(heading, held * weight)
            bonus += HEADING_SCORE * heading
            # A law's name ("SB 8") is not a cite: its number must not pull in § 8.
            typed = group.alternatives[0] if group.alternatives and not group.names else ()
            for term in typed:
                number = self.term_index.get(f"content:{term}")
                if number is not None and number < len(self.cite_offsets) - 1:
                    low, high = self.cite_offsets[number], self.cite_offsets[number + 1]
                    depth = self.cite_depths[low:high].astype(np.float64)
                    np.add.at(bonus, self.cite_docs[low:high], CITE_SCORE * 4.0**-depth)
            for facet, value, weight in group.names:
                bonus[self.where(facet, [value])] += NAME_SCORE * weight
        for first, second in self._typed_pairs(groups):
            bonus[self._bigram(first, second)] += PAIR_SCORE
        asked = {term for group in groups for term in group.terms()}
        if BACKGROUND_TOPIC in self.topics and not asked & BACKGROUND_WORDS:
            background = self.topic_matrix[self.topics.index(BACKGROUND_TOPIC)]
            bonus[background] -= BACKGROUND_PENALTY
        # ... unless the query asks for such laws ("TRUST Act veto", "repealed")
        unasked = [status for status in NOT_IN_FORCE if not _key_terms(status) <= asked]
        bonus[self.where("status", unasked)] -= NOT_IN_FORCE_PENALTY
        # A topic the query names, every word of it in some form ("jail access", "juvenile
        # holds" names juveniles and, through `detain`, detainers): its provisions rank higher.
        said = {
            term for group in groups for alternative in group.alternatives for term in alternative
        }
        for row, terms in enumerate(self._topic_terms()):
            if terms and terms <= said:
                bonus[self.topic_matrix[row]] += TOPIC_SCORE
        for term, docs in self.answers.items():
            key, _, silent = term.partition(":")
            if _key_terms(key) <= said:
                bonus[docs] += -ANSWER_SCORE if silent else ANSWER_SCORE
        return bonus

    def _topic_terms(self) -> list[frozenset[str]]:
        """The words of each topic's id, analysed as query words (`jail-access`: jail, access)."""
        if self._topic_memo is None:
            analyzer = legal_analyzer(stem=True)
            self._topic_memo = [
                frozenset(t.text for t in analyzer(topic.replace("-", " "), mode="query"))
                for topic in self.topics
            ]
        return self._topic_memo

    def _typed_pairs(self, groups: list[WordGroup]) -> list[tuple[int, int]]:
        """Term numbers of the words typed next to each other (within a group's typed form,
        and from one group to the next), as the provision's own text could hold them."""
        typed = [
            g.alternatives[0] if g.alternatives and g.weighted()[0][1] == 1.0 else ()
            for g in groups
        ]
        pairs: list[tuple[int, int]] = []
        previous: str | None = None
        for terms in typed:
            for i, term in enumerate(terms):
                if i == 0 and previous is None:
                    previous = term
                    continue
                first = self.term_index.get(f"content:{previous}")
                second = self.term_index.get(f"content:{term}")
                if first is not None and second is not None:
                    pairs.append((first, second))
                previous = term
            if not terms:
                previous = None
        return pairs

    def phrase(self, terms: list[str]) -> Mask | None:
        """Documents holding the phrase: one term from its postings, two from the bigram table,
        more by intersecting shifted positions; None past PHRASE_SLACK terms (whoosh decides)."""
        mask = ~self.everything()
        if len(terms) == 1:
            docs, _weights = self.postings("content", terms[0])
            mask[docs] = True
            return mask
        if len(terms) > PHRASE_SLACK:
            return None
        numbers = [self.term_index.get(f"content:{t}") for t in terms]
        known = [n for n in numbers if n is not None]
        if len(known) < len(numbers):
            return mask  # a term that is nowhere: no document holds the phrase
        return self._bigram(*known) if len(known) == 2 else self._phrase_by_positions(known)

    def _bigram(self, first: int, second: int) -> Mask:
        mask = ~self.everything()
        mask[self._bigram_docs(first, second)] = True
        return mask

    def _bigram_docs(self, first: int, second: int) -> NDArray[np.int32]:
        """The documents holding the pair, in document order."""
        key = first * len(self.term_index) + second
        i = int(np.searchsorted(self.bigram_keys, key))
        if i < len(self.bigram_keys) and self.bigram_keys[i] == key:
            return self.bigram_docs[self.bigram_offsets[i] : self.bigram_offsets[i + 1]]
        return np.zeros(0, np.int32)

    def _phrase_by_positions(self, numbers: list[int]) -> Mask:
        # Documents holding every adjacent pair are the only candidates; check positions there.
        candidates = self.everything()
        for first, second in pairwise(numbers):
            candidates &= self._bigram(first, second)
        keys: NDArray[np.int64] | None = None
        for shift, number in enumerate(numbers):
            low, high = self.occurrence_offsets[number], self.occurrence_offsets[number + 1]
            docs = self.occurrence_docs[low:high]
            keep = candidates[docs]
            docs = docs[keep].astype(np.int64)
            positions = self.occurrence_positions[low:high][keep].astype(np.int64)
            shifted = docs * POSITION_STRIDE + positions + (PHRASE_SLACK - shift)
            keys = shifted if keys is None else np.intersect1d(keys, shifted)
            if not len(keys):
                break
        mask = ~self.everything()
        if keys is not None:
            mask[keys // POSITION_STRIDE] = True
        return mask

    def everything(self) -> Mask:
        return np.ones(self.doc_count, dtype=np.bool_)

    def where(self, name: str, wanted: list[str]) -> Mask:
        """Documents whose facet `name` is one of `wanted` (read only: remembered, since names
        in queries ask for the same places and laws again and again)."""
        key = (name, tuple(wanted))
        found = self._where_memo.get(key)
        if found is None:
            found = self._where(name, wanted)
            found.flags.writeable = False
            if len(self._where_memo) >= WHERE_MEMO:
                self._where_memo.clear()
            self._where_memo[key] = found
        return found

    def _where(self, name: str, wanted: list[str]) -> Mask:
        if name == "topic":
            rows = [self.topics.index(t) for t in wanted if t in self.topics]
            if not rows:
                return ~self.everything()
            return np.asarray(self.topic_matrix[rows].any(axis=0), dtype=np.bool_)
        if name == "coding":
            mask = ~self.everything()
            for term in wanted:
                mask[self.coding.get(term, [])] = True
            return mask
        lookup = {v: i for i, v in enumerate(self.values[name])}
        codes = [lookup[v] for v in wanted if v in lookup]
        return np.isin(self.codes[name], codes) if codes else ~self.everything()

    def years(self, low: int | None, high: int | None) -> Mask:
        mask = self.year > 0
        if low is not None:
            mask &= self.year >= low
        if high is not None:
            mask &= self.year <= high
        return mask

    def facet_counts(self, mask: Mask) -> dict[str, list[tuple[str, int]]]:
        facets: dict[str, list[tuple[str, int]]] = {}
        for name in ("jurisdiction", "status", "level", "year"):
            values = self.values[name]
            counts = np.bincount(self.codes[name][mask] + 1, minlength=len(values) + 1)[1:]
            facets[name] = [(values[i], int(counts[i])) for i in np.flatnonzero(counts)]
        topic_counts = self.topic_matrix[:, mask].sum(axis=1)
        facets["topic"] = [
            (self.topics[i], int(topic_counts[i])) for i in np.flatnonzero(topic_counts)
        ]
        for name, counted in facets.items():
            counted.sort(key=(lambda kv: kv[0]) if name == "year" else (lambda kv: (-kv[1], kv[0])))
        return {name: facets[name] for name in FACETS}

    def top(self, mask: Mask, scores: NDArray[np.float64] | None, count: int) -> list[int]:
        """The first `count` document numbers: by score (ties by document order) or newest first."""
        candidates = np.flatnonzero(mask)
        if scores is None:
            keys = -self.date_rank[candidates].astype(np.int64)
            order = np.argsort(keys, kind="stable")[:count]
            return [int(d) for d in candidates[order]]
        cand_scores = scores[candidates]
        if len(candidates) > count:
            keep = np.argpartition(-cand_scores, count - 1)[:count]
            threshold = cand_scores[keep].min()
            chosen = candidates[cand_scores >= threshold]  # keep every tie at the boundary
        else:
            chosen = candidates
        ranked = sorted(chosen.tolist(), key=lambda d: (-scores[d], d))
        return ranked[:count]


@lru_cache(maxsize=256)
def _key_terms(key: str) -> frozenset[str]:
    """The words of a codebook key, analysed as query words (`juvenile_holds`: juvenil, hold)."""
    return frozenset(t.text for t in legal_analyzer(stem=True)(key.replace("_", " "), mode="query"))


def _members(
    sorted_docs: NDArray[Any], values: NDArray[Any], docs: NDArray[Any]
) -> tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[Any]]:
    """Which of `docs` are in `sorted_docs` (a posting list), where, and the posting values."""
    if not len(sorted_docs):
        return np.zeros(len(docs), dtype=np.bool_), np.zeros(len(docs), dtype=np.int64), values
    at = np.minimum(np.searchsorted(sorted_docs, docs), len(sorted_docs) - 1)
    return sorted_docs[at] == docs, at, values
