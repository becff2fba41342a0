"""The pages on a phone (390 x 844) and a laptop (1366 x 900): nothing wider than the screen, no blank
tail, the comparison as cards on a phone and as one page-scrolled table with a sticky header row
on a laptop, and the actions an advocate needs a few Tab presses from the top."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.web.harness import assert_accessible
from tests.web.test_site import EVERY_PAGE, FOUR

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}
# Below the site footer (or the embed's last element) the page may end with a margin, not a screen.
MAX_TAIL_PX = 48

MEASURE = """() => {
  const root = document.documentElement;
  const last = document.querySelector('footer.site') || document.querySelector('body > main');
  const bottom = last.getBoundingClientRect().bottom + window.scrollY;
  return {
    scrollWidth: root.scrollWidth,
    innerWidth: window.innerWidth,
    tail: root.scrollHeight - Math.max(bottom, window.innerHeight),
  };
}"""


# Every page type: the site's pages, a protocol with rulings and an injunction, and the map once
# the map issue's page is there (skipped while /map answers 404).
LAYOUT_PAGES = [*EVERY_PAGE, "/protocols/us-tx/sb-4-2017", "/map"]


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390", "1366"])
@pytest.mark.parametrize("path", LAYOUT_PAGES)
def test_no_page_is_wider_than_the_screen(
    page: Page, live_server: str, path: str, viewport: dict[str, int]
) -> None:
    page.set_viewport_size(viewport)
    response = page.goto(live_server + path)
    # every page type answers, the error page (a 404) included; none is a server error
    assert response is not None and response.status < 500, path
    expect(page.locator("main")).to_be_visible()
    size = page.evaluate(MEASURE)
    assert size["scrollWidth"] <= size["innerWidth"], size
    assert size["tail"] <= MAX_TAIL_PX, size
    assert_accessible(page)


SCROLL_BOXES = """el => {
  const boxes = [];
  for (let e = el.parentElement; e && e !== document.documentElement; e = e.parentElement) {
    const style = getComputedStyle(e);
    if (style.overflowX !== 'visible' || style.overflowY !== 'visible') boxes.push(e.localName);
  }
  return boxes;
}"""


@pytest.mark.parametrize(
    ("path", "table"), [(f"/compare?protocols={FOUR}", "table.compare"), ("/", "table.matrix")]
)
def test_the_page_scrolls_with_the_header_row_in_view(
    page: Page, live_server: str, path: str, table: str
) -> None:
    page.set_viewport_size(LAPTOP)
    page.goto(live_server + path)
    grid = page.locator(table).first
    assert grid.evaluate(SCROLL_BOXES) == []  # no scroll box inside the page
    box = grid.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= LAPTOP["width"]
    header = grid.locator("thead th").nth(2)
    page.evaluate("y => window.scrollTo(0, y)", box["y"] + 1500)
    page.wait_for_function("() => window.scrollY > 0")
    assert page.evaluate("window.scrollY") > box["y"]
    moved = header.bounding_box()
    first_column = grid.locator("tbody th[scope=row]").last.bounding_box()
    # Scrolled well past the table's top, the header row sits at the top of the window, and
    # the first column at the table's left edge.
    assert moved and abs(moved["y"]) < 2
    assert first_column and abs(first_column["x"] - box["x"]) < 2


def test_compare_on_a_phone_is_one_question_at_a_time_in_cards(
    page: Page, live_server: str
) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/compare?protocols={FOUR}")
    table = page.locator("table.compare").first
    question = table.locator("tbody tr:not(.group)").first
    heading = question.locator("th[scope=row]").bounding_box()
    cards = question.locator("td")
    expect(cards).to_have_count(4)
    boxes = [cards.nth(i).bounding_box() for i in range(4)]
    assert heading and all(boxes)
    previous_bottom = heading["y"] + heading["height"]
    for i, card in enumerate(boxes):
        assert card
        # Under the question and under each other, within the screen, each named by its protocol.
        assert card["y"] >= previous_bottom - 1
        assert card["x"] >= 0 and card["x"] + card["width"] <= PHONE["width"]
        expect(cards.nth(i).locator(".cell-label")).to_be_visible()
        previous_bottom = card["y"] + card["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Straight to one question: the index brings its heading into the screen.
    page.get_by_text("Jump to a question").click()
    page.locator(".question-index a").last.click()
    expect(page).to_have_url(re.compile("#row-"))
    expect(table.locator("tbody th[scope=row]").last).to_be_in_viewport()


def test_the_overview_on_a_phone_is_a_card_per_protocol(page: Page, live_server: str) -> None:
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/")
    row = page.locator("table.matrix tbody tr").first
    box = row.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    expect(row.locator("td .cell-label").first).to_be_visible()
    expect(row.get_by_role("checkbox")).to_be_visible()


def _tabs_to(page: Page, name: str, limit: int = 300) -> int:
    """Tab presses from the top of the page until the focused element's text is `name`."""
    page.locator("body").focus()
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if (page.evaluate("document.activeElement.textContent") or "").strip() == name:
            return presses
    raise AssertionError(f"{name!r} is not reachable in {limit} Tab presses")


def test_compare_selected_and_draft_are_near_the_top(page: Page, live_server: str) -> None:
    page.set_viewport_size(LAPTOP)
    page.goto(live_server + "/")
    first_checkbox = page.locator("table.matrix input[type=checkbox]").first
    presses = _tabs_to(page, "Compare selected (2 to 6)")
    # Before the 26-row table (it was 208 presses, below it), and before the first row's checkbox.
    assert presses < 30
    assert page.evaluate(
        "box => box.compareDocumentPosition(document.activeElement) & Node.DOCUMENT_POSITION_PRECEDING",
        first_checkbox.element_handle(),
    )
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Draft").click()
    expect(page).to_have_url(f"{live_server}/draft")
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Draft")
    ).to_have_attribute("aria-current", "page")
    page.goto(live_server + "/")
    page.get_by_role("link", name="Draft a policy for your county or city").click()
    expect(page).to_have_url(f"{live_server}/draft")


def test_ticking_protocols_then_compare_selected(page: Page, live_server: str) -> None:
    page.goto(live_server + "/")
    for box in page.locator("table.matrix input[type=checkbox]").all()[:2]:
        box.check()
    page.get_by_role("button", name="Compare selected (2 to 6)").first.click()
    expect(page.locator("table.compare").first.locator("thead th")).to_have_count(3)
