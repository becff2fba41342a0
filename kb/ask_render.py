"""The one-page ask as Markdown, HTML (standalone, every text escaped) and DOCX (one page of A4 or
Letter: narrow margins, 10 pt). The words around the points come from kb.ask_text."""

from __future__ import annotations

import html
import io

from docx import Document
from docx.shared import Cm, Pt

from kb.ask import Ask, AskPoint
from kb.ask_text import ask_text
from kb.draft_render import _md_text, _xml_text


def _cites(point: AskPoint, words: dict[str, str]) -> str:
    cites = "; ".join(point.citations)
    if point.more_citations:
        cites += "; " + words["and_more"].format(n=point.more_citations)
    return f"{words['drawn_from']}: {cites}." if cites else ""


def _cites_html(point: AskPoint, words: dict[str, str], lang: str) -> str:
    if not point.citations:
        return ""
    cites = _in("en", html.escape("; ".join(point.citations)), lang)
    if point.more_citations:
        cites += "; " + html.escape(words["and_more"].format(n=point.more_citations))
    return f"{html.escape(words['drawn_from'])}: {cites}."


def ask_markdown(ask: Ask) -> str:
    words = ask_text(ask.lang)
    lines = [f"# {_md_text(ask.title)}", "", f"**{_md_text(ask.to)}**", ""]
    if ask.state_law:
        lines += [f"> **{_md_text(words['state_law'])}.** {_md_text(ask.state_law_intro or '')}"]
        lines += [">"] + [f"> - {_md_text(s)}" for s in ask.state_law] + [""]
    lines += [_md_text(ask.intro), ""]
    if ask.source_note:
        lines += [f"*{_md_text(ask.source_note)}*", ""]
    lines += [f"## {_md_text(words['asks'])}", ""]
    for point in ask.points:
        cites = _cites(point, words)
        lines.append(
            f"{point.number}. **{_md_text(point.title)}.** {_md_text(point.text)}"
            + (f" *{_md_text(cites)}*" if cites else "")
        )
    if ask.further:
        lines.append(f"{len(ask.points) + 1}. {_md_text(ask.further)}")
    if not ask.points:
        lines.append(_md_text(words["no_points"]))
    if ask.reasons:
        lines += ["", f"## {_md_text(words['why'])}", ""]
        for reason in ask.reasons:
            where = f" <{reason.url}>" if reason.url else ""
            lines.append(
                f"- {_md_text(reason.text)} ({words['source']}: {_md_text(reason.source)}{where})"
            )
    lines += ["", f"*{_md_text(ask.closing)}*"]
    return "\n".join(lines) + "\n"


ASK_CSS = (
    "body{font:10pt/1.35 Georgia,serif;max-width:44rem;margin:1.5rem auto;padding:0 1rem}"
    "h1{font-size:1.35rem;margin:0 0 .2rem}h2{font-size:1.05rem;margin:.8rem 0 .3rem}"
    "ol{padding-left:1.4rem}li{margin:.25rem 0}.cite,.source{font-size:.85em;color:#444}"
    ".to{font-weight:bold;margin:0 0 .5rem}"
    ".state-law{border:2px solid #8a1c1c;padding:.3rem .8rem;margin:.5rem 0}"
    ".state-law h2{margin:.2rem 0}.closing,.source-note{font-size:.9em;font-style:italic}"
    "@page{size:auto;margin:1.5cm}@media print{body{margin:0;max-width:none}}"
)


def _in(lang: str, text: str, outer: str) -> str:
    """`text` (escaped HTML) marked with its language where it differs from the page's."""
    return text if lang == outer else f'<span lang="{html.escape(lang, quote=True)}">{text}</span>'


def ask_html_fragment(ask: Ask) -> str:
    """The ask as an <article>, for the drafting page and the standalone HTML. Names of laws and
    citations are English: marked so on an ask in another language, as is untranslated content."""
    e = html.escape
    words = ask_text(ask.lang)
    content = ask.content_lang
    out = ['<article class="ask-document">', f"<h1>{e(ask.title)}</h1>"]
    out.append(f'<p class="to">{e(ask.to)}</p>')
    if ask.state_law:
        out.append(f'<aside class="state-law" role="note"><h2>{e(words["state_law"])}</h2>')
        out.append(f"<p>{e(ask.state_law_intro or '')}</p><ul>")
        for i, sentence in enumerate(ask.state_law):
            name = ask.state_law_names[i] if i < len(ask.state_law_names) else ""
            said = e(sentence)
            if name and sentence.startswith(name):
                said = _in("en", e(name), ask.lang) + e(sentence[len(name) :])
            out.append(f"<li>{_in(content, said, ask.lang)}</li>")
        out.append("</ul></aside>")
    out.append(f"<p>{e(ask.intro)}</p>")
    if ask.source_note:
        out.append(f'<p class="source-note">{e(ask.source_note)}</p>')
    out.append(f"<h2>{e(words['asks'])}</h2>")
    if ask.points:
        out.append("<ol>")
        for point in ask.points:
            cites = _cites_html(point, words, ask.lang)
            said = f"<strong>{e(point.title)}.</strong> {e(point.text)}"
            out.append(
                f"<li>{_in(content, said, ask.lang)}"
                + (f' <span class="cite">{cites}</span>' if cites else "")
                + "</li>"
            )
        if ask.further:
            out.append(f"<li>{e(ask.further)}</li>")
        out.append("</ol>")
    else:
        out.append(f"<p>{e(words['no_points'])}</p>")
    if ask.reasons:
        out.append(f"<h2>{e(words['why'])}</h2><ul>")
        for reason in ask.reasons:
            source = _in("en", e(reason.source), ask.lang)
            if reason.url and reason.url.startswith(("http://", "https://")):
                source = f'<a href="{e(reason.url, quote=True)}">{source}</a>'
            out.append(
                f"<li>{_in(content, e(reason.text), ask.lang)} "
                f'<span class="source">({e(words["source"])}: {source})</span></li>'
            )
        out.append("</ul>")
    out.append(f'<p class="closing">{e(ask.closing)}</p>')
    out.append("</article>")
    return "\n".join(out)


def ask_html(ask: Ask) -> str:
    e = html.escape
    return (
        "<!doctype html>\n"
        f'<html lang="{e(ask.lang, quote=True)}"><head><meta charset="utf-8">\n'
        f"<title>{e(ask.title)}</title>\n<style>{ASK_CSS}</style>\n</head><body><main>\n"
        + ask_html_fragment(ask)
        + "\n</main></body></html>\n"
    )


def ask_docx(ask: Ask) -> bytes:
    """One page: 1.5 cm margins, 10 pt text, Word's own Title, Heading 2 and List Number."""
    words = ask_text(ask.lang)
    document = Document()
    document.core_properties.title = _xml_text(ask.title)
    document.core_properties.author = "protocol-kb draft"
    document.core_properties.language = ask.lang
    for section in document.sections:
        section.top_margin = section.bottom_margin = Cm(1.5)
        section.left_margin = section.right_margin = Cm(1.8)
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(10)
    normal.paragraph_format.space_after = Pt(3)
    document.styles["Title"].font.size = Pt(16)
    for name in ("Heading 2",):
        document.styles[name].font.size = Pt(12)
        document.styles[name].paragraph_format.space_before = Pt(6)
        document.styles[name].paragraph_format.space_after = Pt(2)

    document.add_heading(_xml_text(ask.title), level=0)
    to = document.add_paragraph()
    to.add_run(_xml_text(ask.to)).bold = True
    if ask.state_law:
        document.add_heading(_xml_text(words["state_law"]), level=2)
        document.add_paragraph(_xml_text(ask.state_law_intro or ""))
        for sentence in ask.state_law:
            document.add_paragraph(_xml_text(sentence), style="List Bullet")
    document.add_paragraph(_xml_text(ask.intro))
    if ask.source_note:
        note = document.add_paragraph().add_run(_xml_text(ask.source_note))
        note.italic = True
        note.font.size = Pt(9)
    document.add_heading(_xml_text(words["asks"]), level=2)
    for point in ask.points:
        item = document.add_paragraph(style="List Number")
        item.add_run(_xml_text(f"{point.title}. ")).bold = True
        item.add_run(_xml_text(point.text))
        cites = _cites(point, words)
        if cites:
            cite = item.add_run(_xml_text(" " + cites))
            cite.italic = True
            cite.font.size = Pt(9)
    if ask.further:
        document.add_paragraph(_xml_text(ask.further), style="List Number")
    if not ask.points:
        document.add_paragraph(_xml_text(words["no_points"]))
    if ask.reasons:
        document.add_heading(_xml_text(words["why"]), level=2)
        for reason in ask.reasons:
            item = document.add_paragraph(style="List Bullet")
            item.add_run(_xml_text(reason.text + " "))
            source = item.add_run(_xml_text(f"({words['source']}: {reason.source})"))
            source.italic = True
            source.font.size = Pt(9)
    closing = document.add_paragraph()
    closing.add_run(_xml_text(ask.closing)).italic = True
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def render_ask(ask: Ask, fmt: str) -> bytes:
    if fmt == "docx":
        return ask_docx(ask)
    return (ask_html(ask) if fmt == "html" else ask_markdown(ask)).encode("utf-8")
