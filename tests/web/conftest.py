"""Browser test fixtures: the real server on loopback, headless Chromium, another origin.

One Chromium and one server of each kind per session; every test gets a fresh browser context.
A test fails when a page it opened threw an uncaught error or logged a console error (a CSP
violation is one); `page_errors` lets a test read or clear what was recorded.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import PROTOCOLS
from tests.web.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    INSTALL_HINT,
    TIMEOUT_MS,
    PageErrors,
    StaticSite,
    built_server,
    hostile_content,
)

PAGE_ERRORS = pytest.StashKey[PageErrors]()
BROWSER_FIXTURES = {"browser", "page", "page_errors"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    result = yield  # a test that failed already keeps its own failure
    errors = item.stash.get(PAGE_ERRORS, None)
    if errors is not None and errors.settle():
        pytest.fail(errors.report(), pytrace=False)
    return result


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of `kb serve` over the real protocols/ (read only), built into a temp database."""
    with built_server(PROTOCOLS, tmp_path_factory.mktemp("live-server")) as base:
        yield base


@pytest.fixture(scope="session")
def xss_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of `kb serve` over the real content plus the hostile records of tests/fixtures/xss."""
    workdir = tmp_path_factory.mktemp("xss-server")
    content = hostile_content(workdir / "protocols")
    with built_server(content, workdir) as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(INSTALL_HINT)
        pytest.skip(INSTALL_HINT)
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page_errors(page: Page, request: pytest.FixtureRequest) -> PageErrors:
    """What the `page` fixture recorded; `page_errors.clear()` forgives errors a test caused on purpose."""
    errors: PageErrors = request.node.stash[PAGE_ERRORS]
    return errors


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh context: downloads accepted, 10 s timeouts, errors watched."""
    context = browser.new_context(accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    request.node.stash[PAGE_ERRORS] = PageErrors(context)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="session")
def other_origin() -> Iterator[StaticSite]:
    """Serves HTML you hand it from another loopback port: `other_origin.serve(html) -> url`."""
    site = StaticSite()
    try:
        yield site
    finally:
        site.close()
