"""The site in a real browser: the advocate's path from search to a downloaded comparison, the
version redline, the pinned collection, the embed on another origin, XSS inertness and axe."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.web.harness import (
    TIMEOUT_MS,
    XSS_PROTOCOLS,
    PageErrors,
    StaticSite,
    assert_accessible,
    assert_inert,
)

COOK = "us-il-cook-county/ordinance-11-o-73"
DC = "us-dc/law-19-194"
SANTA_CLARA = "us-ca-santa-clara-county/board-policy-3-54"
AB4 = "us-ca/ab-4-2013"
AB1081 = "us-ca/ab-1081-2012"
FOUR = ",".join([SANTA_CLARA, COOK, DC, AB4])

EVERY_PAGE = [
    "/",
    "/search",
    "/search?q=juvenile+holds",
    "/search?q=juvenles",
    f"/protocols/{AB4}",
    f"/protocols/{COOK}",
    "/compare",
    f"/compare?protocols={FOUR}",
    "/diff",
    f"/diff?from={AB1081}&to={AB4}",
    "/pins",
    f"/pins?ids={COOK}/sec-46-37-a",
    "/background",
    "/codebook",
    f"/embed/compare?protocols={FOUR}",
    "/no/such/page",
    "/?sort=score",
    "/draft",
    f"/draft?start_from={COOK}&strengthen=true&name=Cook+County&level=county",
    f"/gaps/{COOK}",
    "/where/us-tx-harris-county",
    "/where/us-fl-miami-dade-county?as_of=2020-01-01",
    "/where?place=harris",
    "/where/us-ga-appling-county",  # a 287(g) practice note
    "/protocols/us-ga/hb-1105-2024",  # the places where ICE's list shows no county agreement
]


@pytest.mark.parametrize("path", EVERY_PAGE)
def test_every_page_passes_axe(page: Page, live_server: str, path: str) -> None:
    page.goto(live_server + path)
    expect(page.locator("main")).to_be_visible()
    if path == "/where/us-ga-appling-county":  # the note is there to be checked
        expect(page.locator(".practice-note")).to_contain_text("The registry shows none:")
    assert_accessible(page)


def test_from_home_type_a_county_land_on_its_page_and_follow_a_source(
    page: Page, live_server: str
) -> None:
    page.goto(live_server + "/")
    box = page.get_by_label("Find your county or state")
    box.click()  # the type-ahead loads the place names on first focus
    expect(page.locator("datalist#places option").first).to_be_attached()
    box.fill("Harris County, Texas")
    page.get_by_role("button", name="See what rules apply").click()
    expect(page).to_have_url(re.compile(r"/where/us-tx-harris-county$"))
    expect(page.locator("h1")).to_have_text("What rules apply in Harris County, Texas?")
    expect(page.get_by_text("Not legal advice.")).to_be_visible()
    assert_accessible(page)
    page.locator("#detainer_response").get_by_role("link", name=re.compile("art. 2.251")).click()
    expect(page).to_have_url(re.compile(r"/protocols/us-tx/sb-4-2017#ccp-2-251-a$"))
    expect(page.locator(":target")).to_be_visible()


def test_search_to_provision_to_compare_to_csv(
    page: Page, live_server: str, tmp_path: Path
) -> None:
    page.goto(live_server + "/search")
    page.get_by_label(re.compile("Words")).fill("Cook County detainer reimbursement")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search\?q=Cook\+County"))
    page.locator(".hit h3 a").first.click()
    expect(page).to_have_url(re.compile(r"/protocols/us-il-cook-county/.+#"))
    expect(page.locator(":target")).to_be_visible()  # the provision the result pointed at

    page.get_by_role("link", name="Add to compare").click()
    expect(page).to_have_url(re.compile(r"/compare\?protocols=us-il-cook-county"))
    picker = page.locator("form.picker")
    picker.locator(f'input[value="{DC}"]').check()
    picker.locator(f'input[value="{SANTA_CLARA}"]').check()
    picker.get_by_role("button", name="Compare").click()
    table = page.locator("table.compare").first
    expect(table.locator("thead th")).to_have_count(4)
    all_rows = table.locator("tbody tr:not(.group)").count()

    page.get_by_role("link", name="Differences only").click()
    expect(page).to_have_url(re.compile("differences_only=true"))
    expect(page.get_by_role("link", name="Show all questions")).to_be_visible()
    differing = table.locator("tbody tr:not(.group)").count()
    assert 0 < differing < all_rows
    expect(table.locator("tr.same")).to_have_count(0)
    # The strongest answer is said in words, not colour alone.
    expect(table.locator(".strongest").first).to_contain_text("Most protective")

    with page.expect_download() as info:
        page.get_by_role("link", name="CSV").click()
    saved = tmp_path / "comparison.csv"
    info.value.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("\ufeffkey,question,protocol_id")
    assert {COOK, DC, SANTA_CLARA} <= set(re.findall(r"us-[a-z-]+/[a-z0-9-]+", text))
    # One row per cell, differing rows only.
    assert len(text.strip().splitlines()) == 1 + differing * 3


def test_the_embed_snippet_copies(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/compare?protocols={FOUR}")
    snippet = page.get_by_label("HTML to copy")
    expect(snippet).to_have_value(
        re.compile(r'^<iframe src="http://127\.0\.0\.1:\d+/embed/compare\?protocols=')
    )
    page.get_by_role("button", name="Copy snippet").click()
    expect(page.locator("[data-copy-status]")).to_have_text("Copied.")


def test_compare_from_a_search_result(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/search?q=juvenile+holds")
    page.locator(".hit").first.get_by_role(
        "link", name=re.compile("^Compare this protocol")
    ).click()
    expect(page).to_have_url(re.compile(r"/compare\?protocols="))
    expect(page.locator("table.compare").first.locator("thead th")).to_have_count(2)


def test_compare_prints_landscape_without_chrome(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/compare?protocols={FOUR}")
    page.emulate_media(media="print")
    expect(page.locator("header.site")).to_be_hidden()
    expect(page.locator("form.picker")).to_be_hidden()
    expect(page.locator("table.compare").first).to_be_visible()
    pdf = page.pdf(landscape=True, prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")


def test_diff_page_shows_the_redline(page: Page, live_server: str) -> None:
    page.goto(live_server + "/diff")
    page.get_by_role(
        "link", name=re.compile(r"TRUST Act \(AB 1081.*→ TRUST Act \(AB 4")
    ).first.click()
    expect(page).to_have_url(re.compile(f"from={quote(AB1081, safe='')}"))
    expect(page.locator("h1")).to_have_text("What changed between two versions")
    expect(page.locator(".redline ins").first).to_be_visible()
    expect(page.locator(".redline del").first).to_be_visible()
    expect(page.locator(".change-label .badge").first).to_have_text(re.compile("Changed|Added"))
    expect(page.locator("table.answers tbody tr").first).to_be_visible()


def test_pins_collect_across_pages_and_share_as_a_url(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/protocols/{COOK}")
    first = page.locator("article.provision button.pin").first
    expect(first).to_be_visible()  # shown only when the script runs
    first.click()
    expect(first).to_have_attribute("aria-pressed", "true")
    page.goto(f"{live_server}/search?q=juvenile+holds")
    page.locator(".hit button.pin").first.click()
    expect(page.locator("[data-pins-count]")).to_have_text("(2)")

    page.get_by_role("link", name=re.compile("^Pinned")).click()
    expect(page).to_have_url(re.compile(r"/pins\?ids="))
    expect(page.locator("ol.pinned > li")).to_have_count(2)
    shared = page.url
    md = page.get_by_role("link", name="Markdown")
    expect(md).to_have_attribute("href", re.compile("format=md"))

    # Someone else opens the shared link in a fresh browser: same list, offered to keep.
    other = page.context.browser.new_context()  # type: ignore[union-attr]
    try:
        theirs = other.new_page()
        theirs.goto(shared)
        expect(theirs.locator("ol.pinned > li")).to_have_count(2)
        theirs.get_by_role("button", name="Keep these pins in this browser").click()
        expect(theirs.locator("[data-pins-count]")).to_have_text("(2)")
    finally:
        other.close()

    page.get_by_role("button", name="Unpin all").click()
    expect(page).to_have_url(re.compile(r"/pins$"))
    expect(page.locator("[data-pins-count]")).to_have_text("")


def test_other_pages_refuse_to_be_framed(
    page: Page, live_server: str, other_origin: StaticSite, page_errors: PageErrors
) -> None:
    host = other_origin.serve(
        '<!doctype html><html lang="en"><title>Framer</title><main><h1>Framer</h1>'
        f'<iframe id="kb" src="{live_server}/compare?protocols={quote(COOK, safe="")}" title="x"></iframe></main></html>'
    )
    # Chromium reports the refusal on the console; waiting for that message is waiting for the
    # frame to have been answered and refused.
    with page.expect_console_message(
        lambda message: "frame-ancestors" in message.text, timeout=TIMEOUT_MS
    ) as refusal:
        page.goto(host)
    assert "frame-ancestors 'none'" in refusal.value.text
    framed = next(f for f in page.frames if f.parent_frame is not None)
    assert "compare" not in framed.content()  # Chromium showed its error page instead
    page_errors.clear()  # the refusal is logged as a console error: that is the point


@pytest.mark.parametrize(
    "path",
    [
        "/",
        f"/protocols/{XSS_PROTOCOLS[0]}",
        f"/protocols/{XSS_PROTOCOLS[1]}",
        f"/compare?protocols={','.join(XSS_PROTOCOLS)}",
        f"/embed/compare?protocols={','.join(XSS_PROTOCOLS)}",
        f"/diff?from={XSS_PROTOCOLS[0]}&to={XSS_PROTOCOLS[1]}",
        "/search?q=window",
        "/background",
        f"/pins?ids={XSS_PROTOCOLS[0]}/sec-a,{XSS_PROTOCOLS[0]}/sec-b",
        "/search?q=%3Cscript%3Ewindow.__xss%3D1%3C%2Fscript%3E",
        f"/gaps/{XSS_PROTOCOLS[1]}",
        f"/draft?start_from={XSS_PROTOCOLS[1]}&name=%3Cscript%3Ewindow.__xss%3D1%3C%2Fscript%3E",
    ],
)
def test_hostile_content_stays_inert(page: Page, xss_server: str, path: str) -> None:
    page.goto(xss_server + path)
    expect(page.locator("main")).to_be_visible()
    assert_inert(page)


def test_drafting_page_previews_choices_and_downloads_docx(
    page: Page, live_server: str, tmp_path: Path
) -> None:
    page.goto(f"{live_server}/protocols/{COOK}")
    page.get_by_role("link", name="What would make this stronger").click()
    expect(page.locator("h1")).to_have_text("What would make this stronger")
    page.get_by_role("link", name="Draft the stronger version").click()
    expect(page).to_have_url(re.compile(r"/draft\?.*strengthen=true"))
    preview = page.locator("[data-draft-preview]")
    expect(preview.locator(".draft-title")).to_contain_text("An Ordinance of Cook County")

    # Renaming the body and choosing another level update the preview in place (no reload).
    page.evaluate("window.__same_page = true")
    page.get_by_label("Name of the adopting body").fill("Exampleton")
    page.get_by_label("It is a").select_option("city")
    expect(preview.locator(".draft-title")).to_contain_text("An Ordinance of Exampleton")
    question = page.locator("fieldset.question", has_text="ICE civil detainer")
    question.locator('input[value="judicial_warrant_only"]').check()
    expect(preview).to_contain_text("judicial warrant")  # the defined term the section uses
    expect(preview).to_contain_text("Police Department")
    assert page.evaluate("window.__same_page") is True
    expect(page).to_have_url(re.compile("name=Exampleton"))  # the URL keeps the state

    # A contradiction is named, not drafted.
    page.locator("fieldset.question", has_text="Longest time").get_by_label(
        re.compile("48")
    ).check()
    question.locator('input[value="declines_all"]').check()
    expect(preview.locator(".error")).to_contain_text("conflicts with max_hold_hours '48'")
    question.locator('input[value="judicial_warrant_only"]').check()
    expect(preview.locator(".error")).to_have_count(0)

    with page.expect_download() as info:
        preview.get_by_role("link", name="Word (DOCX)").click()
    saved = tmp_path / "draft.docx"
    info.value.save_as(saved)
    import docx

    document = docx.Document(str(saved))
    assert document.paragraphs[0].text.startswith("An Ordinance of Exampleton")
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings[0] == "Section 1. Findings and purpose" and "Notes" in headings
