"""An advocate's path in Chromium, counting clicks: `/` → her county → a comparison with the
strongest laws in force → a draft for her county (the one-page ask is reached from the draft)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.web.harness import assert_accessible

MAX_CLICKS = 8


class Clicks:
    """Clicks a locator and counts it."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, target: Locator) -> None:
        target.click()
        self.count += 1


@pytest.mark.parametrize("viewport", [(1366, 900), (390, 844)], ids=["1366", "390"])
def test_from_home_to_a_draft_for_her_county_in_at_most_8_clicks(
    page: Page, live_server: str, viewport: tuple[int, int]
) -> None:
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    click = Clicks()
    page.goto(live_server + "/")
    box = page.get_by_label("Find your county or state")
    click(box)
    box.fill("Cook County, Illinois")
    click(page.get_by_role("button", name="See what rules apply"))
    expect(page).to_have_url(re.compile(r"/where/us-il-cook-county$"))

    click(page.get_by_role("link", name="Compare with the strongest laws in force"))
    expect(page).to_have_url(re.compile(r"/compare\?protocols="))
    headers = page.locator("table.compare").first.locator("thead th[scope=col]")
    # The county's own ordinance and the Illinois laws that govern it, beside one from elsewhere.
    expect(headers).to_have_count(5)
    expect(headers.nth(1)).to_contain_text("Illinois")
    expect(page.locator("table.compare").first.locator("thead")).to_contain_text(
        "Detainer ordinance (11-O-73, 2011)"
    )
    expect(page.locator("table.compare").first.locator("thead")).to_contain_text("in force")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport[0]

    click(page.get_by_role("link", name="Draft from these"))
    expect(page).to_have_url(re.compile(r"/draft\?protocols="))
    expect(page.locator(".draft-document .draft-title")).to_be_visible()
    assert_accessible(page)
    assert click.count <= MAX_CLICKS, click.count
