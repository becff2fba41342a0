"""The browser harness itself: Chromium drives the real server, axe and the error watch can fail,
another origin serves pages, and the hostile fixture is valid content that stays inert."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from kb.loader import load_dataset
from kbcli.commands import main
from tests.web.harness import (
    XSS_CONTEXT,
    XSS_JURISDICTION,
    XSS_PAYLOADS,
    XSS_PROTOCOLS,
    XSS_TOPIC,
    PageErrors,
    StaticSite,
    assert_accessible,
    assert_inert,
    hostile_content,
)

SCRIPT = XSS_PAYLOADS[0]


def test_home_page_loads_in_chromium(page: Page, live_server: str) -> None:
    response = page.goto(live_server + "/")
    assert response is not None and response.ok
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("body")).to_contain_text("Cook County, Illinois")


def test_home_page_is_accessible(page: Page, live_server: str) -> None:
    page.goto(live_server + "/")
    assert_accessible(page)


def test_axe_reports_serious_violations_readably(page: Page, other_origin: StaticSite) -> None:
    page.goto(other_origin.serve("<!doctype html><title>t</title><main><img src='/x.png'></main>"))
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page)
    message = str(failure.value)
    assert "html-has-lang (serious)" in message
    assert "image-alt (critical)" in message
    assert "https://dequeuniversity.com/rules/axe/" in message
    assert "img" in message  # the target selector


def test_axe_runs_under_a_strict_content_security_policy(
    page: Page, other_origin: StaticSite
) -> None:
    """Injecting axe must not itself cause a CSP violation (the page fixture would fail on one)."""
    html = (
        '<!doctype html><html lang="en"><head><meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'\"><title>Strict</title></head>"
        "<body><main><h1>Strict</h1><p>Text.</p></main></body></html>"
    )
    page.goto(other_origin.serve(html))
    assert_accessible(page)


def test_other_origin_frames_a_page_from_another_origin(
    page: Page, other_origin: StaticSite
) -> None:
    """A page on one loopback port framing a page on another; axe checks inside the frame too."""
    framed = StaticSite()
    try:
        inner = framed.serve(
            '<!doctype html><html lang="en"><title>Inner</title><main><h1>Inner</h1>'
            '<img src="/missing.png"></main></html>'
        )
        outer = other_origin.serve(
            '<!doctype html><html lang="en"><title>Outer</title><main><h1>Outer</h1>'
            f'<iframe src="{inner}" title="Inner page"></iframe></main></html>'
        )
        assert other_origin.base != framed.base
        page.goto(outer)
        expect(page.frame_locator("iframe").locator("h1")).to_have_text("Inner")
        with pytest.raises(AssertionError, match="image-alt"):
            assert_accessible(page)
    finally:
        framed.close()


def test_page_errors_records_uncaught_errors_and_csp_violations(
    browser: Browser, other_origin: StaticSite
) -> None:
    context = browser.new_context()
    try:
        errors = PageErrors(context)
        page = context.new_page()
        page.goto(other_origin.serve("<!doctype html><script>throw new Error('boom')</script>"))
        assert [e for e in errors.settle() if "boom" in e]
        errors.clear()
        page.goto(
            other_origin.serve(
                '<!doctype html><meta http-equiv="Content-Security-Policy" content="script-src \'none\'">'
                "<script>window.ran = 1</script>"
            )
        )
        assert page.evaluate("() => window.ran") is None
        assert [e for e in errors.settle() if "Content Security Policy" in e]
        errors.clear()
        page.goto(other_origin.serve("<!doctype html><title>quiet</title><p>fine</p>"))
        assert errors.settle() == []
    finally:
        context.close()


def test_xss_fixture_is_valid_content_with_payloads_in_every_text_field(tmp_path: Path) -> None:
    content = hostile_content(tmp_path / "protocols")
    assert main(["validate", "--protocols", str(content)]) == 0
    dataset, problems = load_dataset(content)
    assert problems == []

    jurisdiction = next(j for j in dataset.jurisdictions if j.id == XSS_JURISDICTION)
    topic = next(t for t in dataset.topics if t.id == XSS_TOPIC)
    context = next(c for c in dataset.contexts if c.id == XSS_CONTEXT)
    texts: list[str | None] = [jurisdiction.name, topic.name, topic.definition]
    texts += [context.title, context.citation, context.summary, context.verified_note]
    for protocol in (p for p in dataset.protocols if p.id in XSS_PROTOCOLS):
        first = protocol.provisions[0]
        texts += [protocol.title, protocol.citation, protocol.body, protocol.overview]
        texts += [protocol.verified_note, first.heading, first.cite, first.summary]
        texts += [t for term in first.key_terms for t in (term.text, term.cite)]
        texts += [protocol.coding["detainer_response"].note]
        texts += [str(protocol.coding["applies_to"].value)]
    sources = [s for p in dataset.protocols if p.id in XSS_PROTOCOLS for s in p.sources]
    for source in [*sources, *context.sources]:
        texts += [source.title, source.publisher, source.supports, source.note]
    assert len(texts) == 7 + 2 * 12 + 3 * 4
    assert all(text and SCRIPT in text for text in texts), texts


def test_validator_rejects_javascript_urls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = hostile_content(tmp_path / "protocols")
    path = content / "us-zz-hostile" / "ordinance-1.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "url: \"https://example.org/hostile-1'onmouseover='window.__xss=1'\"",
            "url: javascript:alert(1)",
        ),
        encoding="utf-8",
    )
    assert main(["validate", "--protocols", str(content)]) == 1
    assert "sources[0].url: 'javascript:alert(1)' is not an http(s) URL" in capsys.readouterr().err


def test_hostile_home_page_shows_payloads_as_inert_text(page: Page, xss_server: str) -> None:
    page.goto(xss_server + "/")
    assert_inert(page)
    body = page.locator("body")
    for payload in XSS_PAYLOADS:
        expect(body).to_contain_text(payload)


def test_assert_inert_catches_payloads_that_became_markup(
    page: Page, other_origin: StaticSite
) -> None:
    """The same payloads pasted in raw: the check must see every kind of live one."""
    raw = "".join(XSS_PAYLOADS[:3]) + '<a href="javascript:window.__xss=2">x</a>'
    page.goto(other_origin.serve(f'<!doctype html><html lang="en"><title>raw</title><p>{raw}</p>'))
    with pytest.raises(AssertionError) as failure:
        assert_inert(page)
    message = str(failure.value)
    for live in (
        "window.__xss is set",
        "<script>",
        "<img onerror=",
        "<svg onload=",
        'href="javascript:',
    ):
        assert live in message, message
