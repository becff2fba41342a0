"""The embed as a journalist uses it: choose the questions on /compare, copy the snippet the page
hands out, paste it with the page's parent script into a page on another origin, load it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.web.harness import StaticSite, assert_accessible
from tests.web.test_site import FOUR

# Of these three questions the four protocols differ on the last two (protocols/ content).
CHOSEN = {
    "detainer_response": "What does the jurisdiction do with ICE civil detainer",
    "max_hold_hours": "Longest time a person may be held",
    "juvenile_holds": "May minors be held on a detainer?",
}
DIFFERING = ("max_hold_hours", "juvenile_holds")


def _choose_and_copy(page: Page, live_server: str) -> tuple[str, str]:
    """Choose questions and "differences only" on /compare; the snippet (as the Copy button puts
    it on the clipboard) and the parent script, as the page hands them out."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{live_server}/compare?protocols={FOUR}")
    picker = page.locator("form#choose")
    picker.locator("summary", has_text="Only some questions").click()
    for key in CHOSEN:
        picker.locator(f'input[name="keys"][value="{key}"]').check()
    picker.get_by_label("Only questions where the protocols differ").check()
    picker.get_by_role("button", name="Compare").click()
    expect(page).to_have_url(re.compile("differences_only=true"))
    page.get_by_role("button", name="Copy snippet").click()
    expect(page.locator("[data-copy-status]")).to_have_text("Copied.")
    snippet: str = page.evaluate("navigator.clipboard.readText()")
    assert snippet == page.get_by_label("HTML to copy").input_value()
    page.get_by_text("Let the frame set its own height").click()
    script = page.locator("#embed-parent-script").text_content() or ""
    return snippet, script


def test_the_snippet_the_page_hands_out_works_on_another_origin(
    page: Page, live_server: str, other_origin: StaticSite
) -> None:
    snippet, script = _choose_and_copy(page, live_server)
    assert "built-in method" not in snippet and "keys=" in snippet
    assert script.startswith("<script>") and live_server in script
    host = other_origin.serve(
        '<!doctype html><html lang="en"><head><title>A newsroom article</title></head><body>'
        '<main style="max-width: 760px; margin: 0 auto"><h1>How our county compares</h1>'
        f"{snippet}{script}</main></body></html>"
    )
    page.set_viewport_size({"width": 1000, "height": 900})
    page.goto(host)
    assert not page.url.startswith(live_server)  # really another origin
    frame = page.frame_locator("iframe")
    table = frame.locator("table.compare")
    expect(table).to_be_visible()
    # The chosen questions where the protocols differ, for the four protocols: nothing else.
    questions = table.locator("tbody th[scope=row]")
    expect(questions).to_have_count(len(DIFFERING))
    for i, key in enumerate(DIFFERING):
        expect(questions.nth(i)).to_contain_text(CHOSEN[key])
    for name in ("Santa Clara County", "Cook County", "District of Columbia", "California"):
        expect(table.locator("thead")).to_contain_text(name)
    expect(frame.locator("footer")).to_contain_text("not legal advice")
    expect(frame.locator("footer time")).to_have_attribute(
        "datetime", re.compile(r"^\d{4}-\d\d-\d\d$")
    )
    # The widget reported its height and the page's parent script applied it.
    iframe = page.locator("iframe")
    expect(iframe).to_have_attribute("style", re.compile(r"height: \d{3,}px"))
    content_height = frame.locator("html").evaluate("e => e.getBoundingClientRect().height")
    frame_height = iframe.evaluate("f => f.getBoundingClientRect().height")
    assert abs(frame_height - content_height) < 2
    # The four protocols fit the 760 px column: no column cut off, nothing to pan.
    width = frame.locator("html").evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert width[0] <= width[1] <= 760
    assert_accessible(page)
    with page.expect_popup() as popup:
        frame.get_by_role("link", name=re.compile("Open the full comparison")).click()
    expect(popup.value).to_have_url(re.compile(r"/compare\?protocols=.*keys="))


def test_the_embed_turns_into_cards_in_a_narrow_frame(
    page: Page, live_server: str, other_origin: StaticSite
) -> None:
    snippet, script = _choose_and_copy(page, live_server)
    host = other_origin.serve(
        '<!doctype html><html lang="en"><head><title>Narrow</title></head><body>'
        f'<main style="width: 400px">{snippet.replace(chr(34) + "100%" + chr(34), chr(34) + "400" + chr(34))}'
        f"{script}</main></body></html>"
    )
    page.goto(host)
    frame = page.frame_locator("iframe")
    cells = frame.locator("tbody tr:not(.group)").first.locator("td")
    expect(cells).to_have_count(4)
    boxes = [cells.nth(i).bounding_box() for i in range(4)]
    assert all(boxes)
    # Stacked: one card under the other, each as wide as the frame allows, named by its protocol.
    xs = {round(b["x"]) for b in boxes if b}
    ys = [b["y"] for b in boxes if b]
    assert len(xs) == 1 and ys == sorted(ys) and len(set(ys)) == 4
    first = frame.locator("thead th .jurisdiction").first.text_content() or ""
    expect(cells.first.locator(".cell-label")).to_contain_text(first.strip())
    width = frame.locator("html").evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert width[0] <= width[1]


def test_the_embed_checks_its_language(page: Page, live_server: str) -> None:
    response = page.goto(f"{live_server}/embed/compare?protocols={FOUR}&lang=en")
    assert response and response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "en")
    response = page.goto(f"{live_server}/embed/compare?protocols={FOUR}&lang=xx")
    assert response and response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("unknown language 'xx': choose one of en, es")
