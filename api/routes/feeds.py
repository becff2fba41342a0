"""The changes feed: /feeds/changes.atom (Atom, RFC 4287) and /feeds/changes.json (JSON Feed 1.1)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import DB
from api.errors import PROBLEM_RESPONSES
from api.params import jurisdiction_query, state_query
from api.routes.v1 import reject_unknown_parameters
from kb.feed import MAX_ENTRIES, Change, ChangeKind, FeedFilter, list_changes

ATOM = "http://www.w3.org/2005/Atom"
TITLE = "protocol-kb: what changed"
AUTHOR = "protocol-kb"
TAG = "tag:protocol-kb,2026:changes"

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


def _feed_url(request: Request, suffix: str, where: FeedFilter) -> str:
    params = {k: v for k, v in (("state", where.state), ("jurisdiction", where.jurisdiction)) if v}
    base = str(request.base_url).rstrip("/")
    return f"{base}/feeds/changes.{suffix}" + (f"?{urlencode(params)}" if params else "")


def _title(where: FeedFilter) -> str:
    scope = where.jurisdiction or (where.state.upper() if where.state else None)
    return TITLE + (f" ({scope})" if scope else "")


def _tags(change: Change) -> list[str]:
    return [change.kind] + ([change.state] if change.state else [])


@router.get(
    "/changes.json",
    operation_id="getChangesFeed",
    response_model=JsonFeed,
    summary="What changed, as JSON Feed 1.1: 287(g) agreements listed, ended or pending between "
    "ICE's captures, and protocols' dated events, newest first",
)
def changes_json(request: Request, db: DB, where: Filters, limit: Limit = 100) -> dict[str, Any]:
    changes = list_changes(db, where, limit)
    base = str(request.base_url).rstrip("/")
    return {
        "version": "https://jsonfeed.org/version/1.1",
        "title": _title(where),
        "home_page_url": base + "/",
        "feed_url": _feed_url(request, "json", where),
        "description": "287(g) agreements listed, ended or pending between captures of ICE's "
        "lists, and protocols adopted, in force, amended or repealed (docs/registry.md)",
        "authors": [{"name": AUTHOR}],
        "language": "en",
        "items": [
            {
                "id": f"{TAG}/{c.id}",
                "url": base + c.path,
                "title": c.title,
                "content_text": c.summary,
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
            for c in changes
        ],
    }


def atom_document(request: Request, where: FeedFilter, changes: list[Change]) -> bytes:
    ET.register_namespace("", ATOM)

    def add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    base = str(request.base_url).rstrip("/")
    feed = ET.Element(f"{{{ATOM}}}feed")
    self_url = _feed_url(request, "atom", where)
    add(feed, "id", self_url)
    add(feed, "title", _title(where))
    newest = max((c.day for c in changes), default=dt.date(2025, 1, 1))
    add(feed, "updated", _when(newest).isoformat())
    author = add(feed, "author")
    add(author, "name", AUTHOR)
    add(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    add(feed, "link", rel="alternate", type="text/html", href=base + "/")
    for c in changes:
        entry = add(feed, "entry")
        add(entry, "id", f"{TAG}/{c.id}")
        add(entry, "title", c.title)
        add(entry, "updated", _when(c.day).isoformat())
        add(entry, "link", rel="alternate", href=base + c.path)
        if c.capture_id:
            add(
                entry, "link", rel="related", title=c.capture or "",
                href=f"{base}/api/v1/287g/captures",
            )  # fmt: skip
        add(entry, "summary", c.summary)
        for tag in _tags(c):
            add(entry, "category", term=tag)
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))


# Not in the OpenAPI document (its JSON twin is): client generators cannot type an Atom body.
@router.get("/changes.atom", include_in_schema=False)
def changes_atom(request: Request, db: DB, where: Filters, limit: Limit = 100) -> Response:
    changes = list_changes(db, where, limit)
    return Response(
        atom_document(request, where, changes), media_type="application/atom+xml; charset=utf-8"
    )
