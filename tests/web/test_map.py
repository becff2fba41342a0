"""The county map in Chromium: axe on the map, its table and its embed; nothing wider than a phone
or a laptop screen; a county reached with the keyboard and followed to its page; printed without
the site's chrome; and the snippet /map hands out, pasted into a page on another origin."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.web.harness import StaticSite, assert_accessible
from tests.web.test_layout import LAPTOP, MAX_TAIL_PX, MEASURE, PHONE

MAP_PAGES = [
    "/map",
    "/map?layer=score&on=2025-07-18",
    "/map?layer=287g",
    "/map/table?layer=question:detainer_response",
    "/embed/map?layer=question:release_info_sharing",
    "/map?layer=bogus",
]
DRAWN = 3141  # the gazetteer's 3,141 counties and D.C., less Lexington city (too small at 1:10m)


# The table's 3,142 rows come from one template line: axe checks the first 50 (checking all
# takes minutes), the overflow check measures them all.
ROWS_CHECKED = ["table.map-table tbody tr:nth-child(n+51)"]


@pytest.mark.parametrize("path", MAP_PAGES)
def test_map_pages_pass_axe(page: Page, live_server: str, path: str) -> None:
    page.set_viewport_size(PHONE)
    page.goto(live_server + path)
    expect(page.locator("main")).to_be_visible()
    assert_accessible(page, exclude=ROWS_CHECKED if "/map/table" in path else None)


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390", "1366"])
@pytest.mark.parametrize("path", MAP_PAGES)
def test_map_pages_fit_the_screen(
    page: Page, live_server: str, path: str, viewport: dict[str, int]
) -> None:
    page.set_viewport_size(viewport)
    page.goto(live_server + path)
    expect(page.locator("main")).to_be_visible()
    size = page.evaluate(MEASURE)
    assert size["scrollWidth"] <= size["innerWidth"], size
    assert size["tail"] <= MAX_TAIL_PX, size


def test_a_county_by_keyboard_then_its_page(page: Page, live_server: str) -> None:
    page.set_viewport_size(LAPTOP)
    page.goto(f"{live_server}/map")
    counties = page.locator("svg.county-map a")
    expect(counties).to_have_count(DRAWN)
    page.get_by_role("link", name="The same data as a table").focus()
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [document.activeElement.closest('svg') !== null,"
        " document.activeElement.getAttribute('aria-label')]"
    )
    assert focused[0] and focused[1] == counties.first.get_attribute("aria-label")
    # The accessible name says county, state and value; the legend says the value in words.
    name = focused[1]
    assert re.fullmatch(r"[^:]+, [A-Z][A-Za-z .]+: .+", name), name
    value = name.split(": ", 1)[1]
    expect(page.locator(".map-legend .map-label", has_text=value).first).to_be_visible()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/where/us-[a-z]{2}"))
    expect(page.locator("h1")).to_contain_text(name.split(": ", 1)[0])
    # A named county, by its accessible name.
    page.goto(f"{live_server}/map")
    harris = page.get_by_role("link", name=re.compile(r"^Harris County, Texas: "))
    expect(harris).to_have_count(1)
    harris.click()
    expect(page).to_have_url(f"{live_server}/where/us-tx-harris-county")


def test_the_map_prints_without_the_sites_chrome(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/map?layer=score")
    page.emulate_media(media="print")
    expect(page.locator("header.site")).to_be_hidden()
    expect(page.locator("form.map-choose")).to_be_hidden()
    expect(page.locator(".embed-snippet")).to_be_hidden()
    expect(page.locator("svg.county-map")).to_be_visible()
    expect(page.locator(".map-legend")).to_be_visible()
    # No PDF here: Chromium takes minutes to print 3,141 paths on a loaded 2-core machine.


def test_the_map_works_without_javascript(live_server: str, page: Page) -> None:
    context = page.context.browser.new_context(java_script_enabled=False)  # type: ignore[union-attr]
    try:
        quiet = context.new_page()
        quiet.goto(f"{live_server}/map")
        quiet.get_by_label("Show", exact=True).select_option("score")
        quiet.get_by_role("button", name="Show", exact=True).click()
        expect(quiet).to_have_url(re.compile(r"/map\?layer=score"))
        expect(quiet.locator("svg.county-map a")).to_have_count(DRAWN)
        expect(quiet.locator(".map-legend")).to_contain_text("75 to 100")
    finally:
        context.close()


def test_the_snippet_the_map_hands_out_works_on_another_origin(
    page: Page, live_server: str, other_origin: StaticSite
) -> None:
    page.goto(f"{live_server}/map?layer=question:release_info_sharing&on=2025-07-18")
    snippet = page.get_by_label("HTML to copy").input_value()
    page.get_by_text("Let the frame set its own height").click()
    script = page.locator("#embed-parent-script").text_content() or ""
    assert snippet.startswith(f'<iframe src="{live_server}/embed/map?layer=question')
    host = other_origin.serve(
        '<!doctype html><html lang="en"><head><title>A newsroom article</title></head><body>'
        '<main style="max-width: 760px; margin: 0 auto"><h1>Who shares release dates</h1>'
        f"{snippet}{script}</main></body></html>"
    )
    page.set_viewport_size({"width": 1000, "height": 900})
    page.goto(host)
    assert not page.url.startswith(live_server)
    frame = page.frame_locator("iframe")
    expect(frame.locator("svg.county-map a")).to_have_count(DRAWN)
    expect(frame.locator("h1")).to_contain_text("release dates")
    expect(frame.locator(".map-legend")).to_contain_text("Not addressed")
    expect(frame.locator("footer")).to_contain_text("not legal advice")
    expect(frame.locator("footer time")).to_have_attribute(
        "datetime", re.compile(r"^\d{4}-\d\d-\d\d$")
    )
    iframe = page.locator("iframe")
    expect(iframe).to_have_attribute("style", re.compile(r"height: \d{3,}px"))
    content_height = frame.locator("html").evaluate("e => e.getBoundingClientRect().height")
    frame_height = iframe.evaluate("f => f.getBoundingClientRect().height")
    assert abs(frame_height - content_height) < 2
    width = frame.locator("html").evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert width[0] <= width[1] <= 760
    assert_accessible(page)
    with page.expect_popup() as popup:
        frame.get_by_role("link", name=re.compile(r"^Cook County, Illinois: ")).click()
    expect(popup.value).to_have_url(f"{live_server}/where/us-il-cook-county")
