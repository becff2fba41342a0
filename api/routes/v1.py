"""JSON API v1: each route parses its input, calls one `kb` or `search_index` function, wraps it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel
from sqlmodel import Session

from api.deps import DB
from kb import models, store
from kb.compare import Comparison, compare_protocols
from kb.diff import VersionDiff, diff_versions
from kb.errors import KBError
from kb.formats import comparison_csv, comparison_markdown
from search_index.search import SearchResult

router = APIRouter(prefix="/api/v1", tags=["v1"])
T = TypeVar("T")
MAX_LIMIT = 200


class Dataset(BaseModel):
    """Which build of the data answered: the content version and when it was built."""

    version: str
    built_at: datetime


class Item(BaseModel, Generic[T]):
    data: T
    dataset: Dataset


class Page(BaseModel, Generic[T]):
    data: list[T]
    total: int
    next: str | None
    """The URL of the next page, or null on the last one."""
    dataset: Dataset


def _dataset(db: Session) -> Dataset:
    info = store.build_info(db)
    return Dataset(version=info.version, built_at=info.built_at)


def _page(
    request: Request, db: Session, items: list[Any], limit: int, offset: int
) -> dict[str, Any]:
    following = None
    if offset + limit < len(items):
        following = str(request.url.include_query_params(offset=offset + limit, limit=limit))
    return {
        "data": items[offset : offset + limit],
        "total": len(items),
        "next": following,
        "dataset": _dataset(db),
    }


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Offset = Annotated[int, Query(ge=0, description="items to skip")]


def _csv_list(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


@router.get(
    "/jurisdictions", response_model=Page[models.JurisdictionPublic], summary="List jurisdictions"
)
def jurisdictions(
    request: Request, db: DB, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    return _page(request, db, store.list_jurisdictions(db), limit, offset)


@router.get(
    "/jurisdictions/{jurisdiction_id}",
    response_model=Item[models.JurisdictionPublic],
    summary="One jurisdiction",
)
def jurisdiction(jurisdiction_id: str, db: DB) -> dict[str, Any]:
    return {"data": store.get_jurisdiction(db, jurisdiction_id), "dataset": _dataset(db)}


@router.get(
    "/protocols", response_model=Page[models.ProtocolSummary], summary="List and filter protocols"
)
def protocols(
    request: Request,
    db: DB,
    jurisdiction: str | None = None,
    status: str | None = None,
    year: int | None = None,
    level: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Any codebook key is a filter too: `?detainer_response=declines_all&max_hold_hours=48`."""
    named = {"jurisdiction", "status", "year", "level", "limit", "offset"}
    coded = {k: v for k, v in request.query_params.items() if k not in named}
    found = store.find_protocols(
        db, jurisdiction=jurisdiction, status=status, year=year, level=level, coded=coded
    )
    return _page(request, db, found, limit, offset)


@router.get(
    "/protocols/{protocol_id:path}/provisions",
    response_model=Page[models.ProvisionPublic],
    summary="The provisions of one protocol",
)
def protocol_provisions(
    protocol_id: str, request: Request, db: DB, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    (protocol,) = store.get_protocols(db, [protocol_id])
    return _page(request, db, protocol.provisions, limit, offset)


@router.get(
    "/protocols/{protocol_id:path}",
    response_model=Item[models.ProtocolPublic],
    summary="One protocol, whole",
)
def protocol(protocol_id: str, db: DB) -> dict[str, Any]:
    (found,) = store.get_protocols(db, [protocol_id])
    return {"data": found, "dataset": _dataset(db)}


@router.get(
    "/provisions/{provision_id:path}",
    response_model=Item[models.ProvisionPublic],
    summary="One provision",
)
def provision(provision_id: str, db: DB) -> dict[str, Any]:
    return {"data": store.get_provision(db, provision_id), "dataset": _dataset(db)}


@router.get(
    "/codebook", response_model=Item[list[models.CodebookKeyPublic]], summary="The codebook"
)
def codebook(db: DB) -> dict[str, Any]:
    return {"data": store.codebook_keys(db), "dataset": _dataset(db)}


@router.get("/topics", response_model=Item[list[models.TopicPublic]], summary="Topics")
def topics(db: DB) -> dict[str, Any]:
    return {"data": store.list_topics(db), "dataset": _dataset(db)}


@router.get(
    "/context", response_model=Item[list[models.ContextRecordBase]], summary="Background records"
)
def context(db: DB) -> dict[str, Any]:
    return {"data": store.list_context(db), "dataset": _dataset(db)}


@router.get(
    "/search", response_model=Item[SearchResult], summary="Search provisions and background records"
)
def search(
    request: Request,
    db: DB,
    q: Annotated[str, Query(max_length=10_000, description="query language: docs/search.md")] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
    sort: Literal["relevance", "date"] = "relevance",
) -> dict[str, Any]:
    dataset = _dataset(db)
    request.app.state.index_refresh.ensure(dataset.version)
    result = request.app.state.search.search(q, page=page, per_page=per_page, sort=sort)
    return {"data": result, "dataset": dataset}


@router.get(
    "/compare",
    response_model=Item[Comparison],
    summary="Compare protocols side by side",
    responses={200: {"content": {"text/csv": {}, "text/markdown": {}}}},
)
def compare(
    db: DB,
    protocols: Annotated[str, Query(description="protocol ids, comma-separated (at most 6)")],
    keys: Annotated[str | None, Query(description="codebook keys, comma-separated")] = None,
    topics: Annotated[str | None, Query(description="topic ids, comma-separated")] = None,
    differences_only: bool = False,
    format: Literal["json", "csv", "md"] = "json",
) -> Any:
    result = compare_protocols(
        db,
        _csv_list(protocols) or [],
        keys=_csv_list(keys),
        topics=_csv_list(topics),
        differences_only=differences_only,
    )
    if format == "csv":
        return Response(comparison_csv(result), media_type="text/csv; charset=utf-8")
    if format == "md":
        return PlainTextResponse(
            comparison_markdown(result), media_type="text/markdown; charset=utf-8"
        )
    return {"data": result, "dataset": _dataset(db)}


@router.get("/diff", response_model=Item[VersionDiff], summary="What changed between two versions")
def diff(
    db: DB,
    from_id: Annotated[str, Query(alias="from", description="the earlier version's id")],
    to_id: Annotated[str, Query(alias="to", description="the later version's id")],
) -> dict[str, Any]:
    if not from_id.strip() or not to_id.strip():
        raise KBError("name both versions: ?from=…&to=…")
    return {"data": diff_versions(db, from_id, to_id), "dataset": _dataset(db)}
