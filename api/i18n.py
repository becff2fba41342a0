"""Languages: which one a request is answered in, and the gettext catalogues that translate.

The catalogues are api/locale/<lang>/LC_MESSAGES/messages.po (Babel's layout; `make i18n`
extracts and updates them). The .po file is the only thing committed: it is compiled in memory
the first time a process needs the language, so a checkout never serves a stale .mo.
Content (codebook questions and labels, topic names) is stored in English and translated here,
at render time: keys and ids never change with the language.
"""

from __future__ import annotations

import datetime as dt
import gettext as stdlib_gettext
import io
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_skeleton
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from fastapi import Request

from kb.errors import InvalidParameter
from kb.message import Day, Label, LongDay, Message, Names, Number, Param
from kb.score import RUBRIC as SCORE_RUBRIC

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT = "en"
LANGUAGES = ("en", "es")
"""Every language the site and the API answer in; the first is the source language."""
NAMES = {"en": "English", "es": "Español"}
"""Each language named in itself, for the language switch."""
PARAMETER = "lang"
COOKIE = "lang"
COOKIE_AGE = 365 * 24 * 3600


def N_(message: str) -> str:
    """Marks a string for the catalogue without translating it (it is translated where shown)."""
    return message


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> stdlib_gettext.NullTranslations:
    """The catalogue of `lang`, compiled from its .po file once per process."""
    if lang == DEFAULT:
        return stdlib_gettext.NullTranslations()
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as source:
        catalog = read_po(source, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain="messages")


def gettext(lang: str, message: str) -> str:
    return translations(lang).gettext(message) if message else message


def ngettext(lang: str, singular: str, plural: str, n: int) -> str:
    return translations(lang).ngettext(singular, plural, n)


def check(lang: str | None) -> str | None:
    """`lang` as asked for in a query string: None when absent, InvalidParameter if unknown."""
    if lang is None or lang == "":
        return None
    if lang not in LANGUAGES:
        shown = lang if len(lang) <= 20 else lang[:20] + "…"
        raise InvalidParameter(
            f"unknown language {shown!r}: choose one of {', '.join(LANGUAGES)}", field=PARAMETER
        )
    return lang


def from_header(header: str | None) -> str:
    """The language Accept-Language prefers among ours (RFC 9110 §12.5.4); English otherwise."""
    best, best_q = DEFAULT, 0.0
    for item in (header or "")[:500].split(",")[:20]:
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > best_q:
            best, best_q = primary, quality
    return best


def negotiate(request: Request) -> str:
    """For the API: `?lang=` when given (an unknown one is an error), else Accept-Language,
    else English."""
    asked = check(request.query_params.get(PARAMETER))
    return asked or from_header(request.headers.get("accept-language"))


NEGOTIATED = ("/api/v1/codebook", "/api/v1/compare", "/api/v1/resolve/")
"""The API paths whose answer follows `lang` and Accept-Language (api.routes.v1); a path
starting with one of the first two must also end there or continue with `/`."""


def negotiates(path: str) -> bool:
    return any(path == p or path.startswith(p if p.endswith("/") else p + "/") for p in NEGOTIATED)


def api_language(query_string: bytes, accept_language: bytes | None) -> str:
    """What api.routes.v1 answers a negotiating path in, read from the raw request (for the
    response cache, which runs before the route)."""
    for name, value in parse_qsl(query_string.decode("latin-1")):
        if name == PARAMETER:
            return value
    return from_header(accept_language.decode("latin-1") if accept_language else None)


def page_language(request: Request, strict: bool = True) -> str:
    """For pages: `?lang=`, else the language last chosen with the switch (a cookie, so that the
    links and forms of a page need not carry it), else Accept-Language, else English.
    `strict=False` (the error page) ignores an unknown `lang` instead of refusing it."""
    try:
        asked = check(request.query_params.get(PARAMETER))
    except InvalidParameter:
        if strict:
            raise
        asked = None
    kept = request.cookies.get(COOKIE)
    if asked:
        return asked
    if kept in LANGUAGES:
        return kept
    return from_header(request.headers.get("accept-language"))


def format_date(lang: str, day: object, style: str = "long") -> str:
    """A date as the language writes it ("2 de diciembre de 2026"). English pages keep the ISO
    form they have always shown (2026-12-02). Takes a date, a datetime (its time is written
    too, in UTC), a kb PartialDate or the ISO text content holds (`2013`, `2013-10`, `2013-10-05`);
    anything else is shown as it is."""
    if day is None or day == "":
        return ""
    precision = "day"
    if isinstance(day, str):
        parts = day.split("-")
        try:
            padded = [int(p) for p in [*parts, "1", "1"][:3]]
            value: dt.date = dt.date(*padded)
        except ValueError:
            return day
        precision = ("year", "month", "day")[min(len(parts), 3) - 1]
    elif isinstance(day, dt.datetime):
        if lang == DEFAULT:
            return day.strftime("%Y-%m-%d %H:%M UTC")
        locale = Locale.parse(lang)
        return f"{babel_format_date(day.date(), format=style, locale=locale)}, {day:%H:%M} UTC"
    elif isinstance(day, dt.date):
        value = day
    elif isinstance(getattr(day, "date", None), dt.date):  # kb.models.PartialDate
        value, precision = day.date, str(getattr(day, "precision", "day"))  # type: ignore[attr-defined]
    else:
        return str(day)
    if lang == DEFAULT:
        return value.isoformat()[: {"year": 4, "month": 7}.get(precision, 10)]
    locale = Locale.parse(lang)
    if precision == "year":
        return str(value.year)
    if precision == "month":
        return format_skeleton("yMMMM", value, locale=locale)
    return babel_format_date(value, format=style, locale=locale)


def format_number(lang: str, number: int | float) -> str:
    return format_decimal(number, locale=Locale.parse(lang))


def translated(lang: str, value: Any) -> Any:
    """A content string (a codebook question or label, a topic name) in `lang`."""
    return gettext(lang, value) if isinstance(value, str) else value


def answer_label(lang: str, label: str, value: object) -> str:
    """A coded answer's label (as kb.codebook writes it in English) in `lang`. Whole numbers
    are written `<n> <unit>`; the unit is translated with the number's plural form."""
    if lang == DEFAULT:
        return label
    if isinstance(value, int) and not isinstance(value, bool):
        unit = label.partition(" ")[2]
        if unit:
            return f"{format_number(lang, value)} {ngettext(lang, unit.removesuffix('s'), unit, value)}"
        return format_number(lang, value)
    return gettext(lang, label)


def say(lang: str, said: Message | Param | None) -> str:
    """A sentence kb wrote as a message (kb.message) in `lang`: its msgid from the catalogue,
    each parameter written as its type says (dates in the language's form, a list of names
    joined in its words, answer labels and nested messages translated, names as written).
    In English it is the sentence kb writes, byte for byte. Plain text is shown as it is."""
    if said is None:
        return ""
    if lang == DEFAULT:
        return str(said)
    match said:
        case Message(msgid=msgid, params=params):
            translated = gettext(lang, msgid)
            if not params:
                return translated
            return translated % {name: say(lang, value) for name, value in params.items()}
        case Day(text=text):
            return format_date(lang, text)
        case LongDay(day=day):
            return format_date(lang, day)
        case Names(items=items):
            return format_list([say(lang, item) for item in items], locale=Locale.parse(lang))
        case Label(label=label, value=value):
            return answer_label(lang, label, value)
        case Number(value=value) | (int() as value):
            return format_number(lang, value)
        case _:
            return str(said)


CONTENT_WORDS = (
    # kb.overview.MAIN_KEYS: the overview's column headings.
    N_("Detainer holds"),
    N_("Reimbursement"),
    N_("Criminal history"),
    N_("Longest hold"),
    N_("Juveniles"),
    N_("ICE in the jail"),
    N_("Release dates to ICE"),
    N_("Status questions"),
    N_("287(g)"),
    # kb.resolve.LAYER_LABELS and ROOM_LABELS.
    N_("state law"),
    N_("court order"),
    N_("county"),
    N_("city"),
    N_("district"),
    N_("must"),
    N_("may not go further"),
    N_("may go further"),
    # kb.models' closed sets, as the `words` filter writes them (underscores as spaces).
    N_("state"),
    N_("statute"),
    N_("bill"),
    N_("ordinance"),
    N_("resolution"),
    N_("board policy"),
    N_("executive order"),
    N_("agency policy"),
    N_("executive action"),
    N_("introduced"),
    N_("passed"),
    N_("vetoed"),
    N_("enacted"),
    N_("in force"),
    N_("amended"),
    N_("superseded"),
    N_("repealed"),
    N_("struck down"),
    N_("preempted"),
    N_("adopted"),
    N_("signed"),
    N_("issued"),
    N_("effective"),
    N_("two sources"),
    N_("one source"),
    N_("unverified"),
    N_("official"),
    N_("secondary"),
    N_("program"),
    N_("regulation"),
    N_("memo"),
    N_("ruling"),
    N_("report"),
    N_("choice"),
    N_("boolean"),
    N_("integer"),
    N_("text"),
    N_("own agencies"),
    N_("all local agencies"),
    N_("local governments"),
    N_("sheriffs"),
    N_("jails"),
    N_("police"),
    N_("floor"),
    N_("ceiling"),
    N_("mandate"),
    N_("fine"),
    N_("removal from office"),
    N_("criminal"),
    N_("loss of funds"),
    N_("pending"),
    N_("decided"),
    # Search facets (search_index.schema) and codebook units on their own.
    N_("jurisdiction"),
    N_("topic"),
    N_("status"),
    N_("level"),
    N_("year"),
    N_("kind"),
    N_("hours"),
    N_("years"),
    # Error titles (kb.errors, api.errors, HTTP's own phrases); the detail stays English.
    N_("Bad request"),
    N_("Invalid content"),
    N_("Invalid parameter"),
    N_("Unknown parameter"),
    N_("Too many protocols"),
    N_("Invalid options"),
    N_("Not found"),
    N_("Not Found"),
    N_("Bad search query"),
    N_("Search index unavailable"),
    N_("Database unavailable"),
    N_("Build failed"),
    N_("Method Not Allowed"),
    N_("Error"),
    # kb.diff: what happened to a provision between two versions.
    N_("list"),
    N_("changed"),
    # kb.drafting: the instrument a draft is written as ("ordinance" is a level word above).
    N_("act"),
    N_("added"),
    N_("removed"),
    N_("unchanged"),
)
"""Words kb writes in English in tables that pages show, marked here; tests/api/test_i18n.py
checks that each of kb's tables is listed. kb's sentences are messages, marked where kb writes
them (kb.message)."""
RUBRIC = SCORE_RUBRIC
"""kb.score.RUBRIC (marked for the catalogue there)."""


def untranslated(lang: str) -> list[str]:
    """The msgids of `lang`'s catalogue with no translation or a fuzzy one."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as source:
        catalog = read_po(source, locale=lang)
    return [
        str(m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string]))
    ]


if __name__ == "__main__":  # `make i18n`: what each catalogue still lacks
    import sys

    missing = 0
    for code in LANGUAGES[1:]:
        left = untranslated(code)
        missing += len(left)
        print(f"{code}: {len(left)} untranslated or fuzzy", *left, sep="\n  ")
    sys.exit(1 if missing else 0)
