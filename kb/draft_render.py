"""A draft as Markdown, HTML (standalone, every text escaped) and DOCX (real heading styles)."""

from __future__ import annotations

import html
import io
import re

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from kb.draft import Draft, Endnote

FORMATS = ("md", "html", "docx")
MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
STATE_LAW_HEADING = (
    "State law limits what may be adopted here (a note, not part of the text to adopt)"
)
_MARK = re.compile(r"\[(\d+)\]")
_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _where(note: Endnote, base_url: str | None) -> list[str]:
    where = []
    if note.page and base_url:
        where.append(base_url.rstrip("/") + note.page)
    if note.url:
        where.append(note.url)
    return where


def _footnoted(text: str) -> str:
    """Text with its `[n]` marks as Markdown footnote references, everything else escaped."""
    pieces = _MARK.split(text)  # text, number, text, number, …
    return "".join(f"[^{piece}]" if i % 2 else _md_text(piece) for i, piece in enumerate(pieces))


def draft_markdown(draft: Draft, base_url: str | None = None) -> str:
    lines = [f"# {_md_text(draft.title)}", ""]
    if draft.state_law:
        lines += [f"> **{STATE_LAW_HEADING}**", ">"]
        lines += [f"> {_md_text(s)}" for s in draft.state_law] + [""]
    lines += [f"Be it enacted by {_md_text(draft.adopter.name)}:", ""]
    for section in draft.sections:
        lines += [f"## Section {section.number}. {_md_text(section.heading)}", ""]
        for paragraph in section.paragraphs:
            lines += [_footnoted(paragraph), ""]
    if draft.drafting_notes:
        lines += ["## Drafting notes (not part of the text to adopt)", ""]
        for heading, text in draft.drafting_notes:
            lines += [f"**{_md_text(heading)}.** {_footnoted(text)}", ""]
    if draft.resolved:
        lines += ["## Options resolved", ""]
        lines += [f"- {_md_text(r)}" for r in draft.resolved] + [""]
    for note in draft.endnotes:
        where = " ".join(f"<{u}>" for u in _where(note, base_url))
        lines.append(f"[^{note.number}]: {_md_text(note.text)} {where}".rstrip())
    return "\n".join(lines).rstrip() + "\n"


def _md_text(text: str) -> str:
    """The adopter's name and content are text: keep Markdown from reading them as markup."""
    return re.sub(r"([\\`*_{}\[\]<>#|])", r"\\\1", text)


def draft_html(draft: Draft, base_url: str | None = None) -> str:
    """A standalone page; every piece of text is escaped, only our own tags are markup."""
    e = html.escape
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(draft.title)}</title>",
        "<style>body{font:12pt/1.5 Georgia,serif;max-width:44rem;margin:2rem auto;padding:0 1rem}"
        "h1{font-size:1.4rem}h2{font-size:1.1rem}sup{font-size:.7em}"
        ".notes{font-size:.9rem}.state-law{border:2px solid #8a1c1c;padding:.5rem 1rem}</style>",
        "</head><body><main>",
        f"<h1>{e(draft.title)}</h1>",
    ]
    if draft.state_law:
        out.append(f'<aside class="state-law" role="note"><h2>{e(STATE_LAW_HEADING)}</h2>')
        out += [f"<p>{e(s)}</p>" for s in draft.state_law]
        out.append("</aside>")
    out += [
        f"<p>Be it enacted by {e(draft.adopter.name)}:</p>",
    ]

    def marked(text: str) -> str:
        return _MARK.sub(
            lambda m: (
                f'<sup><a href="#note-{m.group(1)}" id="ref-{m.group(1)}">{m.group(1)}</a></sup>'
            ),
            e(text),
        )

    for section in draft.sections:
        out.append(f'<section id="section-{section.number}">')
        out.append(f"<h2>Section {section.number}. {e(section.heading)}</h2>")
        out += [f"<p>{marked(p)}</p>" for p in section.paragraphs]
        out.append("</section>")
    if draft.drafting_notes:
        out.append('<section class="notes"><h2>Drafting notes (not part of the text to adopt)</h2>')
        out += [f"<p><strong>{e(h)}.</strong> {marked(n)}</p>" for h, n in draft.drafting_notes]
        out.append("</section>")
    if draft.resolved:
        out.append("<section><h2>Options resolved</h2><ul>")
        out += [f"<li>{e(r)}</li>" for r in draft.resolved]
        out.append("</ul></section>")
    out.append('<section class="notes"><h2>Notes</h2><ol>')
    for note in draft.endnotes:
        links = " ".join(
            f'<a href="{e(u, quote=True)}">{e(u)}</a>'
            for u in _where(note, base_url)
            if u.startswith(("http://", "https://", "/"))
        )
        out.append(f'<li id="note-{note.number}">{e(note.text)} {links}</li>')
    out.append("</ol></section></main></body></html>")
    return "\n".join(out) + "\n"


def _xml_text(text: str) -> str:
    """Word documents are XML: characters XML cannot hold are dropped, everything else is text."""
    return _XML_UNSAFE.sub("", text)


def draft_docx(draft: Draft, base_url: str | None = None) -> bytes:
    """Title, "Section N." headings in Word's Heading 1 style, body paragraphs, endnote marks as
    superscript numbers and the notes as a numbered list."""
    document = Document()
    document.core_properties.title = _xml_text(draft.title)
    document.core_properties.author = "protocol-kb draft"
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(12)
    document.add_heading(_xml_text(draft.title), level=0)
    if draft.state_law:
        document.add_heading(STATE_LAW_HEADING, level=2)
        for sentence in draft.state_law:
            document.add_paragraph(_xml_text(sentence), style="Intense Quote")
    document.add_paragraph(_xml_text(f"Be it enacted by {draft.adopter.name}:"))

    def paragraph_with_marks(text: str, style: str | None = None) -> None:
        paragraph = document.add_paragraph(style=style)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        position = 0
        for match in _MARK.finditer(text):
            paragraph.add_run(_xml_text(text[position : match.start()]))
            mark = paragraph.add_run(match.group(1))
            mark.font.superscript = True
            position = match.end()
        paragraph.add_run(_xml_text(text[position:]))

    for section in draft.sections:
        document.add_heading(_xml_text(f"Section {section.number}. {section.heading}"), level=1)
        for text in section.paragraphs:
            paragraph_with_marks(text)
    if draft.drafting_notes:
        document.add_heading("Drafting notes (not part of the text to adopt)", level=1)
        for heading, text in draft.drafting_notes:
            paragraph_with_marks(f"{heading}. {text}")
    if draft.resolved:
        document.add_heading("Options resolved", level=1)
        for item in draft.resolved:
            document.add_paragraph(_xml_text(item), style="List Bullet")
    document.add_heading("Notes", level=1)
    for note in draft.endnotes:
        where = " ".join(_where(note, base_url))
        document.add_paragraph(_xml_text(f"{note.number}. {note.text} {where}".rstrip()))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def render_draft(draft: Draft, fmt: str, base_url: str | None = None) -> bytes:
    if fmt == "docx":
        return draft_docx(draft, base_url)
    text = draft_html(draft, base_url) if fmt == "html" else draft_markdown(draft, base_url)
    return text.encode("utf-8")
