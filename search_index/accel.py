"""Arrays kept beside each index generation so common queries and facet counts never walk
posting lists in Python: every text term's documents with their BM25F weights (computed by
whoosh's own scorer, so rankings match whoosh's), and every document's facet values as codes.
"""

from __future__ import annotations

import gzip
import json
import re
import zipfile
from array import array
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import count, pairwise
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from whoosh.codec.base import Automata
from whoosh.util.numeric import byte_to_length, length_to_byte

from search_index.analysis import (
    TOKEN_PATTERN,
    compound_forms,
    compound_parts,
    index_forms,
    legal_analyzer,
)
from search_index.names import Entry
from search_index.query import META_BOOST, WordGroup
from search_index.schema import CONTENT, FACETS

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


def write(docs: list[dict[str, Any]], generation: Path, names: dict[str, list[Entry]]) -> None:
    """Analyse every document once and write the arrays (once per build).

    The text fields are analysed as whoosh's schema would analyse them (search_index.schema;
    _Analysis, held to the analyzer by a test) and weighted with whoosh's BM25F
    formula, field lengths rounded as whoosh stores them (a test compares rankings and scores
    with a whoosh index of the same documents)."""
    doc_count = len(docs)
    term_names: list[str] = []
    numbers: dict[str, int] = {}
    postings: dict[str, tuple[NDArray[Any], NDArray[Any], NDArray[Any]]] = {}
    renumbered: dict[str, NDArray[np.int64]] = {}
    analysis = _Analysis()
    content, heading_tokens = analysis.content_occurrences(docs)
    fields = {
        "content": content,
        "meta": analysis.repeated_occurrences([doc["meta"] for doc in docs]),
    }
    vocabulary = analysis.vocabulary()
    for field_name, (occ_docs, occ_positions, occ_terms) in fields.items():
        # number the field's terms in whoosh's lexicon order, after the fields before it
        held = np.flatnonzero(np.bincount(occ_terms, minlength=len(vocabulary)))
        order = sorted(held.tolist(), key=vocabulary.__getitem__)
        renumber = np.full(len(vocabulary), -1, dtype=np.int64)
        renumber[order] = np.arange(len(order), dtype=np.int64) + len(term_names)
        for i in order:
            numbers[f"{field_name}:{vocabulary[i]}"] = len(term_names)
            term_names.append(f"{field_name}:{vocabulary[i]}")
        postings[field_name] = (renumber[occ_terms], occ_docs, occ_positions)
        renumbered[field_name] = renumber
    content_terms, content_docs, content_positions = postings["content"]

    coding, answers = (_keywords(docs, name) for name in ("coding", "answers"))

    values: dict[str, list[str]] = {}
    codes: dict[str, NDArray[np.int32]] = {}
    for name in SINGLE_FACETS:
        column = [str(doc[name]) if doc[name] not in ("", 0) else "" for doc in docs]
        values[name] = sorted({v for v in column if v})
        lookup = {v: i for i, v in enumerate(values[name])}
        codes[name] = np.asarray([lookup.get(v, -1) for v in column], dtype=np.int32)
    topics = sorted({t for doc in docs for t in doc["topic"].split()})
    topic_rows = {t: i for i, t in enumerate(topics)}
    topic_matrix = np.zeros((len(topics), doc_count), dtype=np.bool_)
    for docnum, doc in enumerate(docs):
        for topic in doc["topic"].split():
            topic_matrix[topic_rows[topic], docnum] = True
    date_order = sorted(range(doc_count), key=lambda d: (docs[d]["date"], -d))
    date_rank = np.empty(doc_count, dtype=np.int32)
    date_rank[date_order] = np.arange(doc_count, dtype=np.int32)
    texts = "\n".join([*dict.fromkeys(doc["meta"] for doc in docs), *(d["content"] for d in docs)])
    words = {w.lower() for w in set(_WORD.findall(texts))}

    occ = (content_docs.astype(np.int32), content_positions, content_terms.astype(np.int32))
    arrays: dict[str, NDArray[Any]] = {f"codes_{name}": codes[name] for name in SINGLE_FACETS}
    arrays.update(_headings(analysis, heading_tokens, renumbered["content"], len(term_names)))
    arrays.update(_cites(docs, numbers))
    arrays.update(_bigrams(*occ, term_count=len(term_names)))
    arrays.update(_positions(*occ, term_count=len(term_names)))
    arrays.update(_postings(postings, len(term_names), doc_count))
    _save(
        generation / ARRAYS,
        {
            **arrays,
            "topic_matrix": topic_matrix,
            "date_rank": date_rank,
            "year": np.asarray([int(doc["year"]) for doc in docs], dtype=np.int32),
        },
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
                    "words": sorted(words),
                    "names": names,
                }
            ).encode("utf-8"),
            compresslevel=6,
        )
    )


def _keywords(docs: list[dict[str, Any]], name: str) -> dict[str, list[int]]:
    """A keyword field (words split at spaces, as whoosh's KEYWORD): each word's documents."""
    found: dict[str, list[int]] = {}
    for docnum, doc in enumerate(docs):
        for term in dict.fromkeys(doc[name].split()):
            found.setdefault(term, []).append(docnum)
    return dict(sorted(found.items()))


Occurrences = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]


class _Analysis:
    """Every text of a build analysed as legal_analyzer(stem=True) indexes it, fast: each distinct token
    (as written) is analysed once, a text becomes a list of token numbers, and stop words,
    positions and the extra forms of cites are worked out with numpy over all texts at once.
    Terms are numbered as first seen, shared by every field."""

    def __init__(self) -> None:
        self.tokens: defaultdict[str, int] = defaultdict(count().__next__)
        self.terms: dict[str, int] = {}
        self.token_terms: list[tuple[int, ...]] = []

    def vocabulary(self) -> list[str]:
        return list(self.terms)

    def tokenize(self, text: str) -> list[int]:
        """The numbers of a text's tokens, as written."""
        return list(map(self.tokens.__getitem__, TOKEN_PATTERN.findall(text)))

    def occurrences(self, texts: list[str]) -> Occurrences:
        """(text number, position, term) of every term indexed from each text."""
        return self.occurrences_of_tokens([self.tokenize(text) for text in texts])

    def content_occurrences(
        self, docs: list[dict[str, Any]]
    ) -> tuple[Occurrences, list[list[int]]]:
        """The occurrences of every document's `content` (schema.CONTENT's fields joined by
        line breaks, which no token crosses), each field tokenized once although the heading
        is written twice; and each document's heading tokens, for _headings."""
        texts: list[list[int]] = []
        headings: list[list[int]] = []
        for doc in docs:
            fields: dict[str, list[int]] = {}
            tokens: list[int] = []
            for name in CONTENT:
                found = fields.get(name)
                if found is None:
                    found = fields[name] = self.tokenize(str(doc[name]))
                tokens += found
            texts.append(tokens)
            headings.append(fields["heading"])
        return self.occurrences_of_tokens(texts), headings

    def occurrences_of_tokens(self, texts: list[list[int]]) -> Occurrences:
        numbers: array[int] = array("q")
        lengths: array[int] = array("q")
        for found in texts:
            numbers.extend(found)
            lengths.append(len(found))
        for new in list(self.tokens)[len(self.token_terms) :]:
            self.token_terms.append(
                tuple(
                    self.terms.setdefault(form, len(self.terms))
                    for form in index_forms(new.lower())
                )
            )
        form_counts = np.asarray([len(t) for t in self.token_terms], dtype=np.int64)
        form_starts = np.cumsum(form_counts) - form_counts
        form_terms = np.asarray([f for t in self.token_terms for f in t], dtype=np.int64)

        token = np.frombuffer(numbers, dtype=np.int64)
        length = np.frombuffer(lengths, dtype=np.int64)
        text = np.repeat(np.arange(len(texts), dtype=np.int64), length)
        index = np.arange(len(token), dtype=np.int64) - np.repeat(
            np.cumsum(length) - length, length
        )
        kept = form_counts[token] > 0
        token, text, index = token[kept], text[kept], index[kept]
        # whoosh's StopFilter renumbers: a text's first kept token keeps its number, the next
        # ones follow it
        kept_per_text = np.bincount(text, minlength=len(texts))
        first = np.cumsum(kept_per_text) - kept_per_text
        rank = np.arange(len(token), dtype=np.int64) - first[text]
        position = index[first[text]] + rank if len(token) else rank
        forms = form_counts[token]
        within = np.arange(int(forms.sum()), dtype=np.int64) - np.repeat(
            np.cumsum(forms) - forms, forms
        )
        terms = form_terms[np.repeat(form_starts[token], forms) + within]
        return np.repeat(text, forms), np.repeat(position, forms), terms

    def repeated_occurrences(self, texts: list[str]) -> Occurrences:
        """The same for texts that repeat (a law's names and overview, on each of its
        provisions): each distinct text is analysed once."""
        distinct = list(dict.fromkeys(texts))
        docs, positions, terms = self.occurrences(distinct)
        which = {text: i for i, text in enumerate(distinct)}
        starts = np.searchsorted(docs, np.arange(len(distinct) + 1))
        pieces = np.asarray([which[text] for text in texts], dtype=np.int64)
        lengths = (starts[1:] - starts[:-1])[pieces]
        take = np.repeat(starts[:-1][pieces], lengths) + (
            np.arange(int(lengths.sum()), dtype=np.int64)
            - np.repeat(np.cumsum(lengths) - lengths, lengths)
        )
        return (
            np.repeat(np.arange(len(texts), dtype=np.int64), lengths),
            positions[take],
            terms[take],
        )


B = 0.75
K1 = 1.2
"""whoosh.scoring.BM25F's defaults, which the index used when whoosh scored it."""


def _postings(
    postings: dict[str, tuple[NDArray[Any], NDArray[Any], NDArray[Any]]],
    term_count: int,
    doc_count: int,
) -> dict[str, NDArray[Any]]:
    """Each term's documents (in order) and frequency there, and each field's length in every
    document: what BM25F weights are computed from when a generation is read (_bm25f)."""
    all_docs: list[NDArray[np.int64]] = []
    all_tf: list[NDArray[np.int64]] = []
    all_terms: list[NDArray[np.int64]] = []
    arrays: dict[str, NDArray[Any]] = {}
    stride = max(doc_count, 1)
    for field_name, (terms, docs, _positions) in postings.items():
        arrays[f"length_{field_name}"] = np.bincount(docs, minlength=doc_count).astype(np.int32)
        unique, tf = _unique(terms * stride + docs, counts=True)
        all_terms.append(unique // stride)
        all_docs.append(unique % stride)
        all_tf.append(tf)
    terms = np.concatenate(all_terms) if all_terms else np.zeros(0, np.int64)
    tfs = np.concatenate(all_tf) if all_tf else np.zeros(0, np.int64)
    arrays["term_docs"] = (np.concatenate(all_docs) if all_docs else np.zeros(0, np.int64)).astype(
        np.int32
    )
    arrays["term_tf"] = tfs.astype(np.uint16 if tfs.max(initial=0) < 1 << 16 else np.uint32)
    arrays["term_offsets"] = np.searchsorted(terms, np.arange(term_count + 1)).astype(np.int64)
    return arrays


B = 0.75
K1 = 1.2
"""whoosh.scoring.BM25F's defaults, which the index used when whoosh scored it."""


def _bm25f(
    term_names: list[str], arrays: dict[str, NDArray[Any]], doc_count: int
) -> NDArray[np.float64]:
    """Every posting's BM25F weight, as whoosh's BM25FScorer computes it: idf = log(N / (df +
    1)) + 1; a document's field length as whoosh stores it (one byte, rounded:
    whoosh.util.numeric); the field's average length from the exact total."""
    offsets = arrays["term_offsets"]
    weights = np.zeros(len(arrays["term_docs"]), dtype=np.float64)
    fields = [name.split(":", 1)[0] for name in term_names]
    for field_name in dict.fromkeys(fields):
        first = fields.index(field_name)
        last = len(fields) - fields[::-1].index(field_name)
        low, high = int(offsets[first]), int(offsets[last])
        lengths = arrays[f"length_{field_name}"].astype(np.int64)
        average = float(lengths.sum()) / (doc_count or 1) or 1.0
        rounded = np.asarray(
            [
                byte_to_length(length_to_byte(n)) if n else 1
                for n in range(int(lengths.max(initial=0)) + 1)
            ],
            dtype=np.float64,
        )[lengths]
        df = np.diff(offsets[first : last + 1])
        idf = np.repeat(np.log(doc_count / (df + 1)) + 1, df)
        tf = arrays["term_tf"][low:high].astype(np.float64)
        fl = rounded[arrays["term_docs"][low:high]]
        weights[low:high] = idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / average)))
    return weights


def _save(path: Path, arrays: dict[str, NDArray[Any]]) -> None:
    """np.savez_compressed at deflate level 1: a third of the time of its level 6 for a few
    percent more bytes (docs/performance.md)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, value in arrays.items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as out:
                np.lib.format.write_array(out, np.asanyarray(value), allow_pickle=False)


def _bigrams(
    docs: NDArray[Any], positions: NDArray[Any], terms: NDArray[Any], term_count: int
) -> dict[str, NDArray[Any]]:
    """Every pair of terms at consecutive positions of a document (as whoosh stored them, so
    forms of a cite and stop-word gaps behave as in whoosh's phrase matcher), with its documents:
    a two-word phrase becomes one lookup."""
    doc = np.asarray(docs, dtype=np.int64)
    pos = np.asarray(positions, dtype=np.int64)
    term = np.asarray(terms, dtype=np.int64)
    stride = int(pos.max()) + 2 if len(pos) else 1
    keys = doc * stride + pos
    if not _ascending(keys):  # the build's occurrences come in (document, position) order
        order = np.argsort(keys, kind="stable")
        keys, doc, term = keys[order], doc[order], term[order]
    low = np.searchsorted(keys, keys + 1, side="left")
    count = np.searchsorted(keys, keys + 1, side="right") - low
    first = np.repeat(np.arange(len(keys)), count)
    within = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    second = np.repeat(low, count) + within
    pair = term[first] * term_count + term[second]
    pair_doc = doc[first]
    doc_stride = int(doc.max()) + 1 if len(doc) else 1
    if term_count**2 * doc_stride < 1 << 62:  # (pair, document) as one number: one sort
        combined, _counts = _unique(pair * doc_stride + pair_doc)
        pair, pair_doc = combined // doc_stride, combined % doc_stride
    else:
        order = np.lexsort((pair_doc, pair))
        pair, pair_doc = pair[order], pair_doc[order]
        keep = np.ones(len(pair), dtype=np.bool_)
        keep[1:] = (pair[1:] != pair[:-1]) | (pair_doc[1:] != pair_doc[:-1])
        pair, pair_doc = pair[keep], pair_doc[keep]
    starts = np.flatnonzero(np.diff(pair, prepend=-1))
    unique = pair[starts]
    return {
        "bigram_keys": unique,
        "bigram_offsets": np.append(starts, len(pair)).astype(np.int64),
        "bigram_docs": pair_doc.astype(np.int32),
    }


def _counted(values: list[str], counts: NDArray[np.int64], by_count: bool) -> list[tuple[str, int]]:
    """(value, count) of every value counted, in value order or most frequent first (ties in
    value order: `values` is sorted)."""
    held = np.flatnonzero(counts)
    if by_count:
        held = held[np.lexsort((held, -counts[held]))]
    return list(zip([values[i] for i in held.tolist()], counts[held].tolist(), strict=True))


def _unique(
    values: NDArray[np.int64], counts: bool = False
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """np.unique (sorted), with each value's count when asked, by one sort: numpy's hashing
    unique took several seconds on the millions of numbers of a 45,000-provision build."""
    ordered = values if _ascending(values) else np.sort(values)
    starts = np.flatnonzero(np.diff(ordered, prepend=ordered[:1] - 1)) if len(ordered) else ordered
    found = ordered[starts]
    if not counts:
        return found, np.zeros(0, np.int64)
    return found, np.diff(np.append(starts, len(ordered)))


def _ascending(values: NDArray[Any]) -> bool:
    return bool(np.all(values[1:] >= values[:-1]))


def _headings(
    analysis: _Analysis, headings: list[list[int]], numbers: NDArray[np.int64], term_count: int
) -> dict[str, NDArray[Any]]:
    """Which documents hold each `content` term in their heading (a heading that says what the
    query asks is the provision that answers it)."""
    heading_docs, _positions, terms = analysis.occurrences_of_tokens(headings)
    stride = max(len(headings), 1)
    term = numbers[terms]  # a heading's terms are all in the text, which holds the heading
    keys, _counts = _unique(term * stride + heading_docs)
    return {
        "heading_docs": (keys % stride).astype(np.int32),
        "heading_offsets": np.searchsorted(keys // stride, np.arange(term_count + 1)).astype(
            np.int64
        ),
    }


def _cites(docs: list[dict[str, Any]], numbers: dict[str, int]) -> dict[str, NDArray[Any]]:
    """For each cite term (`7282.5`), the records whose own cite holds it and how many
    subdivisions deeper their cite goes (`7282.5(a)` 1, `7282.5(a)(4)` 2)."""
    analyzer = legal_analyzer(stem=False)
    found: dict[tuple[int, int], int] = {}
    depths: dict[str, dict[int, int]] = {}  # a cite's terms and depths, once per distinct cite
    for docnum, doc in enumerate(docs):
        held = depths.get(doc["cite"])
        if held is None:
            held = depths[doc["cite"]] = {}
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
                        held[number] = min(held.get(number, depth), depth)
        for number, depth in held.items():
            key = (number, docnum)
            found[key] = min(found.get(key, depth), depth)
    keys = sorted(found)
    terms = np.asarray([t for t, _d in keys], dtype=np.int64)
    return {
        "cite_docs": np.asarray([d for _t, d in keys], dtype=np.int32),
        "cite_depths": np.asarray([found[k] for k in keys], dtype=np.int16),
        "cite_offsets": np.searchsorted(terms, np.arange(len(numbers) + 1)).astype(np.int64),
    }


POSITION_STRIDE = 1 << 21
"""More than any document's positions: (document, position) as one number."""


def _positions(
    docs: NDArray[Any], positions: NDArray[Any], terms: NDArray[Any], term_count: int
) -> dict[str, NDArray[Any]]:
    """Every occurrence of every `content` term as (document, position), grouped by term, so a
    phrase of any length is checked by intersecting shifted positions."""
    doc = np.asarray(docs, dtype=np.int32)
    pos = np.asarray(positions, dtype=np.int32)
    term = np.asarray(terms, dtype=np.int32)
    if _ascending(doc.astype(np.int64) * POSITION_STRIDE + pos):  # as the build writes them
        order = np.argsort(term, kind="stable")
    else:
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
    _content_terms: list[str] | None = None
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
            term_weights=_bm25f(lists["terms"], arrays, len(arrays["date_rank"])),
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

    def terms_within(self, term: str, distance: int) -> list[str]:
        """The `content` terms within `distance` edits of `term` sharing its first letter, in
        lexicon order: what whoosh's reader.terms_within finds, with the same automaton."""
        terms = self.content_terms()
        dfa = Automata.levenshtein_dfa(term, distance, 1)
        found: list[str] = []
        match = dfa.next_valid_string(terms[0]) if terms else None
        while match:
            i = bisect_left(terms, match)
            if i == len(terms):
                break
            key = terms[i]
            if key == match:
                found.append(match)
                key += "\0"
            match = dfa.next_valid_string(key)
        return found

    def content_terms(self) -> list[str]:
        """Every `content` term, sorted (the arrays number them in this order, from 0)."""
        if self._content_terms is None:
            self._content_terms = [
                t[len("content:") :] for t in self.term_index if t.startswith("content:")
            ]
        return self._content_terms

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

    def phrase(self, terms: list[str]) -> Mask:
        """Documents holding the phrase: one term from its postings, two from the bigram table,
        more by intersecting shifted positions."""
        mask = ~self.everything()
        if len(terms) == 1:
            docs, _weights = self.postings("content", terms[0])
            mask[docs] = True
            return mask
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
            # the word `shift` places into the phrase, at the position where the phrase starts
            keep &= self.occurrence_positions[low:high] >= shift
            docs = docs[keep].astype(np.int64)
            positions = self.occurrence_positions[low:high][keep].astype(np.int64)
            shifted = docs * POSITION_STRIDE + positions - shift
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
        """Each facet's values among the `mask` records with their counts: years in order, the
        others most frequent first, ties by value (value lists are sorted, so by index)."""
        facets: dict[str, list[tuple[str, int]]] = {}
        for name in ("jurisdiction", "status", "level", "year"):
            counts = np.bincount(self.codes[name][mask] + 1, minlength=len(self.values[name]) + 1)
            facets[name] = _counted(self.values[name], counts[1:], by_count=name != "year")
        topic_counts = np.count_nonzero(self.topic_matrix & mask, axis=1)
        facets["topic"] = _counted(self.topics, topic_counts, by_count=True)
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
