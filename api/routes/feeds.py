"""The changes feed: /feeds/changes.atom (Atom, RFC 4287) and /feeds/changes.json (JSON Feed 1.1),
in English or Spanish (`lang`): titles and sentences from the catalogue, names as written."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import DB
from api.errors import PROBLEM_RESPONSES
from api.i18n import DEFAULT, N_, format_date, gettext
from api.params import jurisdiction_query, state_query
from api.routes.v1 import reject_unknown_parameters
from kb.feed import EVENT_WORDS, MAX_ENTRIES, Change, ChangeKind, FeedFilter, list_changes

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
TITLE = N_("protocol-kb: what changed")
DESCRIPTION = N_(
    "287(g) agreements listed, ended or pending between captures of ICE's lists, and protocols "
    "adopted, in force, amended or repealed (docs/registry.md)"
)
AUTHOR = "protocol-kb"
TAG = "tag:protocol-kb,2026:changes"

# The sentences kb.feed writes in English, as templates: in English they give kb's own text
# (tests/api/test_feeds.py checks every entry), in another language the catalogue's.
WHAT = {"participating": N_("%(model)s agreement"), "pending": N_("%(model)s request")}
SIGNED = N_(", signed %(day)s")
LISTED = N_("%(where)s: %(what)s listed%(signed)s")
ENDED = N_("%(where)s: %(what)s no longer listed")
LISTED_SUMMARY = {
    "participating": N_(
        "ICE's participating list of %(day)s (%(file)s) now lists a %(what)s with "
        "%(agency)s%(signed)s; the capture before it did not."
    ),
    "pending": N_(
        "ICE's pending list of %(day)s (%(file)s) now lists as pending a %(what)s with "
        "%(agency)s%(signed)s; the capture before it did not."
    ),
}
ENDED_SUMMARY = {
    "participating": N_(
        "ICE's participating list of %(day)s (%(file)s) no longer shows the %(what)s with "
        "%(agency)s%(signed)s, last listed on %(last)s. Dropping out of the list can mean an "
        "ended agreement, a corrected row or, for a request, one signed or withdrawn "
        "(docs/registry.md)."
    ),
    "pending": N_(
        "ICE's pending list of %(day)s (%(file)s) no longer shows the %(what)s with "
        "%(agency)s%(signed)s, last listed on %(last)s. Dropping out of the list can mean an "
        "ended agreement, a corrected row or, for a request, one signed or withdrawn "
        "(docs/registry.md)."
    ),
}
EVENT = N_("%(name)s: %(event)s %(day)s")
EVENT_SUMMARY = N_("%(title)s (%(citation)s), %(place)s: %(event)s %(day)s.")
ON_DAY, IN_MONTH_OR_YEAR = N_("on %(date)s"), N_("in %(date)s")
"""A protocol's date in another language, with the preposition its precision takes; English
writes the date as the file gives it ("signed 2013-10-05")."""
EVENTS = (N_("took effect"),)
"""kb.feed.EVENT_WORDS not otherwise in the catalogue (the rest are status words)."""

router = APIRouter(
    prefix="/feeds",
    tags=["feeds"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(reject_unknown_parameters)],
)


def _filters(
    state: Annotated[str | None, state_query("TX")] = None,
    jurisdiction: Annotated[
        str | None,
        jurisdiction_query(
            "a gazetteer id: a county's feed holds the agreements of agencies tied to "
            "it and the laws of the county, its cities and its state"
        ),
    ] = None,
) -> FeedFilter:
    return FeedFilter(state=state, jurisdiction=jurisdiction)


Filters = Annotated[FeedFilter, Depends(_filters)]
Language = Annotated[
    Literal["en", "es"],
    Query(
        description="The feed's language: `en` or `es` (titles and sentences; names of laws, "
        "agencies and places stay as written). Chosen by the URL alone, not by "
        "Accept-Language: a subscription reads the same whichever reader fetches it "
        "(docs/i18n.md).",
        examples=["es"],
    ),
]
Limit = Annotated[
    int, Query(ge=1, le=MAX_ENTRIES, description="the newest this many entries (default 100)")
]


class FeedAuthor(BaseModel):
    name: str


class FeedExtension(BaseModel):
    kind: ChangeKind
    state: str = Field(description="USPS code ('' for a federal record)")
    jurisdiction_id: str | None = Field(description="the gazetteer place, null when unmatched")
    capture: str | None = Field(description="ICE's file the change was seen in (registry only)")
    capture_id: str | None = Field(description="that capture's SHA-256 (/api/v1/287g/captures)")


class FeedItem(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    url: str = Field(description="the change's source: the agreement's record or the protocol page")
    title: str
    content_text: str
    date_published: dt.datetime
    tags: list[str]
    protocol_kb: FeedExtension = Field(alias="_protocol_kb")


class JsonFeed(BaseModel):
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1)."""

    version: str = Field(examples=["https://jsonfeed.org/version/1.1"])
    title: str
    home_page_url: str
    feed_url: str
    description: str
    authors: list[FeedAuthor]
    language: str
    items: list[FeedItem]


def _when(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _feed_url(request: Request, suffix: str, where: FeedFilter, lang: str = DEFAULT) -> str:
    params = {k: v for k, v in (("state", where.state), ("jurisdiction", where.jurisdiction)) if v}
    if lang != DEFAULT:
        params["lang"] = lang
    base = str(request.base_url).rstrip("/")
    return f"{base}/feeds/changes.{suffix}" + (f"?{urlencode(params)}" if params else "")


def _title(where: FeedFilter, lang: str = DEFAULT) -> str:
    scope = where.jurisdiction or (where.state.upper() if where.state else None)
    return gettext(lang, TITLE) + (f" ({scope})" if scope else "")


def _day(lang: str, iso: str, preposition: bool = False) -> str:
    if lang == DEFAULT:
        return iso
    written = format_date(lang, iso)
    if not preposition:
        return written
    template = ON_DAY if len(iso.split("-")) == 3 else IN_MONTH_OR_YEAR
    return gettext(lang, template) % {"date": written}


def entry_text(lang: str, change: Change) -> tuple[str, str]:
    """An entry's title and summary in `lang`, from the parts kb wrote them from; kb's own
    English when it gave no parts."""
    parts = dict(change.parts)
    if not parts:
        return change.title, change.summary

    def say(template: str, **values: str) -> str:
        return gettext(lang, template) % values

    if change.kind == "protocol_event":
        event = parts["event"]
        words = gettext(lang, EVENT_WORDS.get(event, event.replace("_", " ")))
        day = _day(lang, parts["day"], preposition=True)
        return (
            say(EVENT, name=parts["name"], event=words, day=day),
            say(
                EVENT_SUMMARY,
                title=parts["title"],
                citation=parts["citation"],
                place=parts["place"],
                event=words,
                day=day,
            ),
        )
    listing = parts["list"] if parts["list"] in WHAT else "pending"
    what = say(WHAT[listing], model=parts["model"])
    signed = say(SIGNED, day=_day(lang, parts["signed"])) if parts["signed"] else ""
    common = {
        "what": what,
        "signed": signed,
        "agency": parts["agency"],
        "day": _day(lang, parts["day"]),
        "file": parts["file"],
    }
    if change.kind in ("agreement_listed", "request_pending"):
        return (
            say(LISTED, where=parts["where"], what=what, signed=signed),
            say(LISTED_SUMMARY[listing], **common),
        )
    return (
        say(ENDED, where=parts["where"], what=what),
        say(ENDED_SUMMARY[listing], **common, last=_day(lang, parts["last"])),
    )


def _entry_url(base: str, change: Change, lang: str) -> str:
    """The change's source; a page of the site in the feed's language."""
    url = base + change.path
    if lang != DEFAULT and not change.path.startswith("/api/"):
        url += ("&" if "?" in url else "?") + urlencode({"lang": lang})
    return url


def _tags(change: Change) -> list[str]:
    return [change.kind] + ([change.state] if change.state else [])


@router.get(
    "/changes.json",
    operation_id="getChangesFeed",
    response_model=JsonFeed,
    summary="What changed, as JSON Feed 1.1: 287(g) agreements listed, ended or pending between "
    "ICE's captures, and protocols' dated events, newest first",
)
def changes_json(
    request: Request,
    response: Response,
    db: DB,
    where: Filters,
    limit: Limit = 100,
    lang: Language = "en",
) -> dict[str, Any]:
    changes = list_changes(db, where, limit)
    response.headers["Content-Language"] = lang
    base = str(request.base_url).rstrip("/")
    texts = [entry_text(lang, c) for c in changes]
    return {
        "version": "https://jsonfeed.org/version/1.1",
        "title": _title(where, lang),
        "home_page_url": base + "/" + (f"?lang={lang}" if lang != DEFAULT else ""),
        "feed_url": _feed_url(request, "json", where, lang),
        "description": gettext(lang, DESCRIPTION),
        "authors": [{"name": AUTHOR}],
        "language": lang,
        "items": [
            {
                "id": f"{TAG}/{c.id}",
                "url": _entry_url(base, c, lang),
                "title": title,
                "content_text": summary,
                "date_published": _when(c.day),
                "tags": _tags(c),
                "_protocol_kb": {
                    "kind": c.kind,
                    "state": c.state,
                    "jurisdiction_id": c.jurisdiction_id,
                    "capture": c.capture,
                    "capture_id": c.capture_id,
                },
            }
            for c, (title, summary) in zip(changes, texts, strict=True)
        ],
    }


def atom_document(
    request: Request, where: FeedFilter, changes: list[Change], lang: str = DEFAULT
) -> bytes:
    ET.register_namespace("", ATOM)

    def add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    base = str(request.base_url).rstrip("/")
    feed = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: lang})
    self_url = _feed_url(request, "atom", where, lang)
    add(feed, "id", self_url)
    add(feed, "title", _title(where, lang))
    newest = max((c.day for c in changes), default=dt.date(2025, 1, 1))
    add(feed, "updated", _when(newest).isoformat())
    author = add(feed, "author")
    add(author, "name", AUTHOR)
    add(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    home = base + "/" + (f"?lang={lang}" if lang != DEFAULT else "")
    add(feed, "link", rel="alternate", type="text/html", href=home)
    for c in changes:
        title, summary = entry_text(lang, c)
        entry = add(feed, "entry")
        add(entry, "id", f"{TAG}/{c.id}")
        add(entry, "title", title)
        add(entry, "updated", _when(c.day).isoformat())
        add(entry, "link", rel="alternate", href=_entry_url(base, c, lang))
        if c.capture_id:
            add(
                entry, "link", rel="related", title=c.capture or "",
                href=f"{base}/api/v1/287g/captures",
            )  # fmt: skip
        add(entry, "summary", summary)
        for tag in _tags(c):
            add(entry, "category", term=tag)
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))


# Not in the OpenAPI document (its JSON twin is): client generators cannot type an Atom body.
@router.get("/changes.atom", include_in_schema=False)
def changes_atom(
    request: Request, db: DB, where: Filters, limit: Limit = 100, lang: Language = "en"
) -> Response:
    changes = list_changes(db, where, limit)
    return Response(
        atom_document(request, where, changes, lang),
        media_type="application/atom+xml; charset=utf-8",
        headers={"Content-Language": lang},
    )
