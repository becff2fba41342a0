"""The changes feed (/feeds/changes.atom, /feeds/changes.json) over the real content and real
captures, on SQLite and PostgreSQL. No Atom validator is in the lock: the document is parsed
with xml.etree and checked for what RFC 4287 requires of a feed and of each entry."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.feeds import entry_text
from kb import store
from kb.build import build
from kb.db import make_engine
from kb.feed import MAX_ENTRIES, FeedFilter, list_changes
from kb.registry import import_captures
from kb.registry_sheet import read_sheet
from kb.settings import Settings
from tests.conftest import ICE_287G_SAMPLES, PROTOCOLS

MAY = ICE_287G_SAMPLES / "20250519_024922_participatingAgencies05162025am.xlsx"
JULY = ICE_287G_SAMPLES / "20250719_151637_participatingAgencies07182025pm.xlsx"
PENDING_JUNE = ICE_287G_SAMPLES / "20250618_023204_pendingAgencies06172025pm.xlsx"
PENDING_JULY = ICE_287G_SAMPLES / "20250719_151637_pendingAgencies07182025pm.xlsx"
A = "{http://www.w3.org/2005/Atom}"
TAG = "tag:protocol-kb,2026:changes/"


@pytest.fixture
def client(database_url: str, tmp_path: Path) -> TestClient:
    build(PROTOCOLS, database_url)
    import_captures([MAY, JULY, PENDING_JUNE, PENDING_JULY], database_url, protocols_dir=PROTOCOLS)
    return TestClient(create_app(Settings(database_url=database_url, index_dir=tmp_path / "i")))


def rfc3339(text: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(text)
    assert when.tzinfo is not None, f"{text!r} has no time zone (RFC 3339 needs one)"
    return when


def atom(client: TestClient, **params: str) -> ET.Element:
    answer = client.get("/feeds/changes.atom", params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(answer.content)  # well-formed, or this raises
    # RFC 4287 § 4.1.1: a feed has exactly one id, title and updated, an author (or every entry
    # has one), and should have a self link
    assert feed.tag == f"{A}feed"
    for name in ("id", "title", "updated"):
        assert len(feed.findall(f"{A}{name}")) == 1, name
        assert (feed.findtext(f"{A}{name}") or "").strip(), name
    rfc3339(feed.findtext(f"{A}updated") or "")
    assert (feed.findtext(f"{A}author/{A}name") or "").strip()
    assert [link.get("rel") for link in feed.findall(f"{A}link")].count("self") == 1
    ids = []
    previous = None
    for entry in feed.findall(f"{A}entry"):
        # § 4.1.2: exactly one id, title, updated; a link rel=alternate (no content element)
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{A}{name}")) == 1, name
            assert (entry.findtext(f"{A}{name}") or "").strip(), name
        assert entry.find(f"{A}content") is None
        alternates = [x for x in entry.findall(f"{A}link") if x.get("rel") == "alternate"]
        assert len(alternates) == 1 and urlsplit(alternates[0].get("href", "")).scheme == "http"
        assert (entry.findtext(f"{A}summary") or "").strip()
        updated = rfc3339(entry.findtext(f"{A}updated") or "")
        assert previous is None or updated <= previous, "newest first"
        previous = updated
        ids.append(entry.findtext(f"{A}id"))
    assert len(ids) == len(set(ids)), "entry ids are unique"
    return feed


def entries(feed: ET.Element) -> list[ET.Element]:
    return feed.findall(f"{A}entry")


def kind(entry: ET.Element) -> set[str]:
    return {c.get("term", "") for c in entry.findall(f"{A}category")}


def source(entry: ET.Element) -> str:
    link = next(x for x in entry.findall(f"{A}link") if x.get("rel") == "alternate")
    return urlsplit(link.get("href", "")).path


def test_the_atom_feed_shows_the_july_2025_additions_for_a_state(client: TestClient) -> None:
    may, july = read_sheet(MAY).entries, read_sheet(JULY).entries
    added = {i for i, e in july.items() if e.state == "TX" and i not in may}
    ended = {i for i, e in may.items() if e.state == "TX" and i not in july}
    assert added, "the July capture adds Texas agreements"
    feed = atom(client, state="tx", limit="500")
    listed = {
        source(e).removeprefix("/api/v1/287g/agreements/")
        for e in entries(feed)
        if "agreement_listed" in kind(e)
    }
    assert listed == added
    gone = {
        source(e).removeprefix("/api/v1/287g/agreements/")
        for e in entries(feed)
        if "agreement_ended" in kind(e)
    }
    assert gone == ended
    one = next(e for e in entries(feed) if source(e).endswith(sorted(added)[0]))
    assert one.findtext(f"{A}updated") == "2025-07-18T00:00:00+00:00"
    assert "participatingAgencies07182025pm.xlsx" in (one.findtext(f"{A}summary") or "")
    related = [x for x in one.findall(f"{A}link") if x.get("rel") == "related"]
    assert related and related[0].get("title") == "participatingAgencies07182025pm.xlsx"
    # nothing from another state; Texas laws' dated events are there, linked to their pages
    assert all(
        source(e).startswith(("/api/v1/287g/agreements/tx-", "/protocols/us-tx"))
        for e in entries(feed)
    )
    assert any(source(e) == "/protocols/us-tx/sb-8-2025" for e in entries(feed))
    # every entry's link answers
    for e in entries(feed)[:5] + entries(feed)[-3:]:
        assert client.get(source(e)).status_code == 200, source(e)


def test_the_json_feed_matches_and_filters_by_jurisdiction(client: TestClient) -> None:
    answer = client.get("/feeds/changes.json", params={"jurisdiction": "us-fl-miami-dade-county"})
    assert answer.status_code == 200
    feed = answer.json()
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"].endswith("/feeds/changes.json?jurisdiction=us-fl-miami-dade-county")
    assert feed["title"] and feed["items"]
    same = atom(client, jurisdiction="us-fl-miami-dade-county")
    assert [i["id"] for i in feed["items"]] == [e.findtext(f"{A}id") for e in entries(same)]
    for item in feed["items"]:
        assert item["id"].startswith(TAG) and item["url"].startswith("http")
        rfc3339(item["date_published"])
        ext = item["_protocol_kb"]
        if ext["kind"] == "protocol_event":
            assert ext["jurisdiction_id"] in {"us-fl", "us-fl-miami-dade-county"}
        else:
            assert ext["jurisdiction_id"] == "us-fl-miami-dade-county" and ext["capture"]


@pytest.mark.parametrize(
    "params",
    [
        {"state": "zz"},
        {"state": "texas"},
        {"jurisdiction": "us-tx-nowhere-county"},
        {"jurisdiction": "<script>alert(1)</script>"},
        {"limit": "0"},
        {"limit": "501"},
        {"county": "harris"},
    ],
)
def test_bad_filters_are_a_4xx_problem(client: TestClient, params: dict[str, str]) -> None:
    for suffix in ("atom", "json"):
        answer = client.get(f"/feeds/changes.{suffix}", params=params)
        assert 400 <= answer.status_code < 500, (params, answer.status_code)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "<script>" not in answer.text and "Traceback" not in answer.text


def test_pages_announce_their_feed(client: TestClient) -> None:
    for page, feed in (
        (
            "/where/us-fl-miami-dade-county",
            "/feeds/changes.atom?jurisdiction=us-fl-miami-dade-county",
        ),
        ("/protocols/us-tx/sb-8-2025", "/feeds/changes.atom?jurisdiction=us-tx"),
        ("/", "/feeds/changes.atom"),
    ):
        html = client.get(page).text
        links = re.findall(
            r'<link rel="alternate" type="application/atom\+xml"[^>]*href="([^"]+)"', html
        )
        assert links == [feed.replace("&", "&amp;")], (page, links)
        assert client.get(feed).status_code == 200


# --- In Spanish ---------------------------------------------------------------------------------

ENGLISH_PHRASES = re.compile(
    r"\b(listed|no longer|agreement|request|signed|took effect|ICE's|now lists|the capture|"
    r"introduced|passed|adopted|vetoed|issued|amended|superseded|repealed|struck down|preempted)\b"
)
"""The feed's own English words; names of laws, agencies and files are taken out before looking."""


def _without_names(text: str, names: list[str]) -> str:
    for name in names:
        text = text.replace(name, " ")
    return text


@pytest.mark.parametrize("params", [{"state": "tx"}, {"jurisdiction": "us-fl-miami-dade-county"}])
def test_the_feeds_in_spanish(client: TestClient, params: dict[str, str]) -> None:
    english = atom(client, **params, limit="500")
    spanish = atom(client, **params, limit="500", lang="es")
    assert english.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert spanish.get("{http://www.w3.org/XML/1998/namespace}lang") == "es"
    assert (spanish.findtext(f"{A}title") or "").startswith("protocol-kb: qué cambió")
    self_link = next(x for x in spanish.findall(f"{A}link") if x.get("rel") == "self")
    assert "lang=es" in (self_link.get("href") or "")
    # The same entries, ids and links to the same sources; the words are Spanish.
    assert [e.findtext(f"{A}id") for e in entries(spanish)] == [
        e.findtext(f"{A}id") for e in entries(english)
    ]
    json_feed = client.get("/feeds/changes.json", params={**params, "limit": "500", "lang": "es"})
    assert json_feed.status_code == 200 and json_feed.headers["content-language"] == "es"
    feed = json_feed.json()
    assert feed["language"] == "es" and feed["title"].startswith("protocol-kb: qué cambió")
    assert feed["description"].startswith("Acuerdos 287(g)")
    names: set[str] = set()
    for item in feed["items"]:
        ext = item["_protocol_kb"]
        names |= {ext["capture"] or ""}
        if ext["kind"] == "protocol_event":
            protocol = client.get(
                "/api/v1/protocols/" + item["url"].split("/protocols/")[1].split("?")[0]
            ).json()["data"]
            names |= {
                protocol["short_name"],
                protocol["title"],
                protocol["citation"],
                protocol["jurisdiction_name"],
            }
            assert item["url"].endswith("?lang=es")  # the site's page, in Spanish
        else:
            agreement = client.get(item["url"].removeprefix("http://testserver")).json()["data"]
            names |= {agreement["agency"]}
    ordered = sorted(names - {""}, key=len, reverse=True)
    left = [
        text
        for item in feed["items"]
        for text in (item["title"], item["content_text"])
        if ENGLISH_PHRASES.search(_without_names(text, ordered))
    ]
    assert left == []
    kinds = {i["_protocol_kb"]["kind"] for i in feed["items"]}
    assert "protocol_event" in kinds
    if "state" in params:  # Texas: agreements listed and ended between the captures too
        assert {"agreement_listed", "agreement_ended"} <= kinds
    # Dates as Spanish writes them, not ISO.
    titles = " ".join(i["title"] for i in feed["items"])
    assert re.search(r"\b(el \d{1,2} de [a-z]+ de \d{4}|en \d{4})\b", titles), titles[:300]
    # The check above finds the English feed English: it can fail.
    english_json = client.get("/feeds/changes.json", params={**params, "limit": "500"}).json()
    assert all(
        ENGLISH_PHRASES.search(_without_names(i["title"], ordered)) for i in english_json["items"]
    )


def test_the_english_feed_text_is_kbs_own(client: TestClient, database_url: str) -> None:
    # api.routes.feeds writes each entry from its parts with the catalogue's English templates:
    # in English they must give kb.feed's sentences word for word, or the languages drift apart.
    engine = make_engine(database_url)
    with store.session(engine) as db:
        changes = list_changes(db, FeedFilter(), MAX_ENTRIES)
    engine.dispose()
    assert {c.kind for c in changes} >= {"protocol_event", "agreement_listed"}
    for change in changes:
        assert entry_text("en", change) == (change.title, change.summary)


def test_a_feed_in_an_unknown_language_is_a_4xx(client: TestClient) -> None:
    for suffix in ("atom", "json"):
        answer = client.get(f"/feeds/changes.{suffix}", params={"lang": "fr"})
        assert answer.status_code == 422
        assert answer.headers["content-type"].startswith("application/problem+json")


def test_spanish_pages_announce_the_spanish_feed(client: TestClient) -> None:
    html = client.get("/where/us-fl-miami-dade-county", params={"lang": "es"}).text
    links = re.findall(
        r'<link rel="alternate" type="application/atom\+xml"[^>]*href="([^"]+)"', html
    )
    assert links == ["/feeds/changes.atom?jurisdiction=us-fl-miami-dade-county&amp;lang=es"]
    home = client.get("/", params={"lang": "es"}).text
    assert 'href="/feeds/changes.atom?lang=es"' in home
