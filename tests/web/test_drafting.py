"""The drafting page in Chromium: printing prints the document alone, each choice says in plain
words what the draft did with it, and an advocate reaches the one-page ask as a one-page PDF."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import office
from tests.web.harness import assert_accessible

DC_HOURS = "us-dc/law-19-194/sec-24-211-07-a"
MAX_CLICKS = 8
KEY = re.compile(r"\b[a-z]+_[a-z_]+\b")  # an internal key such as max_hold_hours


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(
        ["pdfinfo", str(pdf)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    match = re.search(r"^Pages:\s+(\d+)$", info, re.MULTILINE)
    assert match, info
    return int(match.group(1))


def pdf_text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout


@pytest.mark.parametrize("document", ["ordinance", "ask"])
def test_printing_the_drafting_page_prints_only_the_document(
    page: Page, live_server: str, tmp_path: Path, document: str
) -> None:
    page.goto(f"{live_server}/draft?name=Example+County&level=county&document={document}")
    title = "An Ordinance of Example County" if document == "ordinance" else "What we ask of"
    expect(page.locator(".draft-document .draft-title")).to_contain_text(title)
    expect(page.locator("form.draft-form")).to_be_visible()

    page.emulate_media(media="print")
    expect(page.locator("form.draft-form")).to_be_hidden()
    expect(page.locator("header.site")).to_be_hidden()
    expect(page.locator("main > h1")).to_be_hidden()
    expect(page.locator(".draft-downloads")).to_be_hidden()
    expect(page.locator(".draft-document")).to_be_visible()

    printed = tmp_path / "printed.pdf"
    printed.write_bytes(page.pdf(prefer_css_page_size=True))
    text = pdf_text(printed)
    assert title in " ".join(text.split())
    for form_text in ("Who would adopt it", "Name of the adopting body", "Leave out", "Download"):
        assert form_text not in text, form_text
    pages = pdf_pages(printed)
    if document == "ask":
        assert pages == 1, pages
    else:
        assert pages > 1


@pytest.mark.parametrize(
    "adopter",
    [
        "name=Harris+County&level=county&jurisdiction_id=us-tx-harris-county",  # state law on top
        "name=Example+County&level=county",  # six points, two reasons
    ],
)
def test_the_spanish_ask_prints_on_one_page(
    page: Page, live_server: str, tmp_path: Path, adopter: str
) -> None:
    # Spanish runs longer than English: its points, reasons and state law still fit one page.
    page.goto(f"{live_server}/draft?{adopter}&document=ask&lang=es")
    expect(page.locator(".draft-document .draft-title")).to_contain_text("Lo que pedimos a")
    page.emulate_media(media="print")
    printed = tmp_path / "printed-es.pdf"
    printed.write_bytes(page.pdf(prefer_css_page_size=True))
    text = " ".join(pdf_text(printed).split())
    assert "Lo que pedimos" in text and "Por qué" in text and "What we ask" not in text
    assert pdf_pages(printed) == 1
    assert_accessible(page)


def test_each_choice_says_what_the_draft_did_with_it(page: Page, live_server: str) -> None:
    # Pinning D.C.'s 24-hour limit and declining every hold: the limit is dropped, and said so.
    page.goto(
        f"{live_server}/draft?name=Example+County&level=county&default=omit"
        f"&pinned={DC_HOURS}&c.detainer_response=declines_all"
    )
    hours = page.locator("fieldset.question", has_text="Longest time").locator(".choice-note")
    expect(hours).to_contain_text("“24 hours”, is left out: the draft declines all holds, so")
    expect(hours).to_contain_text("no limit is needed")
    detainers = page.locator("fieldset.question", has_text="ICE civil detainer")
    expect(detainers.locator(".choice-note")).to_contain_text("“Declines all holds”. Your choice.")

    # Holding on a judge's warrant instead, and choosing the 24-hour limit: the note beside each
    # question changes in place.
    page.evaluate("window.__same_page = true")
    detainers.locator('input[value="judicial_warrant_only"]').check()
    expect(hours).to_contain_text("Not in the draft: you chose to leave it out.")
    page.locator("fieldset.question", has_text="Longest time").get_by_label(
        re.compile("24")
    ).check()
    expect(hours).to_contain_text(re.compile(r"In the draft, section \d+: “24 hours”. Your choice"))
    expect(detainers.locator(".choice-note")).to_contain_text(
        "“Holds only with a judicial warrant”"
    )
    assert page.evaluate("window.__same_page") is True
    notes = page.locator(".draft-form .choice-note").all_inner_texts()
    assert notes and not any(KEY.search(n) for n in notes), [n for n in notes if KEY.search(n)]
    assert_accessible(page)


def test_an_advocate_reaches_the_one_page_ask_as_pdf_in_at_most_8_clicks(
    page: Page, live_server: str, tmp_path: Path
) -> None:
    office("pdfinfo")
    clicks = 0
    page.goto(live_server + "/")
    box = page.get_by_label("Find your county or state")
    box.click()
    clicks += 1
    box.fill("Cook County, Illinois")
    page.get_by_role("button", name="See what rules apply").click()
    clicks += 1
    page.get_by_role("link", name="Compare with the strongest laws in force").click()
    clicks += 1
    page.get_by_role("link", name="Draft from these").click()
    clicks += 1
    expect(page).to_have_url(re.compile(r"/draft\?protocols="))
    page.get_by_label(re.compile("The one-page ask")).check()
    clicks += 1
    preview = page.locator("[data-draft-preview]")
    expect(preview.locator(".ask-document")).to_be_visible()
    with page.expect_download(timeout=90_000) as info:
        preview.get_by_role("link", name="PDF").click()
    clicks += 1
    assert clicks <= MAX_CLICKS, clicks
    assert info.value.suggested_filename.endswith("-ask.pdf")
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    assert pdf_pages(saved) == 1
    assert "What we ask" in pdf_text(saved)
