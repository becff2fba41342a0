"""Languages: the catalogues are complete, every page answers in Spanish with no English
interface text left, and the language is chosen by `?lang=`, the switch's cookie and
Accept-Language (docs/i18n.md)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from markupsafe import escape

from api import i18n
from api.app import create_app
from api.routes.pages import STATUS_NOTES
from kb import models, store
from kb.compare import compare_protocols
from kb.db import make_engine
from kb.gaps import find_gaps
from kb.message import Message
from kb.overview import MAIN_KEYS
from kb.resolve import LAYER_LABELS, ROOM_LABELS, resolve
from kb.score import RUBRIC
from kb.settings import Settings
from kb.status import ENDED_WORDS, NEVER_WORDS, status_lines
from tests.api.test_pages import PAGES
from tests.conftest import office
from tests.i18n_text import english_left, texts

ROOT = Path(__file__).resolve().parents[2]
SPANISH_PAGES = [
    *PAGES,
    "/where?place=harris",
    "/where?place=nowhere-at-all",
    "/where/us-tx-harris-county",
    "/where/us-ca-santa-clara-county?as_of=2016-01-01",
    "/where/us-tx",
    "/codebook?lang=xx",
    "/no-such-page",
    "/map",
    "/map?layer=score",
    "/map?layer=287g",
    "/map/table?layer=287g",
    "/map/table",
    "/embed/map?layer=score",
]
"""Every page type (tests/api/test_pages.py's list, the place pages, errors)."""
CATALOGUE = ROOT / "api" / "locale" / "es" / "LC_MESSAGES" / "messages.po"


@pytest.fixture(scope="module")
def shared_client(real_build: tuple[str, Path]) -> TestClient:
    url, index_dir = real_build
    return TestClient(create_app(Settings(database_url=url, index_dir=index_dir)))


@pytest.fixture
def client(shared_client: TestClient) -> TestClient:
    """The module's client, without the language cookie an earlier test's switch left."""
    shared_client.cookies.clear()
    return shared_client


def _catalogue() -> Any:
    with CATALOGUE.open("rb") as source:
        return read_po(source, locale="es")


def _spanish(english: str) -> str:
    return i18n.gettext("es", english)


# --- The catalogue ----------------------------------------------------------------------------


def test_every_catalogue_entry_is_translated_and_none_is_fuzzy() -> None:
    catalog = _catalogue()
    assert len(catalog) > 300
    assert i18n.untranslated("es") == []
    for message in catalog:
        if not message.id:
            continue
        assert "fuzzy" not in message.flags, message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(s.strip() for s in strings), message.id


def test_placeholders_and_markup_survive_translation() -> None:
    """A translation names no placeholder its English lacks (the page would fail) and keeps its
    tags; it may leave a name out where Spanish words it otherwise."""
    for message in _catalogue():
        if not message.id:
            continue
        english = message.id[-1] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = sorted(re.findall(r"%\(\w+\)s", english))
        tags = sorted(re.findall(r"</?[a-z]+", english))
        for spanish in strings:
            assert set(re.findall(r"%\(\w+\)s", spanish)) <= set(wanted), message.id
            assert sorted(re.findall(r"</?[a-z]+", spanish)) == tags, message.id


def test_every_codebook_question_label_and_topic_has_its_spanish() -> None:
    """Content changed in protocols/ without `make i18n` and a translation fails here."""
    book = yaml.safe_load((ROOT / "protocols" / "codebook.yaml").read_text())
    topics = yaml.safe_load((ROOT / "protocols" / "topics.yaml").read_text())
    english = [str(k["question"]).strip() for k in book["keys"]]
    english += [str(v).strip() for k in book["keys"] for v in (k.get("labels") or {}).values()]
    english += [str(t[f]).strip() for t in topics["topics"] for f in ("name", "definition")]
    untranslated = [e for e in english if _spanish(e) == e and e not in ("No", "287(g)")]
    assert untranslated == []


def test_the_words_kb_writes_are_all_in_the_catalogue() -> None:
    """kb's tables of words shown on pages, and its closed sets as the `words` filter shows
    them: each is marked in api.i18n (kb imports no translation machinery)."""
    closed_sets = [
        models.Level,
        models.ProtocolKind,
        models.Status,
        models.Confidence,
        models.SourceKind,
        models.ContextKind,
        models.KeyType,
        models.Effect,
        models.PenaltyKind,
        models.CaseStatus,
        models.Binds,
    ]
    words = [v.replace("_", " ") for s in closed_sets for v in s.__args__]
    words += [*MAIN_KEYS.values(), *LAYER_LABELS.values(), *ROOM_LABELS.values()]
    words += [*STATUS_NOTES.values(), *models.DATE_KEYS]
    words += [*NEVER_WORDS.values(), *ENDED_WORDS.values()]
    untranslated = [w for w in words if _spanish(w.replace("_", " ")) == w.replace("_", " ")]
    assert [w for w in untranslated if w != "287(g)"] == []
    assert i18n.RUBRIC == RUBRIC
    assert _spanish(RUBRIC) != RUBRIC


def test_whole_numbers_take_the_plural_of_their_unit() -> None:
    assert i18n.answer_label("es", "48 hours", 48) == "48 horas"
    assert i18n.answer_label("es", "1 hours", 1) == "1 hora"
    assert i18n.answer_label("es", "3 years", 3) == "3 años"
    assert i18n.answer_label("es", "Declines all holds", "declines_all") == "Rechaza toda retención"
    assert i18n.answer_label("en", "48 hours", 48) == "48 hours"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es", "es"),
        ("es-MX,es;q=0.9,en;q=0.8", "es"),
        ("en-US,en;q=0.9,es;q=0.8", "en"),
        ("fr-FR,es;q=0.5", "es"),
        ("fr", "en"),
        ("es;q=0", "en"),
        ("es;q=nonsense", "en"),
        ("", "en"),
        ("," * 5000, "en"),
    ],
)
def test_accept_language_picks_one_of_ours(header: str, expected: str) -> None:
    assert i18n.from_header(header) == expected


def test_dates_and_numbers_follow_the_language() -> None:
    import datetime as dt

    day = dt.date(2026, 12, 2)
    assert i18n.format_date("es", day) == "2 de diciembre de 2026"
    assert i18n.format_date("en", day) == "2026-12-02"
    assert i18n.format_date("es", "2013-10") == "octubre de 2013"
    assert i18n.format_date("es", "2013") == "2013"
    assert i18n.format_number("es", 12345) == "12.345"
    assert i18n.format_number("en", 12345) == "12,345"


# --- Pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SPANISH_PAGES)
def test_every_page_in_spanish_leaves_no_english_interface_text(
    client: TestClient, path: str
) -> None:
    response = client.get(path, headers={"Accept-Language": "es"}, follow_redirects=True)
    assert response.status_code < 500
    assert '<html lang="es">' in response.text
    assert response.headers["content-language"] == "es"
    assert english_left(response.text, "es") == []


def test_the_leak_check_finds_english_left_on_a_spanish_page(client: TestClient) -> None:
    """The check above can fail: the English page, read as if it were Spanish, is full of it."""
    english = client.get("/compare?protocols=us-dc/law-19-194", headers={"Accept-Language": "en"})
    left = english_left(english.text.replace('<html lang="en">', '<html lang="es">'), "es")
    assert "Compare protocols" in left and "Permalink" in left


CONDITIONAL = [
    "us-ca-santa-clara-county/board-policy-3-54",
    "us-il-cook-county/ordinance-11-o-73",
    "us-dc/law-19-194",
    "us-ca/ab-4-2013",
]
"""Protocols that hold only when conditions are met: the comparison explains its mark."""


def _shown(page: str, said: Message, lang: str) -> bool:
    return str(escape(i18n.say(lang, said))) in page


def test_status_conflict_and_reason_sentences_are_spanish_on_a_spanish_page(
    client: TestClient, real_build: tuple[str, Path]
) -> None:
    """kb's sentences (kb.message) are written in the page's language: on a Spanish page each
    is in Spanish and its English is nowhere; on the English page, the English."""
    engine = make_engine(real_build[0])
    with store.session(engine) as db:
        lines = status_lines(db)
        resolution = resolve(db, "us-ca-santa-clara-county")
        closed = [g.closed_by for g in find_gaps(db, "us-fl-orange-county").closed_off]
        compared = compare_protocols(db, CONDITIONAL)
    engine.dispose()
    conflicts = [a.conflict_message for a in resolution.answers if a.conflict_message]
    reasons = [law.reason_message for law in resolution.laws if law.reason_message]
    scores = [k.reason_message for k in resolution.score.keys if k.reason_message]
    assert conflicts and reasons and scores
    spanish = client.get("/where/us-ca-santa-clara-county?lang=es").text
    english = client.get("/where/us-ca-santa-clara-county?lang=en").text
    for said in [*conflicts, *reasons]:
        assert i18n.say("es", said) != str(said)
        assert _shown(spanish, said, "es") and not _shown(spanish, said, "en"), str(said)
        assert _shown(english, said, "en"), str(said)
    for protocol_id in ("us-tx/sb-4-2017", "us-ca/ab-1081-2012", "us-ca/ab-4-2013"):
        said = lines[protocol_id].message
        page = client.get(f"/protocols/{protocol_id}?lang=es").text
        assert _shown(page, said, "es") and not _shown(page, said, "en"), str(said)
    forbidden = [f.text_message for f in closed if f is not None and f.text_message]
    assert forbidden
    gaps = client.get("/gaps/us-fl-orange-county?lang=es").text
    for said in forbidden:
        assert _shown(gaps, said, "es") and not _shown(gaps, said, "en"), str(said)
    reasons = [
        c.strongest_reason_message
        for row in compared.rows
        for c in row.cells
        if c.strongest_reason_message
    ]
    assert reasons
    compare = client.get(f"/compare?protocols={','.join(CONDITIONAL)}&lang=es").text
    for said in reasons:
        assert _shown(compare, said, "es") and not _shown(compare, said, "en"), str(said)
        assert "Reimbursement required" not in i18n.say("es", said)
    home = client.get("/?lang=es").text
    shown = [line.message for line in lines.values() if _shown(home, line.message, "es")]
    assert len(shown) >= len(lines) // 2
    assert not [line.text for line in lines.values() if _shown(home, line.message, "en")]


def test_the_county_map_says_its_values_and_notes_in_spanish(client: TestClient) -> None:
    """The map's values, legend and notes are kb messages: a whole number keeps its unit in
    Spanish (it once showed "0 hours"), a score its words, and the 287(g) notes their dates."""
    hours = client.get("/map?layer=question:max_hold_hours&lang=es").text
    legend = re.findall(r'class="map-label">([^<]*)', hours)
    assert "0 horas" in legend and not [w for w in legend if "hours" in w]
    scores = client.get("/map/table?layer=score&lang=es").text
    assert re.search(r'class="map-value">\d+ de 100<', scores)
    assert not re.search(r'class="map-value">\d+ of 100<', scores)
    practice = client.get("/map/table?layer=287g&lang=es").text
    assert "Según la lista de agencias participantes de ICE capturada el " in practice
    assert "list of participating agencies" not in practice
    english = client.get("/map/table?layer=287g&lang=en").text
    assert "list of participating agencies as captured on 20" in english


def test_the_sentence_check_can_fail(client: TestClient, real_build: tuple[str, Path]) -> None:
    """The check above finds a status left in English: a Spanish page that shows kb's English."""
    engine = make_engine(real_build[0])
    with store.session(engine) as db:
        said = status_lines(db)["us-tx/sb-4-2017"].message
    engine.dispose()
    page = client.get("/protocols/us-tx/sb-4-2017?lang=es").text
    leaked = page.replace(i18n.say("es", said), str(said))
    assert _shown(leaked, said, "en") and not _shown(leaked, said, "es")
    assert str(said) in english_left(leaked, "es") or any(
        str(said) in text for text in english_left(leaked, "es")
    )


def test_accept_language_and_lang_answer_in_spanish(client: TestClient) -> None:
    for response in (
        client.get("/", headers={"Accept-Language": "es-ES,es;q=0.9"}),
        client.get("/?lang=es"),
    ):
        assert response.status_code == 200
        assert '<html lang="es">' in response.text
        assert "¿Qué hace su condado con las órdenes de retención (detainers)" in response.text
        assert "Accept-Language" in response.headers["vary"]
    client.cookies.clear()  # `?lang=es` above is remembered, as the switch's choice
    english = client.get("/", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in english.text
    assert english.headers["content-language"] == "en"


def test_lang_beats_accept_language_and_is_kept_by_a_cookie() -> None:
    """The switch's choice wins over the browser's language, on this page and the next."""
    app_client = _fresh_client()
    chosen = app_client.get("/codebook?lang=en", headers={"Accept-Language": "es"})
    assert '<html lang="en">' in chosen.text
    assert chosen.cookies.get("lang") == "en"
    following = app_client.get("/search", headers={"Accept-Language": "es"})
    assert '<html lang="en">' in following.text
    app_client.get("/codebook?lang=es")
    assert '<html lang="es">' in app_client.get("/search").text


_BUILD: dict[str, Any] = {}


def _fresh_client() -> TestClient:
    return TestClient(create_app(Settings(**_BUILD)))


@pytest.fixture(autouse=True)
def _remember_build(real_build: tuple[str, Path]) -> None:
    _BUILD.update(database_url=real_build[0], index_dir=real_build[1])


def test_an_unknown_language_is_refused_in_the_page_language(client: TestClient) -> None:
    response = client.get("/codebook?lang=xx", headers={"Accept-Language": "es"})
    assert response.status_code == 422
    assert '<html lang="es">' in response.text
    assert "Parámetro no válido" in response.text
    assert "unknown language &#39;xx&#39;: choose one of en, es" in response.text
    long = client.get("/?lang=" + "x" * 5000)
    assert long.status_code in (414, 422) and "x" * 100 not in long.text


def test_the_switch_and_the_alternates_keep_the_query(client: TestClient) -> None:
    """A compare or search page in the other language is the same comparison or search."""
    compare = "/compare?protocols=us-dc/law-19-194&protocols=us-il-cook-county/ordinance-11-o-73"
    search = "/search?q=juvenile+holds&sort=date"
    for path in (compare, search):
        page = client.get(path, headers={"Accept-Language": "es"}).text
        switch = re.search(r'<nav class="languages"[^>]*>(.*?)</nav>', page, re.S)
        assert switch is not None
        links = dict(re.findall(r'<a href="([^"]+)" hreflang="(\w+)"', switch.group(1)))
        by_lang = {lang: href.replace("&amp;", "&") for href, lang in links.items()}
        assert set(by_lang) == {"en", "es"}
        for lang, href in by_lang.items():
            assert href.endswith(f"lang={lang}")
            path_part, _, query = path.partition("?")
            assert href.startswith(path_part + "?" + query.replace("/", "%2F"))
            alternate = f'<link rel="alternate" hreflang="{lang}" href="'
            assert alternate + href.replace("&", "&amp;") + '">' in page
        english = client.get(by_lang["en"]).text
        assert '<html lang="en">' in english
        if path == compare:
            assert english.count("<h1>Compare protocols</h1>") == 1
            assert "Cook County" in english and "District of Columbia" in english
        else:
            assert 'value="juvenile holds"' in english


def test_a_spanish_page_says_once_that_sources_stay_english(client: TestClient) -> None:
    page = client.get("/protocols/us-ca/ab-4-2013", headers={"Accept-Language": "es"}).text
    assert page.count("se muestran en inglés, el idioma de sus fuentes") == 1
    assert [t for lang, t in texts(page) if lang == "en"]  # the summaries, marked as English
    english = client.get("/protocols/us-ca/ab-4-2013", headers={"Accept-Language": "en"}).text
    assert "the language of their sources" not in english


def test_the_spanish_search_page_says_spanish_words_are_understood(client: TestClient) -> None:
    page = client.get("/search?lang=es").text
    assert "Puede buscar en español" in page
    assert "Puede buscar en español" not in client.get("/search?lang=en").text


def test_the_spanish_codebook_page_shows_spanish_questions_and_answers(client: TestClient) -> None:
    page = client.get("/codebook?lang=es").text
    assert (
        "¿Qué hace la jurisdicción con las órdenes de retención (detainers) civiles de ICE?" in page
    )
    assert "Retiene solo con una orden judicial firmada por un juez" in page
    assert 'id="detainer_response"' in page  # anchors are keys, the same in every language


# --- The API ----------------------------------------------------------------------------------

COMPARED = "us-dc/law-19-194,us-il-cook-county/ordinance-11-o-73"


def test_the_codebook_api_answers_in_spanish_with_the_same_keys(client: TestClient) -> None:
    english = client.get("/api/v1/codebook").json()["data"]
    for response in (
        client.get("/api/v1/codebook?lang=es"),
        client.get("/api/v1/codebook", headers={"Accept-Language": "es-MX,es;q=0.9"}),
    ):
        assert response.status_code == 200
        assert response.headers["content-language"] == "es"
        assert "Accept-Language" in response.headers["vary"]
        spanish = response.json()["data"]
        assert [k["key"] for k in spanish] == [k["key"] for k in english]
        for en, es in zip(english, spanish, strict=True):
            assert es["values"] == en["values"] and es["type"] == en["type"]
            assert set(es["labels"]) == set(en["labels"])
            assert es["question"] == _spanish(en["question"]) != en["question"]
        detainer = next(k for k in spanish if k["key"] == "detainer_response")
        assert detainer["labels"]["judicial_warrant_only"] == (
            "Retiene solo con una orden judicial firmada por un juez"
        )
    one = client.get("/api/v1/codebook/max_hold_hours?lang=es").json()["data"]
    assert one["key"] == "max_hold_hours" and one["unit"] == "horas"


def test_compare_and_resolve_answer_in_spanish_with_the_same_ids(client: TestClient) -> None:
    english = client.get(f"/api/v1/compare?protocols={COMPARED}").json()["data"]
    spanish = client.get(f"/api/v1/compare?protocols={COMPARED}&lang=es").json()["data"]
    assert [r["key"] for r in spanish["rows"]] == [r["key"] for r in english["rows"]]
    assert spanish["protocols"] == english["protocols"]  # titles stay English
    for en, es in zip(english["rows"], spanish["rows"], strict=True):
        assert es["question"] == _spanish(en["question"])
        assert [c["value"] for c in es["cells"]] == [c["value"] for c in en["cells"]]
    labels = {c["label"] for r in spanish["rows"] for c in r["cells"]}
    assert "No lo aborda" in labels and "Not addressed" not in labels
    hours = [c for r in spanish["rows"] if r["key"] == "max_hold_hours" for c in r["cells"]]
    assert any(c["label"].endswith(("hora", "horas")) for c in hours if c["value"] is not None)

    place = "/api/v1/resolve/us-tx-harris-county"
    en_place = client.get(place).json()["data"]
    es_place = client.get(place, headers={"Accept-Language": "es"}).json()["data"]
    assert [a["key"] for a in es_place["answers"]] == [a["key"] for a in en_place["answers"]]
    assert [a["room"] for a in es_place["answers"]] == [a["room"] for a in en_place["answers"]]
    assert {a["room_label"] for a in es_place["answers"]} <= {
        "debe",
        "no puede ir más allá",
        "puede ir más allá",
    }
    assert es_place["answers"][0]["question"] == _spanish(en_place["answers"][0]["question"])
    # What the cache kept for one language is never the answer to the other.
    assert client.get(place).json()["data"] == en_place


def test_an_unknown_api_language_is_a_problem(client: TestClient) -> None:
    for path in ("/api/v1/codebook?lang=fr", f"/api/v1/compare?protocols={COMPARED}&lang=EN"):
        response = client.get(path)
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["type"].endswith("invalid-parameter")
        assert problem["errors"][0]["parameter"] == "lang"
    # Operations that answer in one language do not take it.
    assert client.get("/api/v1/protocols?lang=es").status_code == 422


def test_the_response_cache_and_its_etags_keep_the_languages_apart(client: TestClient) -> None:
    path = "/api/v1/codebook/juvenile_holds"
    english = client.get(path)
    spanish = client.get(path, headers={"Accept-Language": "es"})
    assert english.json() != spanish.json()
    assert english.headers["etag"] != spanish.headers["etag"]
    again = client.get(path, headers={"Accept-Language": "es"})
    assert again.json() == spanish.json() and "hit" in again.headers["cache-status"]
    # A validator for the English answer does not stand for the Spanish one.
    crossed = client.get(
        path, headers={"Accept-Language": "es", "If-None-Match": english.headers["etag"]}
    )
    assert crossed.status_code == 200 and crossed.json() == spanish.json()
    same = client.get(
        path, headers={"Accept-Language": "es", "If-None-Match": spanish.headers["etag"]}
    )
    assert same.status_code == 304 and "Accept-Language" in same.headers["vary"]
    by_parameter = client.get(path + "?lang=es", headers={"Accept-Language": "en"})
    assert by_parameter.json() == spanish.json()


# --- The one-page ask in Spanish --------------------------------------------------------------

ASK_QUERY = {
    "name": "Harris County",
    "level": "county",
    "jurisdiction_id": "us-tx-harris-county",
    "document": "ask",
}


def test_the_spanish_drafting_page_shows_the_ask_in_spanish(client: TestClient) -> None:
    page = client.get("/draft", params={**ASK_QUERY, "lang": "es"})
    assert page.status_code == 200
    assert '<article class="draft-document ask-document" lang="es">' in page.text
    assert "Lo que pedimos a Harris County" in page.text and "Ley estatal" in page.text
    assert "What we ask of" not in page.text
    assert english_left(page.text, "es") == []
    english = client.get("/draft", params={**ASK_QUERY, "lang": "en"})
    assert "What we ask of Harris County" in english.text and "Lo que pedimos" not in english.text


def test_the_spanish_ask_prints_on_one_page(client: TestClient, tmp_path: Path) -> None:
    markdown = client.get("/draft/download", params={**ASK_QUERY, "lang": "es", "format": "md"})
    assert markdown.status_code == 200 and "Lo que pedimos" in markdown.text
    office("pdfinfo")
    pdf = client.get("/draft/download", params={**ASK_QUERY, "lang": "es", "format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    path = tmp_path / "ask-es.pdf"
    path.write_bytes(pdf.content)
    info = subprocess.run(
        ["pdfinfo", str(path)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE), info
