"""What a translated page shows in its own language, and which of it is still English: shared by
the page tests (tests/api/test_i18n.py) and the browser tests (tests/web/test_spanish.py)."""

from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser

from babel.messages.pofile import read_po

from api.i18n import LOCALE_DIR

VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
UNREAD = frozenset(("script", "style", "code", "pre", "textarea", "template"))
"""Text a reader does not read as prose: scripts, and code (query syntax, snippets to copy)."""
ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")
ALLOWED = frozenset(("API", "OpenAPI", "JSON", "CSV", "Markdown", "HTML", "protocol-kb", "287(g)"))
"""Proper names and formats, the same in every language."""
PUNCTUATION = ' .,:;()\u2014\u2013-\u201c\u201d"'
"""Around a phrase: spaces, stops, brackets, dashes and quotation marks."""


class _Text(HTMLParser):
    """Text nodes and labelling attributes, each with the language of the element it is in."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None, bool]] = []
        self.found: list[tuple[str, str]] = []

    def _lang(self) -> str:
        return next((lang for _, lang, _ in reversed(self.stack) if lang), "")

    def _unread(self) -> bool:
        return any(skip for _, _, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        given = dict(attrs)
        lang = given.get("lang")
        hidden = "hidden" in given and tag not in ("button",)
        if tag not in VOID:
            self.stack.append((tag, lang, tag in UNREAD or hidden))
        if not self._unread():
            here = lang or self._lang()
            for name in ATTRIBUTES:
                if given.get(name):
                    self.found.append((here, str(given[name])))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._unread():
            self.found.append((self._lang(), text))


def texts(html: str) -> list[tuple[str, str]]:
    """(language, text) of every text node and labelling attribute a reader meets."""
    parser = _Text()
    parser.feed(html)
    return parser.found


@lru_cache(maxsize=4)
def english_strings(lang: str) -> frozenset[str]:
    """The English a page in `lang` should no longer show: every msgid of its catalogue (and
    plural), cut at markup and placeholders into the phrases a page shows as text, less those
    the translation keeps as they are."""
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale=lang)
    found: set[str] = set()
    kept: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for english in ids:
            found |= _pieces(english)
        for spanish in strings:
            kept |= _pieces(spanish)  # what the translation keeps (a case name) is not a leak
            # and so is the English term a translation gives in brackets, as the glossary
            # asks ("Grupo operativo (Task force)"), wherever the page shows it.
            kept |= {t for inner in re.findall(r"\(([^()]+)\)", spanish) for t in _pieces(inner)}
    return frozenset(found - ALLOWED - kept)


def _pieces(message: str) -> set[str]:
    """The runs of text of a message between its markup and placeholders."""
    pieces = set()
    for piece in re.split(r"<[^>]+>|%\([a-z_]+\)s", message):
        piece = " ".join(piece.split()).strip(PUNCTUATION)
        if len(piece) >= 3 and re.search(r"[A-Za-z]{3}", piece):
            pieces.add(piece)
    return pieces


def english_left(html: str, lang: str) -> list[str]:
    """Interface text of a page in `lang` that is still English: a text node (outside elements
    marked `lang="en"`, which hold the English sources) that is, or holds, a catalogue phrase."""
    known = english_strings(lang)
    longer = [k for k in known if len(k.split()) >= 3]
    left = []
    for where, text in texts(html):
        if where == "en" or text in ALLOWED:
            continue
        bare = text.strip(PUNCTUATION + "\u00b7\u2605\u25bc\u00d7\u2713")
        if bare in known or any(k in text for k in longer):
            left.append(text)
    return left
