"""The /where pages: what rules apply in a place, in plain words; the find-your-county form on
`/` works without JavaScript; every protocol page says what is in force alongside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb.settings import Settings


@pytest.fixture(scope="module")
def client(real_build: tuple[str, Path]) -> TestClient:
    url, index_dir = real_build
    return TestClient(create_app(Settings(database_url=url, index_dir=index_dir)))


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_harris_county_page_in_plain_words(client: TestClient) -> None:
    response = client.get("/where/us-tx-harris-county")
    assert response.status_code == 200
    html = response.text
    assert "<h1>What rules apply in Harris County, Texas?</h1>" in html
    words = text(html)
    assert "Not legal advice." in words
    assert "Must : a higher layer requires this; the county cannot choose otherwise." in words
    assert 'href="/protocols/us-tx/sb-4-2017#ccp-2-251-a"' in html
    assert "Code Crim. Proc. art. 2.251(a)" in words
    assert "Removal From Office".lower() in words.lower()


def test_a_date_before_sb_4_and_bad_dates(client: TestClient) -> None:
    before = text(client.get("/where/us-tx-harris-county?as_of=2016-01-01").text)
    assert "not yet in force (from 2017-09-01)" in before
    assert "Must :" not in before
    bad = client.get("/where/us-tx-harris-county?as_of=2016-02-30")
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")
    assert "is not a date" in bad.text and "Traceback" not in bad.text
    missing = client.get("/where/us-zz-nowhere")
    assert missing.status_code == 404 and "no jurisdiction with id" in missing.text


def test_the_find_your_county_form_works_without_javascript(client: TestClient) -> None:
    home = client.get("/").text
    assert re.search(r'<form class="find-place" method="get" action="/where"', home)
    assert 'name="place"' in home
    one = client.get("/where?place=Harris+County%2C+Texas", follow_redirects=False)
    assert (one.status_code, one.headers["location"]) == (303, "/where/us-tx-harris-county")
    several = client.get("/where?place=harris")
    assert several.status_code == 200 and 'href="/where/us-tx-harris-county"' in several.text
    assert 'href="/where/us-ga-harris-county"' in several.text
    none = client.get("/where?place=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert none.status_code == 200 and "<script>alert" not in none.text
    places = client.get("/where/places.json").json()
    assert ["us-tx-harris-county", "Harris County, Texas"] in places and len(places) >= 3100


def test_protocol_pages_say_what_is_in_force_alongside(client: TestClient) -> None:
    cook = client.get("/protocols/us-il-cook-county/ordinance-11-o-73").text
    assert "In force alongside" in cook
    assert 'href="/protocols/us-il/way-forward-act-2021"' in cook
    assert 'href="/where/us-il-cook-county"' in cook
    miami = client.get("/protocols/us-fl-miami-dade-county/resolution-r-1008-13").text
    assert 'href="/protocols/us-fl/sb-168-2019"' in miami


def test_miami_dade_shows_florida_overriding_the_2013_resolution(client: TestClient) -> None:
    # R-1008-13 is recorded as preempted by Florida's chapter 908 from 1 July 2019, so the page
    # lists it as no longer law rather than as a rule set aside today.
    words = text(client.get("/where/us-fl-miami-dade-county").text)
    assert "no longer in force (preempted 2019-07-01)" in words
    assert "Set aside:" not in words


def test_santa_clara_shows_sb_54_setting_aside_the_county_rule(client: TestClient) -> None:
    words = text(client.get("/where/us-ca-santa-clara-county").text)
    assert "Set aside:" in words and "Conflict:" in words
    assert "the state law governs" in words
