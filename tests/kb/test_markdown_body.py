"""Protocol bodies: raw HTML is never markup, and line numbers come from the token stream."""

from __future__ import annotations

from kb.markdown_body import parse_body, render


def test_raw_html_in_a_summary_is_escaped_when_rendered() -> None:
    problems: list[tuple[int, str]] = []
    body = parse_body(
        '## Title {#sec-a cite="1" topics="detainers"}\n\nText <script>alert(1)</script> <b>x</b>.\n',
        first_line=10,
        report=lambda line, message: problems.append((line, message)),
    )
    assert problems == []
    html = render(body.provisions[0].summary)
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_line_numbers_count_from_the_first_body_line() -> None:
    problems: list[tuple[int, str]] = []
    body = parse_body(
        'Overview.\n\n## A {#sec-a cite="1" topics="detainers"}\n\nOne.\n\n## B {#sec-b cite="2" topics="detainers"}\n',
        first_line=20,
        report=lambda line, message: problems.append((line, message)),
    )
    assert body.overview == "Overview."
    assert [p.line for p in body.provisions] == [22, 26]
    assert problems == [(26, "provision 'sec-b' has an empty summary")]


def test_quotes_in_attributes_may_be_single_or_double_and_hold_spaces() -> None:
    body = parse_body(
        "## H {#sec-a cite='Sec. 2 (a)' topics=\"detainers juveniles\" sources=x}\n\nText.\n",
        first_line=1,
        report=lambda line, message: None,
    )
    provision = body.provisions[0]
    assert (provision.cite, provision.topics, provision.sources) == (
        "Sec. 2 (a)",
        ["detainers", "juveniles"],
        ["x"],
    )
