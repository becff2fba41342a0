"""The one-page ask (kb.ask): its points, citations and reasons from the records, state law on top,
file names, and the PDF LibreOffice prints from it: one page, however long the choices."""

from __future__ import annotations

import io
import re
import subprocess
import threading
from pathlib import Path

import docx
import pytest
from sqlmodel import Session

from api.localized import content
from kb import store
from kb.ask import MAX_POINTS, PAGE_BUDGET, Ask, draft_ask
from kb.ask_render import ask_docx, ask_html, ask_markdown
from kb.ask_text import ASK_TEXT
from kb.documents import file_name, render_document
from kb.draft import Adopter, Draft, DraftOptions, draft_policy
from kb.draft_render import STATE_LAW_HEADING, render_draft
from kb.pdf import PdfUnavailable, docx_to_pdf
from tests.conftest import office

COUNTY = {"name": "Example County", "level": "county"}
HARRIS = {"name": "Harris County", "level": "county", "jurisdiction_id": "us-tx-harris-county"}
LONG_NAME = ("Board of Commissioners of the Consolidated Municipality and County of " * 4)[:200]


def pages(pdf: bytes, folder: Path) -> int:
    """The page count pdfinfo reads from the PDF."""
    path = folder / f"counted-{len(list(folder.glob('counted-*')))}.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(
        ["pdfinfo", str(path)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    match = re.search(r"^Pages:\s+(\d+)$", info, re.MULTILINE)
    assert match, info
    return int(match.group(1))


def drafted(db: Session, **options: object) -> tuple[Draft, Ask]:
    draft = draft_policy(db, DraftOptions.model_validate(options))
    return draft, draft_ask(db, draft)


def test_the_ask_of_the_strongest_draft(db: Session) -> None:
    draft, ask = drafted(db, adopter=COUNTY, document="ask")
    operative = [s for s in draft.sections if s.model_id]
    assert 3 <= len(ask.points) <= MAX_POINTS
    assert [p.number for p in ask.points] == list(range(1, len(ask.points) + 1))
    assert ask.title == "What we ask of Example County"
    assert ask.to == "To the governing body of Example County"
    by_id = {m.id: m for m in store.model_provisions(db)}
    first = ask.points[0]
    assert first.key == "detainer_response" and first.section == operative[0].number
    assert first.title == by_id["detainer_response/declines_all"].title
    assert first.citations == ["California Values Act (SB 54, 2017), Gov. Code § 7284.6(a)(1)(B)"]
    # Every citation is a provision the model is drawn from: its law's short name and its cite.
    for point in ask.points:
        model = next(m for m in by_id.values() if m.key == point.key and m.title == point.title)
        named = {}
        for protocol in store.get_protocols(db, [p.rpartition("/")[0] for p in model.drawn_from]):
            for provision in protocol.provisions:
                if provision.id in model.drawn_from:
                    named[f"{protocol.short_name}, {provision.cite}"] = provision.id
        assert set(point.citations) <= set(named), point.citations
        assert len(point.citations) + point.more_citations == len(set(named))
    # More sections than the page holds: the sixth point names the rest of the draft.
    assert len(operative) > MAX_POINTS and len(ask.points) == MAX_POINTS - 1
    assert ask.further is not None
    assert re.search(r"^6\. Adopt the rest of the attached draft too: ", ask_markdown(ask), re.M)
    for section in operative[MAX_POINTS - 1 :]:
        assert section.heading in ask.further
    # Why: court rulings first, each from a background record with its source.
    reasons = ask.reasons
    assert reasons[0].text.startswith("In Galarza v. Szalczyk, 745 F.3d 634")
    assert all(r.url and r.url.startswith("http") for r in reasons)
    # Plain words only: no internal key reaches the document.
    text = ask_markdown(ask)
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), re.findall(r"\b[a-z]+_[a-z_]+\b", text)
    assert ask.state_law == []


def test_state_law_is_said_first_in_the_ask_and_the_ordinance(db: Session) -> None:
    draft, ask = drafted(db, adopter=HARRIS, document="ask")
    assert draft.state_law == ask.state_law
    (sb4,) = [s for s in ask.state_law if "SB 4" in s]
    assert sb4.startswith("Texas anti-sanctuary law (SB 4, 2017) requires “Honors holds” on")
    assert "Penalties it sets: fine, removal from office, criminal." in sb4
    assert "detainer_response" not in {p.key for p in ask.points}
    markdown = ask_markdown(ask)
    assert markdown.index("State law") < markdown.index("## What we ask")
    assert markdown.index("SB 4") < markdown.index("## What we ask")
    page = ask_html(ask)
    assert page.index('class="state-law"') < page.index("<h2>What we ask</h2>")
    word = docx.Document(io.BytesIO(ask_docx(ask)))
    paragraphs = [p.text for p in word.paragraphs]
    assert paragraphs.index("State law") < paragraphs.index("What we ask")
    # The ordinance says it before its enacting clause, in every format.
    for fmt in ("md", "html", "docx"):
        data = render_draft(draft, fmt)
        text = (
            "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
            if fmt == "docx"
            else data.decode()
        )
        assert text.index(STATE_LAW_HEADING) < text.index("Be it enacted by"), fmt
        assert text.index("requires “Honors holds”") < text.index("Be it enacted by"), fmt
    plain, _ = drafted(db, adopter=COUNTY)
    assert STATE_LAW_HEADING not in render_draft(plain, "md").decode()


def test_every_language_has_every_phrase() -> None:
    english = set(ASK_TEXT["en"])
    for lang, words in ASK_TEXT.items():
        assert set(words) == english, lang


def test_file_names_come_from_the_adopter() -> None:
    county = Adopter(name="Example County", level="county")
    assert file_name(county, "ask", "pdf") == "example-county-ask.pdf"
    assert file_name(county, "ordinance", "docx") == "example-county-ordinance.docx"
    assert file_name(Adopter(name="Oregon", level="state"), "ordinance", "md") == "oregon-act.md"
    hostile = Adopter(name='Ciudad de "Méx" / ../<x>\\; rm', level="city")
    assert file_name(hostile, "ask", "html") == "ciudad-de-mex-x-rm-ask.html"
    assert file_name(Adopter(name="«»", level="city"), "ask", "pdf") == "draft-ask.pdf"
    assert len(file_name(Adopter(name=LONG_NAME, level="county"), "ask", "pdf")) <= 80 + 8


def longest_choices(db: Session) -> dict[str, str]:
    """Per question the model level with the longest summary and most citations: the longest
    points the ask can hold. Holding on conditions keeps the conditions in the draft, so the
    two levels that mean "no holds" are not taken."""
    picked: dict[str, tuple[int, str]] = {}
    for model in store.model_provisions(db):
        if model.value is None or model.value in ("no_holds", "0"):
            continue
        weight = len(model.summary) + 60 * len(model.drawn_from)
        if model.key not in picked or weight > picked[model.key][0]:
            picked[model.key] = (weight, model.value)
    choices = {key: value for key, (_, value) in picked.items()}
    choices["detainer_response"] = "conditional"
    return choices


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_ask_prints_on_one_page_and_the_ordinance_on_more(
    db: Session, tmp_path: Path, lang: str
) -> None:
    # Spanish (the catalogue's, as the site passes it) runs about a fifth longer than English.
    program = office("pdfinfo")
    translate = content(lang)
    longest = longest_choices(db)
    cases = {
        "strongest": {"adopter": COUNTY},
        "state law": {"adopter": HARRIS},
        "longest": {
            "adopter": {**HARRIS, "name": LONG_NAME},
            "choices": longest,
        },
        "longest, no state law": {"adopter": {**COUNTY, "name": LONG_NAME}, "choices": longest},
    }
    for name, options in cases.items():
        draft = draft_policy(db, DraftOptions.model_validate(options))
        ask = draft_ask(db, draft, lang, translate)
        assert len(ask.points) >= 3 and ask.reasons, name
        assert ask.content_lang == lang
        pdf = render_document(
            db, draft, "ask", "pdf", office=program, timeout=120, lang=lang, translate=translate
        )
        assert pdf.startswith(b"%PDF"), name
        assert pages(pdf, tmp_path) == 1, f"{name}: the ask runs past one page"
    if lang == "en":
        strongest = draft_policy(db, DraftOptions.model_validate({"adopter": COUNTY}))
        ordinance = render_document(db, strongest, "ordinance", "pdf", office=program, timeout=120)
        assert pages(ordinance, tmp_path) > 1


def test_the_page_budget_drops_reasons_before_points(db: Session) -> None:
    draft = draft_policy(
        db,
        DraftOptions.model_validate(
            {"adopter": {**HARRIS, "name": LONG_NAME}, "choices": longest_choices(db)}
        ),
    )
    ask = draft_ask(db, draft)
    full = draft_ask(db, draft_policy(db, DraftOptions.model_validate({"adopter": COUNTY})))
    assert len(ask.reasons) < len(full.reasons) and len(ask.reasons) >= 1
    operative = [s for s in draft.sections if s.model_id]
    assert len(operative) > MAX_POINTS
    assert len(ask.points) == MAX_POINTS - 1 and ask.further  # the sixth names the rest
    assert PAGE_BUDGET > 0


def test_without_libreoffice_pdf_is_unavailable_in_words() -> None:
    with pytest.raises(PdfUnavailable) as caught:
        docx_to_pdf(b"PK", "/nonexistent/bin/soffice", timeout=5)
    assert caught.value.http_status == 503
    assert "/nonexistent" not in caught.value.public
    assert "LibreOffice is not installed" in caught.value.public


def test_pdfs_rendered_at_once_do_not_clash(db: Session, tmp_path: Path) -> None:
    """Each rendering has its own folder and LibreOffice profile: two at once both succeed."""
    program = office("pdfinfo")
    draft = draft_policy(db, DraftOptions.model_validate({"adopter": COUNTY}))
    source = ask_docx(draft_ask(db, draft))
    results: list[bytes] = []
    errors: list[BaseException] = []

    def render() -> None:
        try:
            results.append(docx_to_pdf(source, program, timeout=180))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=render) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len(results) == 3
    assert all(pages(pdf, tmp_path) == 1 for pdf in results)
