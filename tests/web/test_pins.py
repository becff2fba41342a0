"""Pins are keyed by provision id: on a comparison a provision supports several rows, and every
button for it shows and changes the one state."""

from __future__ import annotations

import json
from collections import Counter

from playwright.sync_api import Page, expect

from tests.web.test_site import FOUR

KEY = "protocol-kb:pins"


def _stored(page: Page) -> list[str]:
    ids: list[str] = json.loads(page.evaluate(f"localStorage.getItem('{KEY}') || '[]'"))
    return ids


def test_every_button_for_a_provision_shares_its_state(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/compare?protocols={FOUR}")
    ids = page.locator("button[data-pin]").evaluate_all("bs => bs.map(b => b.dataset.pin)")
    provision = next(pid for pid, n in Counter(ids).items() if n > 1)  # in several rows
    buttons = page.locator(f'button[data-pin="{provision}"]')
    count = buttons.count()

    buttons.first.click()
    for i in range(count):
        expect(buttons.nth(i)).to_have_attribute("aria-pressed", "true")
        expect(buttons.nth(i)).to_contain_text("Pinned")
    assert _stored(page) == [provision]

    # The same provision in another row says "Pinned"; pressing it unpins it everywhere.
    buttons.last.click()
    for i in range(count):
        expect(buttons.nth(i)).to_have_attribute("aria-pressed", "false")
    assert _stored(page) == []


def test_a_button_does_what_it_says_even_when_stale(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/compare?protocols={FOUR}")
    button = page.locator("button[data-pin]").first
    expect(button).to_have_attribute("aria-pressed", "false")
    provision = button.get_attribute("data-pin")
    # Pinned meanwhile elsewhere (a same-page write sends this page no storage event): the
    # button still shows "Pin", and pressing "Pin" must pin, not toggle it off.
    page.evaluate(f"id => localStorage.setItem('{KEY}', JSON.stringify([id]))", provision)
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    assert _stored(page) == [provision]
