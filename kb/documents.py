"""A draft as the document asked for (the ordinance or the one-page ask) in the format asked for
(Markdown, HTML, DOCX or PDF), and the file name it is saved under."""

from __future__ import annotations

import re
import unicodedata

from sqlmodel import Session

from kb.ask import Translate, draft_ask
from kb.ask_render import render_ask
from kb.draft import Adopter, Draft
from kb.draft_render import MEDIA_TYPES as TEXT_MEDIA_TYPES
from kb.draft_render import render_draft
from kb.pdf import docx_to_pdf

DOCUMENTS = ("ordinance", "ask")
FORMATS = ("md", "html", "docx", "pdf")
MEDIA_TYPES = {**TEXT_MEDIA_TYPES, "pdf": "application/pdf"}
MAX_FILE_STEM = 80


def render_document(
    db: Session,
    draft: Draft,
    document: str,
    fmt: str,
    base_url: str | None = None,
    office: str = "soffice",
    timeout: float = 60,
    lang: str = "en",
    translate: Translate | None = None,
) -> bytes:
    """`document` ("ordinance" or "ask") as `fmt`; a PDF is LibreOffice's rendering of the DOCX
    (kb.pdf), PdfUnavailable when LibreOffice is not there. The ask's fixed phrases are in
    `lang` (kb.ask_text), its content too with `translate` (kb.ask); the ordinance is English."""
    source = "docx" if fmt == "pdf" else fmt
    if document == "ask":
        data = render_ask(draft_ask(db, draft, lang, translate), source)
    else:
        data = render_draft(draft, source, base_url)
    return docx_to_pdf(data, office, timeout) if fmt == "pdf" else data


def file_name(adopter: Adopter, document: str, fmt: str) -> str:
    """ "example-county-ask.pdf": the adopter's name in lower-case ASCII letters and digits joined
    by hyphens (accents dropped, anything else removed), then the document, then the format."""
    plain = unicodedata.normalize("NFKD", adopter.name).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:MAX_FILE_STEM].strip("-")
    kind = "ask" if document == "ask" else ("act" if adopter.level == "state" else "ordinance")
    return f"{stem or 'draft'}-{kind}.{fmt}"
