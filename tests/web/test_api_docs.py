"""The interactive API docs in headless Chromium with the network cut off: everything they need
comes from the server itself, and the page's watcher fails the test on any CSP violation."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page, Route, expect


def test_api_docs_render_offline(page: Page, live_server: str) -> None:
    blocked: list[str] = []

    def loopback_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", loopback_only)
    page.goto(f"{live_server}/api/docs")
    paths = page.locator(".opblock-summary-path")
    expect(paths.first).to_be_visible()
    shown = paths.all_inner_texts()
    assert len(shown) >= 12
    assert any("/api/v1/protocols" in p for p in shown)
    assert blocked == []
