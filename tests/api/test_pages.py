"""HTML pages over the real content: every page answers, escapes, sets security headers and
turns bad input into a 4xx page (never JSON, never a traceback)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import EMBED_CSP, PAGE_CSP
from kb.build import build
from kb.db import make_engine
from kb.settings import Settings
from search_index.build import build_index

SANTA_CLARA = "us-ca-santa-clara-county/board-policy-3-54"
COOK = "us-il-cook-county/ordinance-11-o-73"
DC = "us-dc/law-19-194"
AB4 = "us-ca/ab-4-2013"
AB1081 = "us-ca/ab-1081-2012"
FOUR = ",".join([SANTA_CLARA, COOK, DC, AB4])

PAGES = [
    "/",
    "/?status=vetoed",
    "/search",
    "/search?q=juvenile+holds",
    "/search?q=topic:juveniles+jurisdiction:us-ca&sort=date",
    f"/protocols/{AB4}",
    "/compare",
    f"/compare?protocols={FOUR}",
    f"/compare?protocols={FOUR}&differences_only=true",
    f"/compare?protocols={SANTA_CLARA}&protocols={COOK}&keys=detainer_response",
    "/diff",
    f"/diff?from={AB1081}&to={AB4}",
    "/pins",
    f"/pins?ids={COOK}/sec-46-37-a,{AB4}/gone",
    "/background",
    "/codebook",
    "/?sort=score",
    "/draft",
    f"/draft?protocols={FOUR}",
    f"/draft?start_from={COOK}&strengthen=true&name=Cook+County&level=county",
    f"/draft?pinned={COOK}/sec-46-37-a",
    f"/gaps/{COOK}",
    "/gaps/us-ny-new-york-city",
]


@pytest.fixture(scope="module")
def client(real_build: tuple[str, Path]) -> TestClient:
    url, index_dir = real_build
    return TestClient(create_app(Settings(database_url=url, index_dir=index_dir)))


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_with_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == PAGE_CSP
    assert "'unsafe-inline'" not in PAGE_CSP and "frame-ancestors 'none'" in PAGE_CSP
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    html = response.text
    assert html.count("<h1") == 1
    assert "<script>" not in html and " on" + "click=" not in html  # scripts come from /static only
    assert re.search(r"<html lang=\"en\">", html)


def test_only_the_embed_may_be_framed(client: TestClient) -> None:
    response = client.get("/embed/compare", params={"protocols": f"{COOK},{DC}"})
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == EMBED_CSP
    assert "frame-ancestors *" in EMBED_CSP
    assert "x-frame-options" not in response.headers
    assert 'target="_blank"' in response.text and "/compare?protocols=" in response.text
    # Inside the frame every protocol and provision link opens a new tab, not the frame.
    links = re.findall(r'<a href="/(?:protocols|provisions)/[^"]*"([^>]*)>', response.text)
    assert links and all('target="_blank"' in attributes for attributes in links)
    # The API and static files are not pages, but they are not frameable either.
    assert client.get("/api/v1/topics").headers["x-frame-options"] == "DENY"


def test_api_docs_run_without_unsafe_inline(client: TestClient) -> None:
    policy = client.get("/api/docs").headers["content-security-policy"]
    assert "'sha256-" in policy and "'unsafe-inline'" not in policy


def test_compare_marks_the_strongest_in_words_with_a_legend(client: TestClient) -> None:
    html = client.get("/compare", params={"protocols": FOUR}).text
    table = html.split('<table class="compare cards cols-4">')[1].split("</table>")[0]
    assert table.count('<th scope="col"') == 5  # the question column and four protocols
    assert "Most protective" in html and 'aria-hidden="true">★' in html
    assert 'id="legend"' in html and "never marked" in html
    # The detainer row: of four conditional answers, only the strictest conditions are marked,
    # with the reason beside the mark.
    detainers = table.split('id="row-detainer_response"')[1].split("</tr>")[0]
    cells = detainers.split("<td")[1:]
    assert [("Most protective" in c) for c in cells] == [True, False, False, False]
    assert (
        '<p class="strongest-reason" lang="en">Strictest conditions: Reimbursement required and Serious '
        "or violent felony; the next strictest here has “Listed offenses”." in cells[0]
    )
    assert "strictest conditions carry the mark (reimbursement first" in html
    # Downloads and the permalink carry the whole state.
    for document in (
        "/api/v1/compare.csv?protocols=",
        "/api/v1/compare?protocols=",
        "/api/v1/compare.md?protocols=",
    ):
        assert document in html
    assert 'rel="bookmark"' in html
    assert "embed/compare?protocols=" in html  # the copy-paste iframe snippet
    chosen = client.get(
        "/compare", params={"protocols": FOUR, "keys": "max_hold_hours", "differences_only": "1"}
    ).text
    snippet = chosen.split('<textarea id="embed-code"')[1].split("</textarea>")[0]
    assert "keys=max_hold_hours&amp;differences_only=true" in snippet
    assert "built-in method" not in snippet
    only = client.get("/compare", params={"protocols": FOUR, "differences_only": "true"}).text
    assert only.count('class="same"') == 0 and html.count('class="same"') > 0


def test_diff_page_redlines_words(client: TestClient) -> None:
    html = client.get("/diff", params={"from": AB1081, "to": AB4}).text
    assert '<ins><span class="visually-hidden">inserted: </span>' in html
    assert '<del><span class="visually-hidden">deleted: </span>' in html
    assert "Coded answers that changed" in html


def test_protocol_page_shows_timeline_versions_and_sources(client: TestClient) -> None:
    html = client.get(f"/protocols/{AB4}").text
    assert "Follows" in html and AB1081 in html
    assert "<time datetime=" in html
    assert 'id="source-' in html and "Last verified" in html
    assert f"/diff?from={AB1081.replace('/', '%2F')}" in html


def test_a_listing_shows_on_the_page_and_in_the_api_with_its_sources(client: TestClient) -> None:
    chicago = "us-il-chicago/welcoming-city-ordinance-2021"
    html = client.get(f"/protocols/{chicago}").text
    section = html.split('id="listings-heading"', 1)[1].split("</section>", 1)[0]
    assert 'href="/background#doj-sanctuary-jurisdiction-list-2025"' in section
    assert "“Chicago, IL”" in section and 'datetime="2025-08-05"' in section
    assert 'href="#source-doj-list-2025"' in section and 'id="source-doj-list-2025"' in html
    data = client.get(f"/api/v1/protocols/{chicago}").json()["data"]
    (listing,) = data["listings"]
    assert listing["context_id"] == "doj-sanctuary-jurisdiction-list-2025"
    assert listing["name"] == "Chicago, IL" and listing["source_keys"] == [
        "doj-list-2025",
        "doj-list-nbc26",
    ]
    # A protocol no list names has no such section.
    assert 'id="listings-heading"' not in client.get(f"/protocols/{AB4}").text


def _text(html: str) -> str:
    """The page's words, tags dropped and white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace(" .", ".")


def test_home_starts_from_the_place_and_lists_laws_in_force_first(client: TestClient) -> None:
    html = client.get("/").text
    main = html[html.index("<main") : html.index("</main>")]
    # The find-your-county box and the explainer come before the matrix.
    assert main.index('action="/where"') < main.index('class="explainer"') < main.index("<table")
    words = _text(main)
    assert "What is a detainer, and why 48 hours?" in words
    assert "8 C.F.R. § 287.7(d)" in words and "48 hours" in words
    assert 'href="/background#detainer-regulation"' in main
    assert 'href="/map"' in main
    # Rows: short names first, then the official title; the standing in words.
    rows = re.findall(r'<th scope="row">(.*?)</th>', main, re.S)
    first = _text(rows[0])
    assert "in force today" in first or "in force as amended" in first
    vetoed = next(_text(r) for r in rows if "TRUST Act (AB 1081" in r)
    assert vetoed.startswith("California TRUST Act (AB 1081, 2012, vetoed)")
    assert "vetoed: never took effect (2012-09-30)" in vetoed
    assert "Law enforcement: sharing data." in words  # SB 54's official title, second
    assert words.index("California Values Act (SB 54, 2017)") < words.index(
        "Law enforcement: sharing data."
    )
    standing = [_text(r) for r in rows]
    ended = [
        i
        for i, r in enumerate(standing)
        if "no longer in force" in r or "never took effect" in r or "not recorded as" in r
    ]
    in_force = [i for i, r in enumerate(standing) if "in force today" in r or "as amended" in r]
    assert ended and in_force and max(in_force) < min(ended)
    # Housekeeping sits in the footer, not under the heading.
    assert "Data version" not in main
    footer = html[html.index('<footer class="site">') :]
    assert "Data version" in footer and "built" in footer
    assert not re.search(r">\s*enacted\s*<", html)


def test_protocol_page_says_its_status_rulings_and_sources_in_words(client: TestClient) -> None:
    html = client.get("/protocols/us-ca/sb-54-2017").text
    words = _text(html)
    assert '<h1 lang="en">California Values Act (SB 54, 2017)</h1>' in html
    assert "Status: in force today (since 2018-01-01)." in words
    # In force alongside, from the resolver: the other California laws in force today.
    alongside = _text(html[html.index('id="alongside"') : html.index('id="rulings"')])
    assert "TRUTH Act (AB 2792, 2016)" in alongside
    assert "TRUST Act (AB 1081" not in alongside  # vetoed, never law
    rulings = _text(html[html.index('id="rulings"') : html.index('id="score"')])
    assert "United States v. California" in rulings  # its litigation entry
    assert "Galarza v. Szalczyk" in rulings and "Miranda-Olivares v. Clackamas County" in rulings
    # Source links name the publisher and title, not the record's key.
    assert ">chaptered-text<" not in html
    assert "California Legislative Information: SB 54 (2017-2018)" in words
    # A superseded law says by what; a law with no ruling recorded says so.
    dc = _text(client.get(f"/protocols/{DC}").text)
    assert "Status: superseded by Sanctuary Values" in dc and "no longer in force" in dc
    santa_clara = _text(client.get(f"/protocols/{SANTA_CLARA}").text)
    assert "No court case or ruling is recorded as bearing on this law." in santa_clara


@pytest.mark.parametrize(
    "path",
    [
        "/",
        f"/compare?protocols={FOUR}",
        f"/embed/compare?protocols={FOUR}",
        f"/protocols/{COOK}",
        "/protocols/us-tx/sb-4-2017",
        "/where/us-tx-harris-county",
        f"/gaps/{COOK}",
        "/codebook",
        f"/diff?from={AB1081}&to={AB4}",
    ],
)
def test_pages_say_answers_in_words_not_internal_keys(client: TestClient, path: str) -> None:
    keys = client.get("/api/v1/codebook").json()["data"]
    internal = {k["key"] for k in keys} | {
        str(v) for k in keys for v in k.get("values") or [] if "_" in str(v)
    }
    html = client.get(path).text
    # Keys may stand where they are meant as syntax: inside <code> (the codebook's "key for
    # search and the API") and in link targets.
    shown = re.sub(r"<code>.*?</code>|<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    words = set(re.findall(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b", _text(shown)))
    assert not words & internal, sorted(words & internal)


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/protocols/us-zz/nothing", 404, "no protocol with id"),
        ("/no/such/page", 404, "nothing at /no/such/page"),
        ("/?level=planet", 400, "unknown level"),
        ('/search?q="unclosed', 400, "is not closed"),
        ("/search?q=colour:blue", 400, "unknown field"),
        ("/search?page=0&q=x", 422, "page"),
        (
            "/compare?protocols=" + ",".join([COOK] * 1 + [f"x{i}" for i in range(7)]),
            400,
            "at most 6",
        ),
        ("/compare?protocols=nope/nothing", 404, "no protocol with id"),
        (f"/compare?protocols={COOK}&keys=colour", 400, "unknown codebook key"),
        (f"/diff?from={AB4}", 400, "choose both versions"),
        ("/embed/compare", 400, "name the protocols"),
        (f"/embed/compare?protocols={COOK}&lang=xx", 400, "unknown language &#39;xx&#39;"),
        (f"/embed/compare?protocols={COOK}&lang=" + "e" * 500, 400, "choose one of en"),
        ("/pins?ids=" + ",".join(f"a/{i}" for i in range(101)), 400, "at most 100"),
        ("/pins/export?format=exe", 422, "format"),
        ("/search?q=%00", 400, "control characters"),
        ("/?sort=colour", 400, "unknown sort"),
        ("/draft?level=planet", 422, "level"),
        (
            "/draft?name=X&level=city&c.detainer_response=declines_all&c.max_hold_hours=48",
            422,
            "conflicts with max_hold_hours",
        ),
        ("/draft?c.colour=strongest", 422, "unknown question"),
        ("/draft?start_from=us-zz/none", 404, "no protocol with id"),
        ("/draft?pinned=us-zz/none/sec-1", 404, "no provision with id"),
        ("/draft/download?format=exe", 422, "format"),
        ("/gaps/us-zz-nowhere", 404, "no protocol or jurisdiction"),
    ],
)
def test_bad_input_gets_a_4xx_page(
    client: TestClient, path: str, status: int, message: str
) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    assert message in response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "' OR 1=1 --",
        "\u202e\u200b" * 50,
        "x" * 9000,
    ],
)
def test_hostile_queries_are_escaped(client: TestClient, hostile: str) -> None:
    for path, params in (
        ("/search", {"q": hostile}),
        ("/compare", {"protocols": hostile}),
        ("/pins", {"ids": hostile}),
        ("/diff", {"from": hostile, "to": hostile}),
        ("/", {"state": hostile}),
    ):
        response = client.get(path, params=params)
        assert response.status_code < 500
        assert "<script>alert" not in response.text and "<img src=x" not in response.text


def test_pins_export_as_files(client: TestClient) -> None:
    ids = f"{COOK}/sec-46-37-a,{AB4}/gone"
    md = client.get("/pins/export", params={"ids": ids, "format": "md"})
    assert md.headers["content-disposition"] == 'attachment; filename="pinned.md"'
    assert "Sec. 46-37(a)" in md.text
    csv_response = client.get("/pins/export", params={"ids": ids, "format": "csv"})
    assert csv_response.text.startswith("\ufeffprovision_id")
    assert csv_response.headers["content-type"].startswith("text/csv")


def test_source_links_are_web_links_only(client: TestClient) -> None:
    html = client.get(f"/protocols/{COOK}").text
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert hrefs and all(h.startswith(("/", "#", "http://", "https://")) for h in hrefs)


def test_pages_on_both_databases(content: Path, database_url: str, tmp_path: Path) -> None:
    """The pages read through the same `kb` functions on SQLite and PostgreSQL."""
    build(content, database_url)
    engine = make_engine(database_url)
    build_index(engine, tmp_path / "index")
    engine.dispose()
    app = create_app(Settings(database_url=database_url, index_dir=tmp_path / "index"))
    first, second = "us-xx-example-county/ordinance-2010-3", "us-xx-example-county/ordinance-2012-9"
    with TestClient(app) as pages:
        home = pages.get("/").text
        assert home.count('name="protocols"') == 2
        compare = pages.get("/compare", params={"protocols": f"{first},{second}"}).text
        assert "Declines all holds" in compare and "Most protective" in compare
        # The fixture's note carries markup: it is shown as text.
        assert "Excluding weekends &amp; &lt;holidays&gt;." in compare
        assert pages.get("/search", params={"q": "holds"}).status_code == 200
        assert pages.get(f"/diff?from={first}&to={second}").status_code == 200
    app.state.engine.dispose()


def test_drafting_page_previews_and_downloads(client: TestClient) -> None:
    html = client.get("/draft", params={"name": "Example County", "level": "county"}).text
    assert 'name="c.detainer_response" value="declines_all" checked' in html
    assert "Section 1. Findings and purpose" in html and "Drawn from:" in html
    preview = client.get(
        "/draft/preview",
        params={
            "name": "Example City",
            "level": "city",
            "c.detainer_response": "judicial_warrant_only",
            "default": "omit",
        },
    )
    assert preview.status_code == 200 and "<html" not in preview.text
    assert "An Ordinance of Example City" in preview.text and "Police Department" in preview.text
    docx_file = client.get(
        "/draft/download", params={"name": "Example County", "level": "county", "format": "docx"}
    )
    assert docx_file.headers["content-disposition"] == (
        'attachment; filename="example-county-ordinance.docx"'
    )
    assert docx_file.content[:2] == b"PK"  # a DOCX is a zip


def test_drafting_page_offers_the_ordinance_and_the_one_page_ask(client: TestClient) -> None:
    params = {"name": "Harris County", "level": "county"}
    html = client.get("/draft", params=params).text
    assert 'name="document" value="ordinance" checked' in html
    assert 'name="document" value="ask">' in html
    assert 'download="harris-county-ordinance.pdf"' in html and ">PDF</a>" in html
    params |= {"document": "ask", "jurisdiction_id": "us-tx-harris-county"}
    ask = client.get("/draft", params=params).text
    assert 'name="document" value="ask" checked' in ask
    assert 'download="harris-county-ask.pdf"' in ask and "Download the one-page ask" in ask
    document = ask.split('<article class="draft-document ask-document"')[1].split("</article>")[0]
    assert "What we ask of Harris County" in document
    assert document.index("State law") < document.index("What we ask</h4>")
    assert "Texas anti-sanctuary law (SB 4, 2017) requires “Honors holds”" in document
    assert '<ol class="ask-points">' in document
    # The place's own page hands its id on to drafting, so state law is checked from there too.
    where = client.get("/where/us-tx-harris-county").text
    link = re.search(r'href="(/draft\?[^"]*)">Draft a policy for', where)
    assert link and "jurisdiction_id=us-tx-harris-county" in link.group(1)
    drafted = client.get(link.group(1).replace("&amp;", "&")).text
    assert "State law limits what may be adopted here" in drafted
    # The ordinance says it too, above its enacting clause.
    params["document"] = "ordinance"
    ordinance = client.get("/draft/preview", params=params).text
    assert ordinance.index("State law limits what may be adopted here") < ordinance.index(
        "Be it enacted by"
    )


def test_drafting_escapes_the_adopters_name(client: TestClient) -> None:
    hostile = "<script>alert(1)</script><img src=x onerror=alert(1)>"
    for path in ("/draft", "/draft/preview"):
        page = client.get(path, params={"name": hostile, "level": "county"}).text
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    document = client.get(
        "/draft/download", params={"name": hostile, "level": "county", "format": "html"}
    ).text
    assert "<script>alert" not in document and "&lt;script&gt;" in document


def test_scores_and_gaps_are_on_the_pages(client: TestClient) -> None:
    home = client.get("/?sort=score").text
    assert 'aria-sort="descending"' in home
    first_row = home.split("<tbody>")[1].split("</tr>")[0]
    assert "us-ca/sb-54-2017" in first_row  # the highest score leads
    protocol = client.get(f"/protocols/{COOK}").text
    assert (
        'id="score"' in protocol
        and "Protection score:" in protocol
        and "does not address" in protocol
    )
    assert f'href="/gaps/{COOK}"' in protocol
    gaps = client.get(f"/gaps/{COOK}").text
    assert "Declines all holds" in gaps and "Draft the stronger version" in gaps
    assert client.get("/compare", params={"protocols": FOUR}).text.count("Draft from these") == 1


def test_embed_snippet_names_the_comparison_as_shown(client: TestClient) -> None:
    """The snippet's frame opens the same comparison: its keys and topics as chosen (it once
    wrote `keys=<built-in method keys …>`, which the embed refused)."""
    html = client.get("/compare", params={"protocols": FOUR, "keys": "detainer_response"}).text
    snippet = re.search(r'&lt;iframe src="([^"]+)"', html)
    assert snippet is not None
    src = snippet.group(1).replace("&amp;", "&")
    assert "built-in" not in src and "keys=detainer_response" in src
    embed = client.get(src.split("127.0.0.1", 1)[-1].split("testserver", 1)[-1])
    assert embed.status_code == 200 and "Most protective" in embed.text


def test_compare_cells_render_alike_from_the_kept_fragments(client: TestClient) -> None:
    """Cells are rendered once per build and reused: a cell reads the same in every comparison
    that holds it, and the strongest mark follows the comparison, not the first rendering."""
    pair = client.get("/compare", params={"protocols": f"{COOK},{DC}"}).text
    again = client.get("/compare", params={"protocols": f"{DC},{COOK}"}).text
    cells = re.compile(r'<td class="[^"]*">.*?</td>', re.S)
    assert sorted(cells.findall(pair)) == sorted(cells.findall(again))
    alone = client.get("/compare", params={"protocols": COOK}).text
    four = client.get("/compare", params={"protocols": FOUR}).text
    # Alone, every answered cell is the strongest in its row; among four, some are not.
    assert alone.count("is-strongest") > 0
    assert four.count("is-strongest") < 4 * alone.count("is-strongest")


def test_kept_fragments_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fragment memo drops the least recently used entry past its bound."""
    from api import templating

    monkeypatch.setattr(templating, "FRAGMENT_MEMO", 3)
    monkeypatch.setattr(templating, "_fragments", templating.OrderedDict())

    class Cell:
        def __init__(self, label: str) -> None:
            self.label, self.strongest, self.value = label, False, "x"
            self.note, self.provisions = None, []

    cells = [Cell(f"answer {i}") for i in range(5)]
    for cell in cells:
        assert f"answer {cells.index(cell)}" in templating.fragment("_compare_cell.html", cell)
    assert len(templating._fragments) == 3
    assert [kept for kept, _ in templating._fragments.values()] == cells[2:]


def test_query_strings_are_written_as_urlencode_writes_them() -> None:
    from urllib.parse import urlencode

    from api.templating import query

    params = {"q": "a b&c/ü", "page": 2, "none": None, "ids": ["x y", "z"], "off": False, "e": ""}
    kept = {k: v for k, v in params.items() if v not in (None, "", False, [])}
    assert query(params) == urlencode(kept, doseq=True) == "q=a+b%26c%2F%C3%BC&page=2&ids=x+y&ids=z"


def test_the_search_page_shows_what_a_partial_match_misses(client: TestClient) -> None:
    page = client.get("/search", params={"q": "48 hours excluding weekends"})
    assert page.status_code == 200
    assert "with every word; the rest with some of them" in page.text
    assert "Missing: <s>" in page.text
    spanish = client.get("/search", params={"q": "retención de ICE"})
    assert "Did you mean" not in spanish.text and "<mark>" in spanish.text
    hostile = client.get("/search", params={"q": "<script>alert(1)</script> detainer"})
    assert hostile.status_code == 200 and "<script>alert(1)" not in hostile.text
