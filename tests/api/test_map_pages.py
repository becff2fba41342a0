"""The county map as served: every county drawn and linked to a /where/ page that answers, the
table holding the map's values, the embed framed as the comparison's is, and a 400 for a bad
layer or date."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb.gazetteer import read_gazetteer
from kb.settings import Settings
from tests.conftest import PROTOCOLS

COUNTY_LINK = re.compile(
    r'<a href="/where/([a-z0-9-]+)"(?: target="_blank")? aria-label="([^"]+)">'
)
TABLE_ROW = re.compile(
    r'<tr data-fips="(\d{5})"><th scope="row"><a href="/where/([a-z0-9-]+)">([^<]+)</a></th>'
    r'<td class="map-value">([^<]+)</td>'
)
LAYERS = ("question:detainer_response", "question:max_hold_hours", "score", "287g")


@pytest.fixture(scope="module")
def client(real_build: tuple[str, Path]) -> TestClient:
    url, index_dir = real_build
    return TestClient(create_app(Settings(database_url=url, index_dir=index_dir)))


def drawn(page: str) -> dict[str, str]:
    """jurisdiction id -> the accessible name of its link on the map."""
    svg = page[
        page.index('<svg class="county-map"') : page.index(
            "</svg>", page.index('<svg class="county-map"')
        )
    ]
    return {jid: htmllib.unescape(name) for jid, name in COUNTY_LINK.findall(svg)}


def counties_with_shapes() -> set[str]:
    """The gazetteer's counties, and D.C. as its own county-equivalent, less the one the 1:10m
    atlas has no shape for (Lexington city, Virginia)."""
    rows = read_gazetteer((PROTOCOLS / "gazetteer" / "jurisdictions.csv").read_text(), print)
    ids = {r.id for r in rows if r.fips and len(r.fips) == 5} | {"us-dc"}
    return ids - {"us-va-lexington-city"}


def test_every_county_is_drawn_once_and_every_link_lands_on_its_page(client: TestClient) -> None:
    page = client.get("/map")
    assert page.status_code == 200
    links = COUNTY_LINK.findall(page.text[page.text.index('<svg class="county-map"') :])
    ids = [jid for jid, _ in links]
    assert len(ids) == len(set(ids)) == len(counties_with_shapes())
    assert set(ids) == counties_with_shapes()
    failed = [jid for jid in ids if client.get(f"/where/{jid}").status_code != 200]
    assert failed == []


@pytest.mark.parametrize("layer", LAYERS)
def test_the_table_holds_the_maps_values(client: TestClient, layer: str) -> None:
    query = f"layer={layer}&on=2025-07-18"
    on_map = drawn(client.get(f"/map?{query}").text)
    table = client.get(f"/map/table?{query}")
    assert table.status_code == 200
    rows = TABLE_ROW.findall(table.text)
    in_table = {
        jid: f"{htmllib.unescape(name)}: {htmllib.unescape(value)}" for _, jid, name, value in rows
    }
    assert len(rows) == len(counties_with_shapes()) + 1  # the table has Lexington city too
    assert {jid: in_table[jid] for jid in on_map} == on_map
    assert "us-va-lexington-city" in in_table and "us-va-lexington-city" not in on_map


def test_the_layers_say_what_governs(client: TestClient) -> None:
    harris = drawn(client.get("/map?layer=question:detainer_response&on=2025-07-18").text)
    assert harris["us-tx-harris-county"] == "Harris County, Texas: Honors holds"
    assert harris["us-ca-santa-clara-county"].startswith("Santa Clara County, California: ")
    practice = client.get("/map?layer=287g&on=2025-07-18").text
    dade = drawn(practice)["us-fl-miami-dade-county"]
    assert dade == "Miami-Dade County, Florida: Task force + Warrant service officer"
    assert "State agencies with an agreement" in practice
    score = drawn(client.get("/map?layer=score").text)
    assert re.fullmatch(r"Harris County, Texas: \d+ of 100", score["us-tx-harris-county"])
    legend = client.get("/map?layer=score").text
    assert "No question addressed (0)" in legend and "75 to 100" in legend


def test_the_map_is_in_the_navigation_and_hands_out_an_embed_snippet(client: TestClient) -> None:
    home = client.get("/").text
    assert '<a href="/map"' in home
    page = client.get("/map?layer=287g&on=2025-07-18").text
    assert '&lt;iframe src="/embed/map?layer=287g&amp;on=2025-07-18" title="County map: ' in page
    assert 'href="/map/table?layer=287g&amp;on=2025-07-18"' in page


def test_the_embed_is_framed_like_the_comparison(client: TestClient) -> None:
    embed = client.get("/embed/map?layer=score")
    assert embed.status_code == 200
    assert embed.headers["content-security-policy"].endswith("frame-ancestors *")
    assert "x-frame-options" not in embed.headers
    assert "not legal advice" in embed.text
    assert 'target="_blank" aria-label="Harris County, Texas: ' in embed.text
    assert '<script src="/static/embed.js" defer></script>' in embed.text
    page = client.get("/map")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["content-security-policy"].endswith("frame-ancestors 'none'")


@pytest.mark.parametrize("path", ["/map", "/map/table", "/embed/map"])
@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("layer=bogus", "unknown layer &#39;bogus&#39;"),
        ("layer=question:nope", "unknown layer &#39;question:nope&#39;"),
        ("layer=question:applies_to", "unknown layer &#39;question:applies_to&#39;"),
        (
            "layer=%3Cscript%3Ex%3C/script%3E",
            "unknown layer &#39;&lt;script&gt;x&lt;/script&gt;&#39;",
        ),
        ("on=2025-02-30", "&#39;2025-02-30&#39; is not a date"),
        ("layer=287g&on=yesterday", "&#39;yesterday&#39; is not a date"),
    ],
)
def test_a_bad_layer_or_date_is_a_400_that_says_why(
    client: TestClient, path: str, query: str, said: str
) -> None:
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400
    assert said in response.text
    assert "<script>x" not in response.text
    assert 'role="alert"' in response.text
