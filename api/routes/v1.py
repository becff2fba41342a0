"""JSON API v1: each route parses its input, calls one `kb` or `search_index` function, wraps it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel

from api import caching
from api.build_watch import BuildStamp
from api.deps import DB
from api.errors import PROBLEM_RESPONSES
from kb import models, store
from kb.compare import Comparison, compare_protocols
from kb.diff import VersionDiff, diff_versions
from kb.errors import KBError
from kb.formats import comparison_csv, comparison_markdown
from search_index.search import SearchResult

router = APIRouter(prefix="/api/v1", tags=["v1"], responses=PROBLEM_RESPONSES)
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


def _dataset(request: Request, db: DB) -> Dataset:
    """The build that answers, read in the route's own session so that the stamp matches the
    data; api.caching keeps the answer under it."""
    info = store.build_info(db)
    caching.record_build(request, BuildStamp(info.version, info.built_at))
    return Dataset(version=info.version, built_at=info.built_at)


DatasetDep = Annotated[Dataset, Depends(_dataset)]


def _page(
    request: Request, dataset: Dataset, items: list[Any], limit: int, offset: int
) -> dict[str, Any]:
    following = None
    if offset + limit < len(items):
        following = str(request.url.include_query_params(offset=offset + limit, limit=limit))
    return {
        "data": items[offset : offset + limit],
        "total": len(items),
        "next": following,
        "dataset": dataset,
    }


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Offset = Annotated[int, Query(ge=0, description="items to skip")]


def _csv_list(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


_DATASET_EXAMPLE = {"version": "3f9c2a1b7d4e8f60", "built_at": "2026-11-23T00:00:00Z"}


def _example(data: Any, page: bool = False) -> dict[int | str, dict[str, Any]]:
    """An OpenAPI response example wrapped the way every response is."""
    body: dict[str, Any] = {"data": data, "dataset": _DATASET_EXAMPLE}
    if page:
        body |= {"total": 1, "next": None}
    return {200: {"content": {"application/json": {"example": body}}}}


@router.get(
    "/jurisdictions",
    response_model=Page[models.JurisdictionPublic],
    summary="List jurisdictions",
    responses=_example(
        [
            {
                "id": "us-il-cook-county",
                "name": "Cook County, Illinois",
                "level": "county",
                "state": "IL",
                "parent_id": None,
            }
        ],
        page=True,
    ),
)
def jurisdictions(
    request: Request, db: DB, dataset: DatasetDep, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    return _page(request, dataset, store.list_jurisdictions(db), limit, offset)


@router.get(
    "/jurisdictions/{jurisdiction_id}",
    response_model=Item[models.JurisdictionPublic],
    summary="One jurisdiction",
)
def jurisdiction(
    jurisdiction_id: Annotated[str, Path(examples=["us-il-cook-county"])],
    db: DB,
    dataset: DatasetDep,
) -> dict[str, Any]:
    return {"data": store.get_jurisdiction(db, jurisdiction_id), "dataset": dataset}


@router.get(
    "/protocols", response_model=Page[models.ProtocolSummary], summary="List and filter protocols"
)
def protocols(
    request: Request,
    db: DB,
    dataset: DatasetDep,
    jurisdiction: Annotated[str | None, Query(examples=["us-ca"])] = None,
    status: Annotated[str | None, Query(examples=["vetoed"])] = None,
    year: Annotated[int | None, Query(ge=1, le=9999, examples=[2013])] = None,
    level: Annotated[str | None, Query(examples=["county"])] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Any codebook key is a filter too: `?detainer_response=declines_all&max_hold_hours=48`."""
    named = {"jurisdiction", "status", "year", "level", "limit", "offset"}
    coded = {k: v for k, v in request.query_params.items() if k not in named}
    found = store.find_protocols(
        db, jurisdiction=jurisdiction, status=status, year=year, level=level, coded=coded
    )
    return _page(request, dataset, found, limit, offset)


@router.get(
    "/protocols/{protocol_id:path}/provisions",
    response_model=Page[models.ProvisionPublic],
    summary="The provisions of one protocol",
)
def protocol_provisions(
    protocol_id: Annotated[str, Path(examples=["us-ca/ab-4-2013"])],
    request: Request,
    db: DB,
    dataset: DatasetDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    (protocol,) = store.get_protocols(db, [protocol_id])
    return _page(request, dataset, protocol.provisions, limit, offset)


@router.get(
    "/protocols/{protocol_id:path}",
    response_model=Item[models.ProtocolPublic],
    summary="One protocol, whole",
)
def protocol(
    protocol_id: Annotated[str, Path(examples=["us-il-cook-county/ordinance-11-o-73"])],
    db: DB,
    dataset: DatasetDep,
) -> dict[str, Any]:
    (found,) = store.get_protocols(db, [protocol_id])
    return {"data": found, "dataset": dataset}


@router.get(
    "/provisions/{provision_id:path}",
    response_model=Item[models.ProvisionPublic],
    summary="One provision",
)
def provision(
    provision_id: Annotated[
        str, Path(examples=["us-il-cook-county/ordinance-11-o-73/sec-46-37-a"])
    ],
    db: DB,
    dataset: DatasetDep,
) -> dict[str, Any]:
    return {"data": store.get_provision(db, provision_id), "dataset": dataset}


@router.get(
    "/codebook",
    response_model=Item[list[models.CodebookKeyPublic]],
    summary="The codebook",
    responses=_example(
        [
            {
                "key": "juvenile_holds",
                "type": "choice",
                "topic_id": "juveniles",
                "question": "May minors be held on a detainer?",
                "values": ["prohibited", "restricted", "allowed", "not_addressed"],
                "labels": {"prohibited": "Prohibited", "not_addressed": "Not addressed"},
                "unit": None,
            }
        ]
    ),
)
def codebook(db: DB, dataset: DatasetDep) -> dict[str, Any]:
    return {"data": store.codebook_keys(db), "dataset": dataset}


@router.get(
    "/topics",
    response_model=Item[list[models.TopicPublic]],
    summary="Topics",
    responses=_example(
        [
            {
                "id": "juveniles",
                "name": "Juveniles",
                "definition": "Special rules for people under 18.",
            }
        ]
    ),
)
def topics(db: DB, dataset: DatasetDep) -> dict[str, Any]:
    return {"data": store.list_topics(db), "dataset": dataset}


@router.get(
    "/context",
    response_model=Item[list[models.ContextRecordBase]],
    summary="Background records",
    responses=_example(
        [
            {
                "id": "galarza-v-szalczyk",
                "title": "Galarza v. Szalczyk (3d Cir. 2014)",
                "kind": "ruling",
                "date": "2014-03-04",
                "citation": "Galarza v. Szalczyk, 745 F.3d 634 (3d Cir. 2014)",
                "summary": "A federal appeals court held that a detainer is a request a county may refuse.",
                "verified_on": "2026-11-23",
                "confidence": "two_sources",
                "verified_note": None,
            }
        ]
    ),
)
def context(db: DB, dataset: DatasetDep) -> dict[str, Any]:
    return {"data": store.list_context(db), "dataset": dataset}


@router.get(
    "/search", response_model=Item[SearchResult], summary="Search provisions and background records"
)
def search(
    request: Request,
    db: DB,
    dataset: DatasetDep,
    q: Annotated[
        str,
        Query(
            max_length=10_000,
            description="query language: docs/search.md",
            examples=["juvenile holds topic:juveniles"],
        ),
    ] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
    sort: Literal["relevance", "date"] = "relevance",
) -> dict[str, Any]:
    request.app.state.index_refresh.ensure(dataset.version)
    result = request.app.state.search.search(q, page=page, per_page=per_page, sort=sort)
    if result.version != dataset.version:
        caching.do_not_store(request)  # the index is still catching up with this build
    return {"data": result, "dataset": dataset}


@router.get(
    "/compare",
    response_model=Item[Comparison],
    summary="Compare protocols side by side",
    responses={200: {"content": {"text/csv": {}, "text/markdown": {}}}},
)
def compare(
    db: DB,
    dataset: DatasetDep,
    protocols: Annotated[
        str,
        Query(
            description="protocol ids, comma-separated (at most 6)",
            examples=[
                "us-ca-santa-clara-county/board-policy-3-54,us-il-cook-county/ordinance-11-o-73,us-dc/law-19-194"
            ],
        ),
    ],
    keys: Annotated[
        str | None,
        Query(
            description="codebook keys, comma-separated",
            examples=["detainer_response,max_hold_hours"],
        ),
    ] = None,
    topics: Annotated[
        str | None, Query(description="topic ids, comma-separated", examples=["juveniles"])
    ] = None,
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
    return {"data": result, "dataset": dataset}


@router.get("/diff", response_model=Item[VersionDiff], summary="What changed between two versions")
def diff(
    db: DB,
    dataset: DatasetDep,
    from_id: Annotated[
        str,
        Query(
            alias="from", description="the earlier version's id", examples=["us-ca/ab-1081-2012"]
        ),
    ],
    to_id: Annotated[
        str, Query(alias="to", description="the later version's id", examples=["us-ca/ab-4-2013"])
    ],
) -> dict[str, Any]:
    if not from_id.strip() or not to_id.strip():
        raise KBError("name both versions: ?from=…&to=…")
    return {"data": diff_versions(db, from_id, to_id), "dataset": dataset}
