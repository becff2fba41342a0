"""The Jinja2 environment for HTML pages: autoescaping on, and the filters pages share."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from api import i18n
from kb import __version__

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"

_SENTENCE = re.compile(r"(.+?[.!?])(\s|$)", re.S)


@lru_cache(maxsize=4096)
def protocol_url(protocol_id: str) -> str:
    return "/protocols/" + quote(protocol_id, safe="/")


@lru_cache(maxsize=16384)
def provision_url(provision_id: str) -> str:
    """Provision ids are `<protocol id>/<anchor>`; the provision lives on its protocol's page."""
    protocol_id, _, anchor = provision_id.rpartition("/")
    return f"{protocol_url(protocol_id)}#{quote(anchor)}"


def anchor_of(provision_id: str) -> str:
    return provision_id.rpartition("/")[2]


@lru_cache(maxsize=4096)
def first_sentence(text: str | None, limit: int = 220) -> str:
    """A short summary for a table cell: the first sentence, cut at a word if still long."""
    if not text:
        return ""
    text = " ".join(text.split())
    match = _SENTENCE.match(text)
    sentence = match.group(1) if match else text
    if len(sentence) > limit:
        sentence = sentence[:limit].rsplit(" ", 1)[0] + "…"
    return sentence


def paragraphs(text: str | None) -> list[str]:
    """Summaries are plain text; blank lines separate paragraphs, line breaks are wrapping."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text or "") if p.strip()]


def words(value: str | None) -> str:
    """`in_force` → `in force`: ids and statuses as words."""
    return (value or "").replace("_", " ")


def safe_url(url: str | None) -> str | None:
    """Only web links become hrefs; anything else (javascript:, data:) is shown as text."""
    url = (url or "").strip()
    return url if url.lower().startswith(("https://", "http://")) else None


def embed_parent_script(origin: str | None) -> str:
    """The script an embedding page adds so the frame takes the height the widget reports.
    Without a known origin (KB_PUBLIC_URL unset) it relies on the source check alone: only the
    frame that sent the message is resized."""
    from_origin = f'event.origin !== "{origin}" || ' if origin else ""
    return (
        "<script>\n"
        'window.addEventListener("message", function (event) {\n'
        f'  if ({from_origin}!event.data || event.data.type !== "protocol-kb:height") return;\n'
        '  document.querySelectorAll("iframe").forEach(function (frame) {\n'
        '    if (frame.contentWindow === event.source) frame.style.height = event.data.height + "px";\n'
        "  });\n"
        "});\n"
        "</script>"
    )


def combine(params: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    return {**params, **changes}


def query(params: dict[str, Any]) -> str:
    """A query string from the non-empty parameters, in the order given (as
    `urlencode(…, doseq=True)` writes it)."""
    parts = []
    for name, value in params.items():
        if value in (None, "", False, []):
            continue
        for one in value if isinstance(value, list | tuple) else (value,):
            parts.append(f"{_quoted(str(name))}={_quoted(str(one))}")
    return "&".join(parts)


@lru_cache(maxsize=4096)
def _quoted(text: str) -> str:
    # A page writes the same few values (its query, its protocols) into dozens of links.
    return quote_plus(text)


FRAGMENT_MEMO = 8192
"""Rendered fragments kept per process (least recently used dropped first): a compare cell is
under 2 KB, so at most about 16 MB."""

_fragments: OrderedDict[tuple[int, str, str | None, str | None, str], tuple[object, Markup]] = (
    OrderedDict()
)
_fragments_lock = threading.Lock()


def fragment(
    template: str,
    subject: object,
    target: str | None = None,
    label: str | None = None,
    lang: str = i18n.DEFAULT,
) -> Markup:
    """`template` rendered with `subject` (as `cell`), `target` and `label` in the page's
    language, kept while `subject` lives.

    For the objects kb keeps per build and shares between requests (kb.compare's cells): the
    same object always renders the same way, so it is rendered once. The entry holds the object,
    so its id cannot be reused by another while the entry exists."""
    key = (id(subject), template, target, label, lang)
    with _fragments_lock:
        kept = _fragments.get(key)
        if kept is not None:
            _fragments.move_to_end(key)
            return kept[1]
    html = Markup(
        env.get_template(template)
        .render(cell=subject, target=target, label=label, lang=lang)
        .strip()
    )
    with _fragments_lock:
        _fragments[key] = (subject, html)
        while len(_fragments) > FRAGMENT_MEMO:
            _fragments.popitem(last=False)
    return html


@pass_context
def _gettext(context: Context, message: str) -> str:
    return i18n.gettext(context.get("lang", i18n.DEFAULT), message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return i18n.ngettext(context.get("lang", i18n.DEFAULT), singular, plural, n)


@pass_context
def translate_content(context: Context, text: str | None) -> str:
    """A content string stored in English (a codebook question, a topic name) in the page's
    language; one the catalogue does not hold stays as written."""
    return i18n.gettext(context.get("lang", i18n.DEFAULT), text or "")


@pass_context
def answer_label(context: Context, label: str, value: object) -> str:
    return i18n.answer_label(context.get("lang", i18n.DEFAULT), label, value)


@pass_context
def local_date(context: Context, day: object, style: str = "long") -> str:
    return i18n.format_date(context.get("lang", i18n.DEFAULT), day, style)


@pass_context
def say(context: Context, said: Any) -> str:
    """A sentence kb wrote as a message (kb.message) in the page's language."""
    return i18n.say(context.get("lang", i18n.DEFAULT), said)


@pass_context
def local_number(context: Context, number: int | float) -> str:
    return i18n.format_number(context.get("lang", i18n.DEFAULT), number)


@pass_context
def longdate(context: Context, day: Any) -> str:
    """18 July 2025; in Spanish, 18 de julio de 2025."""
    lang = context.get("lang", i18n.DEFAULT)
    if lang == i18n.DEFAULT:
        return f"{day.day} {day:%B %Y}"
    return i18n.format_date(lang, day)


env = Environment(
    extensions=["jinja2.ext.i18n"],
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    # Templates ship with the code: checking their files' times on every render (four stats for
    # a page with its base and includes) buys nothing in a running server.
    auto_reload=False,
)
env.filters.update(
    first_sentence=first_sentence,
    paragraphs=paragraphs,
    words=words,
    protocol_url=protocol_url,
    provision_url=provision_url,
    anchor=anchor_of,
    safe_url=safe_url,
    combine=combine,
    t=translate_content,
    answer_label=answer_label,
    local_date=local_date,
    number=local_number,
    longdate=longdate,
    say=say,
)
env.policies["ext.i18n.trimmed"] = True  # `{% trans %}` blocks are wrapped text: one msgid line
env.install_gettext_callables(  # type: ignore[attr-defined]  # added by jinja2.ext.i18n
    _gettext, _ngettext, newstyle=True
)
env.globals.update(
    fragment=fragment, query=query, version=__version__, embed_parent_script=embed_parent_script
)


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """The page in the request's language (api.i18n.page_language, or `lang` in `context`),
    with the links that switch it."""
    lang = context.get("lang") or i18n.page_language(request, strict=status_code < 400)
    page = env.get_template(template).render(
        {"request": request, "lang": lang, "languages": language_links(request), **context}
    )
    response = HTMLResponse(
        page,
        status_code=status_code,
        # Without `lang` in the URL the answer follows the cookie, then Accept-Language.
        headers={"Content-Language": lang, "Vary": "Accept-Language, Cookie"},
    )
    asked = request.query_params.get(i18n.PARAMETER)
    if asked == lang and "lang" not in context:  # a choice made with the switch is kept
        response.set_cookie(
            i18n.COOKIE, lang, max_age=i18n.COOKIE_AGE, path="/", samesite="lax", httponly=True
        )
    return response


def language_links(request: Request) -> list[tuple[str, str, str]]:
    """(language, its name, this page's URL in it): the same path and query, `lang` set."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != i18n.PARAMETER]
    links = []
    for lang in i18n.LANGUAGES:
        params = "&".join(f"{_quoted(k)}={_quoted(v)}" for k, v in [*kept, (i18n.PARAMETER, lang)])
        links.append((lang, i18n.NAMES[lang], f"{request.url.path}?{params}"))
    return links
