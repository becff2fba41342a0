"""The Jinja2 environment for HTML pages: autoescaping on, and the filters pages share."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

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
    """A query string from the non-empty parameters, in the order given."""
    kept = {k: v for k, v in params.items() if v not in (None, "", False, [])}
    return urlencode(kept, doseq=True)


env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
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
)
env.globals.update(query=query, version=__version__, embed_parent_script=embed_parent_script)


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    page = env.get_template(template).render(request=request, **context)
    return HTMLResponse(page, status_code=status_code)
