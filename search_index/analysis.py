"""Text analysis for legal prose: cites such as 287(g), § 7282.5, 48-hour and I-247 stay whole."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from whoosh.analysis import STOP_WORDS, Filter, LowercaseFilter, RegexTokenizer, StopFilter
from whoosh.lang.porter import stem as porter_stem

# Order matters: the first alternative that matches wins at each position.
TOKEN_PATTERN = re.compile(
    r"""
      (?:[a-z]\.){2,}                           # c.f.r., u.s.c. (also indexed as cfr, usc)
    | \d+(?:[.-]\d+)*(?:\([a-z0-9]{1,4}\))+   # 287(g), 7282.5(a)(1), 24-211.07(b)
    | [a-z]{1,3}-\d+[a-z]?                      # i-247, i-247d, ab-4
    | \d+(?:[.-]\d+)+[a-z]?                     # 7282.5, 287.7, 24-211.07, 11-73
    | \d+(?:-[a-z0-9]+)+                        # 48-hour, 10-year, 11-o-73
    | [^\W_]+(?:'[^\W_]+)?                      # words (with an apostrophe inside)
    """,
    re.VERBOSE | re.IGNORECASE,
)

# "not", "no" and "may" carry meaning in legal text ("may not hold").
LEGAL_STOP_WORDS = frozenset(STOP_WORDS) - {"not", "no", "may", "us"}
_COMPOUND = re.compile(r"[\W_]+")
_PAREN = re.compile(r"\(")


def compound_parts(text: str) -> list[str]:
    """The pieces of a cite or hyphenated word: `48-hour` -> 48, hour."""
    return [p for p in _COMPOUND.split(text) if p]


def compound_forms(text: str) -> list[str]:
    """Other forms under which a cite is found: its prefixes at each `(` (`7282.5(a)(1)` ->
    `7282.5`, `7282.5(a)`), a form without a trailing letter (`i-247d` -> `i-247`), the squashed
    form (`287g`) and the parts (`287`, `g`)."""
    forms = [text[: m.start()] for m in _PAREN.finditer(text)]
    forms += [text[:-1]] if re.fullmatch(r"[a-z]{1,3}-\d+[a-z]", text) else []
    parts = compound_parts(text)
    if len(parts) > 1:
        forms += ["".join(parts), *parts]
    return [f for f in dict.fromkeys(forms) if f and f != text]


class CompoundParts(Filter):  # type: ignore[misc]
    """At index time, also index the other forms of a cite at the same position (see
    compound_forms), word parts stemmed like any word. Queries keep the token whole, so a cite
    typed as written matches; search_index.query adds its parts as an alternative."""

    def __init__(self, stem: bool) -> None:
        self.stemming = stem

    def __call__(self, tokens: Iterator[Any]) -> Iterator[Any]:
        for token in tokens:
            yield token
            if token.mode == "query":
                continue
            original = token.text
            if _COMPOUND.search(original):
                for form in compound_forms(original):
                    token.text = stem(form) if self.stemming and form.isalpha() else form
                    yield token
                token.text = original


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    return str(porter_stem(word))


class StemWords(Filter):  # type: ignore[misc]
    """Porter-stem plain words; leave cites and numbers as written."""

    def __call__(self, tokens: Iterator[Any]) -> Iterator[Any]:
        for token in tokens:
            text = token.text
            if text.isalpha():
                token.text = stem(text)
            yield token


def legal_analyzer(stem: bool = True) -> Any:
    """Tokenize, lowercase, drop stop words, stem plain words, index the parts of cites."""
    chain = (
        RegexTokenizer(TOKEN_PATTERN)
        | LowercaseFilter()
        | StopFilter(stoplist=LEGAL_STOP_WORDS, minsize=1)
    )
    if stem:
        chain = chain | StemWords()
    return chain | CompoundParts(stem)


@lru_cache(maxsize=200_000)
def index_forms(word: str) -> tuple[str, ...]:
    """The terms `legal_analyzer(stem=True)` indexes for one lowercased token, without whoosh's
    token objects and filter chain: none for a stop word, else the (stemmed) token and the other
    forms of a cite (CompoundParts). The index build (search_index.accel) analyses with this; a
    test holds it to the analyzer."""
    if word in LEGAL_STOP_WORDS:
        return ()
    text = stem(word) if word.isalpha() else word
    if not _COMPOUND.search(text):
        return (text,)
    return (text, *(stem(f) if f.isalpha() else f for f in compound_forms(text)))
