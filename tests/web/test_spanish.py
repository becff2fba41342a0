"""The site in Spanish in a real browser: every page type, on a 390 px phone, passes axe,
fits the screen and shows no English interface text; the switch keeps a comparison or a search; the embed in Spanish."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.i18n_text import english_left
from tests.web.harness import TIMEOUT_MS, PageErrors, assert_accessible
from tests.web.test_layout import MAX_TAIL_PX, MEASURE, PHONE
from tests.web.test_site import EVERY_PAGE, FOUR

PAGES = [
    *(p for p in EVERY_PAGE if not p.startswith("/embed/")),
    "/map",
    "/map/table?layer=score",
    "/map/table?layer=287g",
]


@pytest.fixture
def spanish_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh context whose browser asks for Spanish (Accept-Language: es-ES)."""
    context = browser.new_context(locale="es-ES", viewport=PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    errors = PageErrors(context)
    try:
        yield context.new_page()
        assert not errors.settle(), errors.report()
    finally:
        context.close()


@pytest.mark.parametrize("path", PAGES)
def test_every_page_in_spanish_passes_axe_and_leaves_no_english(
    spanish_page: Page, live_server: str, path: str
) -> None:
    spanish_page.goto(live_server + path)
    expect(spanish_page.locator("main")).to_be_visible()
    expect(spanish_page.locator("html")).to_have_attribute("lang", "es")
    assert english_left(spanish_page.content(), "es") == []
    size = spanish_page.evaluate(MEASURE)  # Spanish is longer than English: still fits a phone
    assert size["scrollWidth"] <= size["innerWidth"], size
    assert size["tail"] <= MAX_TAIL_PX, size
    assert_accessible(spanish_page)


def test_the_spanish_embed_passes_axe_and_leaves_no_english(page: Page, live_server: str) -> None:
    response = page.goto(f"{live_server}/embed/compare?protocols={FOUR}&lang=es")
    assert response and response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("caption")).to_contain_text("4 protocolos comparados")
    expect(page.locator("footer")).to_contain_text("Esto no es asesoría legal")
    assert english_left(page.content(), "es") == []
    assert_accessible(page)


def test_the_switch_keeps_the_comparison_and_the_search(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/compare?protocols={FOUR}&differences_only=true")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    rows = page.locator("table.compare tbody tr:not(.group)").count()
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("h1")).to_have_text("Comparar protocolos")
    assert "differences_only=true" in page.url and "lang=es" in page.url
    assert page.locator("table.compare tbody tr:not(.group)").count() == rows
    # The choice is kept: the next page, reached by a plain link, is Spanish too.
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Buscar").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.locator("#q").fill("juvenile holds")
    page.get_by_role("button", name="Buscar", exact=True).click()
    expect(page.locator("#results-heading")).to_contain_text("resultado")
    page.get_by_role("navigation", name="Idioma").get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#q")).to_have_value("juvenile holds")
    expect(page.locator("#results-heading")).to_contain_text("result")


def test_the_spanish_map_embed_passes_axe_and_leaves_no_english(
    page: Page, live_server: str
) -> None:
    page.set_viewport_size(PHONE)
    response = page.goto(f"{live_server}/embed/map?layer=score&lang=es")
    assert response and response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("footer")).to_contain_text("Esto no es asesoría legal")
    assert english_left(page.content(), "es") == []
    assert_accessible(page)
