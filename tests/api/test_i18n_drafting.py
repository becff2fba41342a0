"""The one-page ask and the drafting API in Spanish: every point, reason and state-law sentence in
Spanish (names of laws, citations and sources stay English, marked so), and `lang` on
POST /api/v1/drafts* with the same keys and ids as in English (docs/i18n.md)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import create_app
from kb import store
from kb.db import make_engine
from kb.settings import Settings
from tests.i18n_text import english_left, texts

HARRIS = {"name": "Harris County", "level": "county", "jurisdiction_id": "us-tx-harris-county"}
ADOPTERS = [
    HARRIS,  # state law on top: two Texas laws, their penalties
    {"name": "Example County", "level": "county"},  # six points: the last names the rest
    {"name": "Oregon", "level": "state"},
    {"name": "District of Columbia", "level": "district"},
    {"name": "Example City", "level": "city", "jurisdiction_id": "us-fl-miami-dade-county"},
]
ENGLISH_WORDS = frozenset(
    " ".join(
        (
            "the and of to is are was were be been with for from on by that this which who whom",
            "whose their them they its any only may must shall not never without unless when",
            "where what would will has have had it as at an or if than into after before",
        )
    ).split()
)
"""Words that are English and not Spanish: one of them outside a name means English text."""


@pytest.fixture(scope="module")
def client(real_build: tuple[str, Path]) -> TestClient:
    url, index_dir = real_build
    return TestClient(create_app(Settings(database_url=url, index_dir=index_dir)))


@pytest.fixture(scope="module")
def names(real_build: tuple[str, Path]) -> list[str]:
    """The allow-list of proper names and cited sources: every protocol's short name and title,
    every place, every background record's title and citation (case names, C.F.R. sections)."""
    engine = make_engine(real_build[0])
    with Session(engine) as db:
        found = {p.short_name for p in store.list_protocols(db)}
        found |= {p.title for p in store.list_protocols(db)}
        found |= {j.name for j in store.list_jurisdictions(db)}
        found |= {c.title for c in store.list_context(db)}
        found |= {c.citation for c in store.list_context(db) if c.citation}
    engine.dispose()
    return sorted(found, key=len, reverse=True)


def english_in(text: str, names: list[str]) -> list[str]:
    """The English words of `text` once proper names are taken out."""
    for name in names:
        if name in text:
            text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", " ", text)
    return sorted({w for w in re.findall(r"[^\W\d_]+", text) if w.lower() in ENGLISH_WORDS})


def ask_texts(html: str, marked_english: bool = False) -> list[str]:
    """The text of the ask's <article> a reader meets, outside elements marked `lang="en"`
    (or all of it, with `marked_english`)."""
    article = html[html.index('<article class="draft-document ask-document"') :]
    article = article[: article.index("</article>")]
    return [text for lang, text in texts(article) if marked_english or lang != "en"]


@pytest.mark.parametrize("adopter", ADOPTERS, ids=lambda a: a["name"])
def test_the_spanish_ask_has_no_english_but_names_and_citations(
    client: TestClient, names: list[str], adopter: dict[str, str]
) -> None:
    spanish = client.get("/draft", params={**adopter, "document": "ask", "lang": "es"})
    assert spanish.status_code == 200
    assert english_left(spanish.text, "es") == []
    left = {t: english_in(t, names) for t in ask_texts(spanish.text)}
    assert {t: w for t, w in left.items() if w} == {}
    assert spanish.text.count("quedan en inglés") == 1  # said once
    # The same check finds the English ask English: it can fail.
    english = client.get("/draft", params={**adopter, "document": "ask", "lang": "en"})
    assert any(english_in(t, names) for t in ask_texts(english.text, marked_english=True))


def test_the_spanish_ask_downloads_are_spanish(client: TestClient, names: list[str]) -> None:
    query = {**HARRIS, "document": "ask", "lang": "es"}
    page = client.get("/draft/download", params={**query, "format": "html"})
    assert page.status_code == 200 and '<html lang="es">' in page.text
    assert page.headers["content-language"] == "es"
    assert page.headers["vary"].startswith("Accept-Language, Cookie")  # as the page chose it
    body = page.text[page.text.index("<article") :]
    left = [t for lang, t in texts(body) if lang != "en" and english_in(t, names)]
    assert left == []
    # The law a state-law sentence names is marked English, for screen readers, here and on the page.
    law = '<span lang="en">Texas anti-sanctuary law (SB 4, 2017)</span> exige «'
    assert law in page.text
    assert law in client.get("/draft", params=query).text
    markdown = client.get("/draft/download", params={**query, "format": "md"}).text
    # Citations ("Tomado de: …") and sources ("(Fuente: …)") are English; the rest is not.
    prose = re.sub(r"\*Tomado de: [^*]*\*|\(Fuente: [^\n]*\)$", "", markdown, flags=re.M)
    assert "Tomado de:" in markdown and "Fuente:" in markdown
    assert english_in(prose, names) == []
    assert "Sanciones que establece: multa" in markdown
    assert "exige «Cumple las retenciones» en cuanto a órdenes de retención" in markdown


def test_the_english_ask_keeps_the_drafts_state_law_sentences(client: TestClient) -> None:
    draft = client.post("/api/v1/drafts", json={"adopter": HARRIS, "document": "ask"}).json()
    ask = draft["data"]["ask"]
    assert ask["state_law"] == draft["data"]["state_law"] and ask["state_law"]
    assert ask["lang"] == ask["content_lang"] == "en" and ask["source_note"] is None


def _draft(client: TestClient, body: dict[str, Any], **request: Any) -> Any:
    answer = client.post("/api/v1/drafts", json=body, **request)
    assert answer.status_code == 200, answer.text
    return answer


def test_the_drafts_api_answers_in_spanish_with_the_same_keys(client: TestClient) -> None:
    body = {"adopter": HARRIS, "document": "ask"}
    english = _draft(client, body)
    spanish = _draft(client, body, params={"lang": "es"})
    assert (
        spanish.headers["content-language"] == "es" and english.headers["content-language"] == "en"
    )
    assert "Accept-Language" in spanish.headers["vary"]
    by_header = _draft(client, body, headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert by_header.json()["data"] == spanish.json()["data"]
    en, es = english.json()["data"], spanish.json()["data"]
    assert set(en) == set(es)
    ask_en, ask_es = en["ask"], es["ask"]
    assert (ask_es["lang"], ask_es["content_lang"]) == ("es", "es")
    assert ask_es["title"] == "Lo que pedimos a Harris County"
    assert [(p["number"], p["key"], p["section"]) for p in ask_es["points"]] == [
        (p["number"], p["key"], p["section"]) for p in ask_en["points"]
    ]
    assert all(
        a["title"] != b["title"] for a, b in zip(ask_en["points"], ask_es["points"], strict=True)
    )
    # Citations stay English; a longer language may keep fewer on the page (kb.ask._fit_page).
    for a, b in zip(ask_en["points"], ask_es["points"], strict=True):
        assert a["citations"][: len(b["citations"])] == b["citations"] and b["citations"]
        assert (
            len(a["citations"]) + a["more_citations"] == len(b["citations"]) + b["more_citations"]
        )
    assert ask_es["reasons"][0]["source"] == ask_en["reasons"][0]["source"]
    assert ask_es["reasons"][0]["text"].startswith("Desde octubre de 2008")
    # The draft's notes name their questions and labels in Spanish, under the same keys.
    assert [n["key"] for n in es["explained"]] == [n["key"] for n in en["explained"]]
    questions = {n["key"]: n["question"] for n in es["explained"]}
    assert (
        questions["juvenile_holds"]
        == "¿Se puede retener a menores de edad por una orden de retención?"
    )
    left_out = {c["key"]: c for c in es["left_out_by_law"]}
    assert left_out["detainer_response"]["allowed_label"] == "Cumple las retenciones"
    assert left_out["detainer_response"]["text"].startswith("En Harris County, ")
    assert [c["key"] for c in es["left_out_by_law"]] == [c["key"] for c in en["left_out_by_law"]]
    # The ordinance itself stays English.
    assert es["sections"] == en["sections"] and es["title"] == en["title"]


def test_the_drafts_documents_take_lang(client: TestClient) -> None:
    ask = {"adopter": HARRIS, "document": "ask"}
    markdown = client.post("/api/v1/drafts.md?lang=es", json=ask)
    assert markdown.status_code == 200 and markdown.text.startswith("# Lo que pedimos a Harris")
    assert markdown.headers["content-language"] == "es"
    by_header = client.post("/api/v1/drafts.md", json=ask, headers={"Accept-Language": "es"})
    assert by_header.text == markdown.text
    # The full ordinance is English whatever is asked.
    ordinance = client.post("/api/v1/drafts.md?lang=es", json={"adopter": HARRIS})
    assert ordinance.status_code == 200 and ordinance.text.startswith("# An Ordinance")
    assert ordinance.headers["content-language"] == "en"
    wrong = client.post("/api/v1/drafts?lang=fr", json=ask)
    assert wrong.status_code == 422 and wrong.headers["content-type"].startswith(
        "application/problem+json"
    )
