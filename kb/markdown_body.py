"""Overview and provisions from a protocol's Markdown body, read from markdown-it-py tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt

from kb.fields import SLUG, Report
from kb.records import CONFIDENCES, KeyTerm, ProvisionRecord

# Raw HTML off: anything tag-like in a protocol file is text, never markup.
MARKDOWN = MarkdownIt("commonmark", {"html": False})

_ATTR_BLOCK = re.compile(r"\{([^{}]*)\}\s*$")
_ATTR = re.compile(
    r"""\s*(?:\#(?P<anchor>[^\s}]+)|(?P<key>[A-Za-z_][\w-]*)=(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"']+)))"""
)
_KEY_TERM = re.compile(r'^["“](?P<text>.+?)["”]\s*(?:—|–|--)\s*(?P<cite>\S.*)$')  # noqa: RUF001
PROVISION_ATTRS = ("cite", "topics", "sources", "context", "confidence")
MAX_QUOTE_WORDS = 25


@dataclass
class Body:
    overview: str
    provisions: list[ProvisionRecord] = field(default_factory=list)


@dataclass
class _Section:
    heading: str
    line: int
    attrs: dict[str, str]
    chunks: list[str] = field(default_factory=list)
    key_terms: list[KeyTerm] = field(default_factory=list)


def parse_body(text: str, first_line: int, report: Report) -> Body:
    """`first_line` is the file line of the body's first line."""
    lines = text.splitlines()
    tokens = MARKDOWN.parse(text)
    overview: list[str] = []
    sections: list[_Section] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.level != 0 or token.map is None or token.nesting == -1:
            i += 1
            continue
        line = first_line + token.map[0]
        source = "\n".join(lines[token.map[0] : token.map[1]]).strip()
        if token.type == "heading_open":
            inline = tokens[i + 1].content
            if token.tag != "h2":
                report(
                    line, f"only `##` headings are allowed (each starts a provision): {inline!r}"
                )
            else:
                sections.append(_heading(inline, line, report))
        elif token.type == "blockquote_open":
            if sections:
                term = _key_term(source, line, report)
                if term:
                    sections[-1].key_terms.append(term)
            else:
                report(line, "a key-term quotation must sit under a provision heading")
        elif sections:
            sections[-1].chunks.append(source)
        else:
            overview.append(source)
        i += 1
    return Body(
        overview="\n\n".join(overview),
        provisions=[_provision(s, report) for s in sections],
    )


def _heading(inline: str, line: int, report: Report) -> _Section:
    match = _ATTR_BLOCK.search(inline)
    if not match:
        report(
            line,
            f'provision heading needs attributes, e.g. {{#sec-a cite="Sec. 1(a)" topics="detainers"}}: {inline!r}',
        )
        return _Section(heading=inline.strip(), line=line, attrs={})
    heading = inline[: match.start()].strip()
    attrs: dict[str, str] = {}
    body = match.group(1)
    pos = 0
    while pos < len(body.rstrip()):
        attr = _ATTR.match(body, pos)
        if not attr or attr.end() == pos:
            report(line, f"cannot read heading attributes near {body[pos:].strip()!r}")
            break
        pos = attr.end()
        if attr.group("anchor") is not None:
            name, value = "anchor", attr.group("anchor")
        else:
            name = attr.group("key")
            value = next(
                v for v in (attr.group("dq"), attr.group("sq"), attr.group("bare")) if v is not None
            )
            if name not in PROVISION_ATTRS:
                report(
                    line,
                    f"unknown heading attribute {name!r}; allowed: #anchor, {', '.join(PROVISION_ATTRS)}",
                )
                continue
        if name in attrs:
            report(line, f"heading attribute {name!r} given twice")
        attrs[name] = value
    if not heading:
        report(line, "provision heading has no text")
    return _Section(heading=heading, line=line, attrs=attrs)


def _key_term(source: str, line: int, report: Report) -> KeyTerm | None:
    text = " ".join(part.lstrip(">").strip() for part in source.splitlines()).strip()
    match = _KEY_TERM.match(text)
    if not match:
        report(
            line,
            'a key term is a short quotation and its pinpoint cite: > "shall decline" — Sec. 2(a)',
        )
        return None
    words = len(match.group("text").split())
    if words > MAX_QUOTE_WORDS:
        report(line, f"key-term quotation has {words} words; quote at most {MAX_QUOTE_WORDS}")
    return KeyTerm(text=match.group("text").strip(), cite=match.group("cite").strip())


def _provision(section: _Section, report: Report) -> ProvisionRecord:
    attrs, line = section.attrs, section.line
    anchor = attrs.get("anchor", "")
    # A heading with no attribute block at all was reported once already.
    if attrs and not anchor:
        report(line, "provision heading needs an anchor like {#sec-a}")
    elif anchor and not SLUG.match(anchor):
        report(line, f"anchor {anchor!r} is not an id (lowercase letters, digits, hyphens)")
    for required in ("cite", "topics"):
        if attrs and not attrs.get(required, "").strip():
            report(
                line, f'provision {anchor or section.heading!r} needs a {required}="…" attribute'
            )
    confidence = attrs.get("confidence")
    if confidence is not None and confidence not in CONFIDENCES:
        report(line, f"confidence {confidence!r} is not allowed; allowed: {', '.join(CONFIDENCES)}")
    summary = "\n\n".join(chunk for chunk in section.chunks if chunk)
    if not summary:
        report(line, f"provision {anchor or section.heading!r} has an empty summary")
    return ProvisionRecord(
        anchor=anchor,
        heading=section.heading,
        cite=attrs.get("cite", "").strip(),
        topics=attrs.get("topics", "").split(),
        summary=summary,
        line=line,
        sources=attrs.get("sources", "").split(),
        context=attrs.get("context", "").split(),
        confidence=confidence,
        key_terms=section.key_terms,
    )


def render(markdown: str) -> str:
    """HTML for a summary; raw HTML in the source is escaped, never passed through."""
    return str(MARKDOWN.render(markdown))
