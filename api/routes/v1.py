"""JSON API v1: each route parses its input, calls one `kb` or `search_index` function, wraps it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from api import caching, i18n, localized
from api.build_watch import BuildStamp
from api.deps import DB
from api.downloads import attachment
from api.errors import PROBLEM_RESPONSES
from kb import models, store
from kb.compare import Comparison, compare_protocols
from kb.diff import VersionDiff, diff_versions
from kb.errors import InvalidParameter, UnknownParameter
from kb.export import export_json
from kb.formats import coded_answers_csv, comparison_csv, comparison_markdown
from kb.resolve import Resolution, resolve
from search_index.search import MAX_PER_PAGE, SearchResult

T = TypeVar("T")
MAX_LIMIT = 200
OPEN_QUERY = "x-open-query"
"""openapi_extra flag of an operation that checks its own parameter names (codebook filters)."""


def reject_unknown_parameters(request: Request) -> None:
    """A parameter an operation does not take is an error, not silently ignored: a misspelt
    filter would otherwise answer as if no filter were given."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or (route.openapi_extra or {}).get(OPEN_QUERY):
        return
    known = _query_names(route)
    for name in request.query_params:
        if name not in known:
            raise UnknownParameter(
                f"unknown parameter {name!r}; this operation takes: "
                + (", ".join(sorted(known)) or "no parameters"),
                field=name,
            )


_QUERY_NAMES: dict[int, frozenset[str]] = {}


def _query_names(route: APIRoute) -> frozenset[str]:
    names = _QUERY_NAMES.get(id(route))
    if names is None:
        names = _QUERY_NAMES[id(route)] = frozenset(_names(route.dependant))
    return names


def _names(dependant: Dependant) -> set[str]:
    """The query parameters of an operation and of the dependencies it uses."""
    found = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        found |= _names(sub)
    return found


router = APIRouter(
    prefix="/api/v1",
    tags=["v1"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(reject_unknown_parameters)],
)


class Dataset(BaseModel):
    """Which build of the data answered: the content version and when it was built."""

    version: str
    built_at: datetime


class Item(BaseModel, Generic[T]):
    data: T
    dataset: Dataset


class Pagination(BaseModel):
    """Where a page sits in the whole list. `next` and `previous` are relative links (path and
    query), null at either end."""

    total: int = Field(ge=0, description="items in the whole list")
    limit: int = Field(ge=1)
    offset: int = Field(ge=0)
    next: str | None = Field(examples=["/api/v1/protocols?limit=50&offset=50"])
    previous: str | None = Field(examples=[None])


class Page(BaseModel, Generic[T]):
    data: list[T]
    pagination: Pagination
    dataset: Dataset


def _dataset(request: Request, db: DB) -> Dataset:
    """The build that answers, read in the route's own session so that the stamp matches the
    data; api.caching keeps the answer under it."""
    info = store.build_info(db)
    caching.record_build(request, BuildStamp(info.version, info.built_at, info.registry_at))
    return Dataset(version=info.version, built_at=info.built_at)


DatasetDep = Annotated[Dataset, Depends(_dataset)]


def _language(
    request: Request,
    response: Response,
    lang: Annotated[
        Literal["en", "es"] | None,
        Query(
            description="The language of questions, answer labels and topic names: `en` or "
            "`es`. Without it, the request's Accept-Language header chooses (English when it "
            "names neither). Keys, ids and values are the same in every language; summaries "
            "and the laws' own words stay English (docs/i18n.md).",
            examples=["es"],
        ),
    ] = None,
) -> str:
    """The answer's language; it says which it is and that Accept-Language can change it."""
    chosen = lang or i18n.from_header(request.headers.get("accept-language"))
    response.headers["Content-Language"] = chosen
    response.headers["Vary"] = "Accept-Language"
    return chosen


LanguageDep = Annotated[str, Depends(_language)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="items to skip")]


def pagination(request: Request, total: int, limit: int, offset: int) -> Pagination:
    """The page's place, with links relative to the server (never from the Host header)."""

    def link(to: int) -> str:
        kept = [(k, v) for k, v in request.query_params.multi_items() if k not in _PAGING]
        return request.url.path + "?" + urlencode([*kept, ("limit", limit), ("offset", to)])

    return Pagination(
        total=total,
        limit=limit,
        offset=offset,
        next=link(offset + limit) if offset + limit < total else None,
        previous=link(max(0, offset - limit)) if offset > 0 else None,
    )


_PAGING = ("limit", "offset")


def _page(
    request: Request, dataset: Dataset, items: list[Any], limit: int, offset: int
) -> dict[str, Any]:
    return {
        "data": items[offset : offset + limit],
        "pagination": pagination(request, len(items), limit, offset),
        "dataset": dataset,
    }


def _csv_list(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def document(media_type: str, description: str, example: str | None = None) -> dict[int | str, Any]:
    """A 200 that is a document, not JSON: text with an example, or binary (example None)."""
    schema = {"type": "string", "format": "binary"} if example is None else {"type": "string"}
    shown = {} if example is None else {"example": example}
    return {
        200: {
            "description": description,
            "content": {media_type: {"schema": schema, **shown}},
            "headers": {
                "Content-Disposition": {"$ref": "#/components/headers/Content-Disposition"}
            },
        }
    }


# --- Jurisdictions ----------------------------------------------------------------------------


@router.get(
    "/jurisdictions",
    operation_id="listJurisdictions",
    response_model=Page[models.JurisdictionPublic],
    summary="List jurisdictions, by name",
)
def jurisdictions(
    request: Request, db: DB, dataset: DatasetDep, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    return _page(request, dataset, store.list_jurisdictions(db), limit, offset)


@router.get(
    "/jurisdictions/{jurisdiction_id}",
    operation_id="getJurisdiction",
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
    "/resolve/{jurisdiction_id}",
    operation_id="resolveJurisdiction",
    response_model=Item[Resolution],
    summary="Which rules apply in a place on a date",
    description="Per codebook question: the answer that governs the place on the date, the laws "
    "that set or bound it with their provision cites, the layer each comes from (state, court "
    "order, county, city), the room left to the local body, and any conflict between layers or "
    "case in court. Any state or county id from the gazetteer works, with or without protocols "
    "of its own. The rules are in docs/layers.md; this is not legal advice.",
)
def resolve_jurisdiction(
    jurisdiction_id: Annotated[str, Path(examples=["us-tx-harris-county"])],
    db: DB,
    dataset: DatasetDep,
    lang: LanguageDep,
    as_of: Annotated[
        str | None,
        Query(
            pattern=r"^\d{4}-\d{2}-\d{2}$",
            description="The date asked about, YYYY-MM-DD (default: today)",
            examples=["2016-01-01"],
        ),
    ] = None,
) -> dict[str, Any]:
    day = None
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            raise InvalidParameter(f"as_of {as_of!r} is not a real date", field="as_of") from None
    return {
        "data": localized.resolution(lang, resolve(db, jurisdiction_id, day)),
        "dataset": dataset,
    }


# --- Protocols and provisions -----------------------------------------------------------------

_PROTOCOL_FILTERS = frozenset({"jurisdiction_id", "status", "year", "level", "limit", "offset"})


@router.get(
    "/protocols",
    operation_id="listProtocols",
    response_model=Page[models.ProtocolSummary],
    summary="List and filter protocols",
    openapi_extra={OPEN_QUERY: True},
)
def protocols(
    request: Request,
    db: DB,
    dataset: DatasetDep,
    jurisdiction_id: Annotated[
        str | None, Query(max_length=200, examples=["us-ca"], description="a jurisdiction's id")
    ] = None,
    status: Annotated[models.Status | None, Query(examples=["vetoed"])] = None,
    year: Annotated[int | None, Query(ge=1, le=9999, examples=[2013])] = None,
    level: Annotated[models.Level | None, Query(examples=["county"])] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Every codebook key is a filter too, `key=value` with the value's text form
    (`detainer_response=declines_all`, `max_hold_hours=48`, `reimbursement_required=null`)."""
    coded = {k: v for k, v in request.query_params.items() if k not in _PROTOCOL_FILTERS}
    if jurisdiction_id is not None:
        known = {j.id for j in store.list_jurisdictions(db)}
        if jurisdiction_id not in known:
            raise InvalidParameter(
                f"no jurisdiction with id {jurisdiction_id!r}", field="jurisdiction_id"
            )
    found = store.find_protocols(
        db, jurisdiction=jurisdiction_id, status=status, year=year, level=level, coded=coded
    )
    return _page(request, dataset, found, limit, offset)


@router.get(
    "/protocols/{protocol_id:path}/provisions",
    operation_id="listProtocolProvisions",
    response_model=Page[models.ProvisionPublic],
    summary="The provisions of one protocol, in order",
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
    operation_id="getProtocol",
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
    operation_id="getProvision",
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


# --- Codebook, topics, background records ----------------------------------------------------


@router.get(
    "/codebook",
    operation_id="listCodebookKeys",
    response_model=Page[models.CodebookKeyPublic],
    summary="The codebook: its keys, in order",
)
def codebook(
    request: Request,
    db: DB,
    dataset: DatasetDep,
    lang: LanguageDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    keys = [localized.codebook_key(lang, k) for k in store.codebook_keys(db)]
    return _page(request, dataset, keys, limit, offset)


@router.get(
    "/codebook/{key}",
    operation_id="getCodebookKey",
    response_model=Item[models.CodebookKeyPublic],
    summary="One codebook key",
)
def codebook_key(
    key: Annotated[str, Path(examples=["juvenile_holds"])],
    db: DB,
    dataset: DatasetDep,
    lang: LanguageDep,
) -> dict[str, Any]:
    return {
        "data": localized.codebook_key(lang, store.get_codebook_key(db, key)),
        "dataset": dataset,
    }


@router.get(
    "/topics",
    operation_id="listTopics",
    response_model=Page[models.TopicPublic],
    summary="Topics, in order",
)
def topics(
    request: Request, db: DB, dataset: DatasetDep, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    return _page(request, dataset, store.list_topics(db), limit, offset)


@router.get(
    "/topics/{topic_id}",
    operation_id="getTopic",
    response_model=Item[models.TopicPublic],
    summary="One topic",
)
def topic(
    topic_id: Annotated[str, Path(examples=["juveniles"])], db: DB, dataset: DatasetDep
) -> dict[str, Any]:
    return {"data": store.get_topic(db, topic_id), "dataset": dataset}


@router.get(
    "/context",
    operation_id="listContextRecords",
    response_model=Page[models.ContextRecordPublic],
    summary="Background records (programs, regulations, rulings), by date",
)
def context(
    request: Request, db: DB, dataset: DatasetDep, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    return _page(request, dataset, store.list_context(db), limit, offset)


@router.get(
    "/context/{context_id}",
    operation_id="getContextRecord",
    response_model=Item[models.ContextRecordPublic],
    summary="One background record",
)
def context_record(
    context_id: Annotated[str, Path(examples=["galarza-v-szalczyk"])], db: DB, dataset: DatasetDep
) -> dict[str, Any]:
    return {"data": store.get_context(db, context_id), "dataset": dataset}


# --- Search -----------------------------------------------------------------------------------

_FACET_NAMES = {
    "jurisdiction": "jurisdiction_id",
    "topic": "topic_id",
    "status": "status",
    "level": "level",
    "year": "year",
}
CONTEXT_PREFIX = "context/"
"""The search index keeps background records as `context/<id>`; the API gives their own id."""


class SearchHit(BaseModel):
    """A provision, or a background record (`kind` `context`: then the protocol, jurisdiction and
    status are null)."""

    id: str = Field(description="a provision's id, or a background record's")
    kind: Literal["provision", "context"]
    protocol_id: str | None
    jurisdiction_id: str | None
    jurisdiction_name: str | None
    title: str
    citation: str
    heading: str
    status: models.Status | None
    year: int | None
    topic_ids: list[str]
    score: float | None = Field(description="relevance; null when sorted by date")
    highlight: str = Field(description="HTML-safe: the text escaped, matches in <mark>")
    matched_words: list[str] = Field(
        description="the query's words, names and thesaurus phrases this record matches"
    )
    unmatched_words: list[str] = Field(
        description="the query's words this record does not match (records matching every "
        "word come first; docs/search.md)"
    )


class FacetCount(BaseModel):
    value: str
    count: int


class Facets(BaseModel):
    """Per facet, its values among all matches (not only this page), with their counts."""

    jurisdiction_id: list[FacetCount]
    topic_id: list[FacetCount]
    status: list[FacetCount]
    level: list[FacetCount]
    year: list[FacetCount]


class SearchPage(BaseModel):
    data: list[SearchHit]
    pagination: Pagination
    query: str
    sort: Literal["relevance", "date"]
    facets: Facets
    suggestion: str | None = Field(description="the query with misspelt words corrected")
    complete: int = Field(
        description="how many of the matches hold every word of the query; they rank first"
    )
    index_version: str = Field(
        description="the build the search index holds; differs from `dataset.version` (and the "
        "answer is not cached) while the index catches up with a new build"
    )
    dataset: Dataset


def _hit(hit: Any) -> SearchHit:
    is_context = hit.kind == "context"
    return SearchHit(
        id=hit.id.removeprefix(CONTEXT_PREFIX) if is_context else hit.id,
        kind="context" if is_context else "provision",
        protocol_id=hit.protocol_id or None,
        jurisdiction_id=hit.jurisdiction or None,
        jurisdiction_name=hit.jurisdiction_name or None,
        title=hit.title,
        citation=hit.cite,
        heading=hit.heading,
        status=hit.status or None,
        year=hit.year or None,
        topic_ids=hit.topics,
        score=hit.score,
        highlight=hit.highlight,
        matched_words=hit.matched,
        unmatched_words=hit.unmatched,
    )


@router.get(
    "/search",
    operation_id="searchRecords",
    response_model=SearchPage,
    summary="Search provisions and background records",
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
    limit: Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="hits per page")] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000, description="hits to skip")] = 0,
    sort: Literal["relevance", "date"] = "relevance",
) -> dict[str, Any]:
    request.app.state.index_refresh.ensure(dataset.version)
    index = request.app.state.search
    # The index pages by page number: an offset between pages takes the two pages around it.
    first = offset // limit + 1
    result: SearchResult = index.search(q, page=first, per_page=limit, sort=sort)
    hits = result.hits
    skip = offset - (first - 1) * limit
    if skip:
        more = index.search(q, page=first + 1, per_page=limit, sort=sort, with_facets=False)
        hits = (hits + more.hits)[skip : skip + limit]
    if result.version != dataset.version:
        caching.do_not_store(request)  # the index is still catching up with this build
    return {
        "data": [_hit(h) for h in hits],
        "pagination": pagination(request, result.total, limit, offset),
        "query": result.query,
        "sort": result.sort,
        "facets": Facets.model_validate(
            {
                _FACET_NAMES[name]: [FacetCount(value=v, count=c) for v, c in counted]
                for name, counted in result.facets.items()
            }
        ),
        "suggestion": result.suggestion,
        "complete": result.complete,
        "index_version": result.version,
        "dataset": dataset,
    }


# --- Comparing and diffing ----------------------------------------------------------------------

ProtocolIds = Annotated[
    str,
    Query(
        max_length=2000,
        description="protocol ids, comma-separated (1 to 6)",
        examples=[
            "us-ca-santa-clara-county/board-policy-3-54,us-il-cook-county/ordinance-11-o-73,us-dc/law-19-194"
        ],
    ),
]
Keys = Annotated[
    str | None,
    Query(
        max_length=2000,
        description="codebook keys, comma-separated: only these questions",
        examples=["detainer_response,max_hold_hours"],
    ),
]
Topics = Annotated[
    str | None,
    Query(
        max_length=2000,
        description="topic ids, comma-separated: only these topics",
        examples=["juveniles"],
    ),
]
DifferencesOnly = Annotated[
    bool, Query(description="leave out rows where every protocol answers alike", examples=[False])
]


def _compare(
    db: DB,
    protocols: ProtocolIds,
    keys: Keys = None,
    topics: Topics = None,
    differences_only: DifferencesOnly = False,
) -> Comparison:
    return compare_protocols(
        db,
        _csv_list(protocols) or [],
        keys=_csv_list(keys),
        topics=_csv_list(topics),
        differences_only=differences_only,
    )


ComparisonDep = Annotated[Comparison, Depends(_compare)]


@router.get(
    "/compare",
    operation_id="compareProtocols",
    response_model=Item[Comparison],
    summary="Compare protocols side by side",
)
def compare(comparison: ComparisonDep, dataset: DatasetDep, lang: LanguageDep) -> dict[str, Any]:
    return {"data": localized.comparison(lang, comparison), "dataset": dataset}


@router.get(
    "/compare.csv",
    operation_id="compareProtocolsCsv",
    summary="A comparison as CSV (UTF-8 with BOM, one row per cell)",
    response_class=Response,
    responses=document(
        "text/csv",
        "The comparison as CSV; columns: docs/api.md",
        "key,question,protocol_id,jurisdiction_name,value,label,most_protective,row_differs,"
        "note,provisions,sources\r\n",
    ),
)
def compare_csv(comparison: ComparisonDep, dataset: DatasetDep) -> Response:
    return attachment(comparison_csv(comparison), "text/csv; charset=utf-8", "comparison.csv")


@router.get(
    "/compare.md",
    operation_id="compareProtocolsMarkdown",
    summary="A comparison as a Markdown table",
    response_class=Response,
    responses=document(
        "text/markdown",
        "The comparison as a Markdown table",
        "| Question | Cook County, Illinois: Policy for Responding to ICE Detainers |\n|---|---|\n",
    ),
)
def compare_markdown(comparison: ComparisonDep, dataset: DatasetDep) -> Response:
    return attachment(
        comparison_markdown(comparison), "text/markdown; charset=utf-8", "comparison.md"
    )


@router.get(
    "/diff",
    operation_id="diffVersions",
    response_model=Item[VersionDiff],
    summary="What changed between two versions",
)
def diff(
    db: DB,
    dataset: DatasetDep,
    from_id: Annotated[
        str,
        Query(
            alias="from",
            min_length=1,
            max_length=500,
            description="the earlier version's id",
            examples=["us-ca/ab-1081-2012"],
        ),
    ],
    to_id: Annotated[
        str,
        Query(
            alias="to",
            min_length=1,
            max_length=500,
            description="the later version's id",
            examples=["us-ca/ab-4-2013"],
        ),
    ],
) -> dict[str, Any]:
    for name, value in (("from", from_id), ("to", to_id)):
        if not value.strip():
            raise InvalidParameter(
                f"name both versions: ?from=…&to=… ({name} is blank)", field=name
            )
    return {"data": diff_versions(db, from_id, to_id), "dataset": dataset}


# --- Bulk data ----------------------------------------------------------------------------------


@router.get(
    "/bulk/export.json",
    operation_id="getBulkExport",
    summary="Everything: the canonical dump `kb export --format json` writes",
    response_class=Response,
    responses={
        200: {
            **document("application/json", "")[200],
            "description": "The dump (format `protocol-kb/export@2`; schema: docs/api.md)",
            "content": {
                "application/json": {
                    "schema": {"type": "object"},
                    "example": {"format": "protocol-kb/export@2", "version": "3f9c2a1b7d4e8f60"},
                }
            },
        }
    },
)
def bulk_export(db: DB, dataset: DatasetDep) -> Response:
    return attachment(export_json(db), "application/json", f"protocol-kb-{dataset.version}.json")


@router.get(
    "/bulk/coded-answers.csv",
    operation_id="getBulkCodedAnswers",
    summary="Every coded answer of every protocol, as CSV",
    response_class=Response,
    responses=document(
        "text/csv",
        "One row per protocol and codebook key; columns: docs/api.md",
        "protocol_id,jurisdiction_id,status,year,key,value,label,rank,note,confidence,"
        "provision_ids\r\n",
    ),
)
def bulk_coded_answers(db: DB, dataset: DatasetDep) -> Response:
    return attachment(
        coded_answers_csv(store.codebook(db), store.get_protocols(db)),
        "text/csv; charset=utf-8",
        f"coded-answers-{dataset.version}.csv",
    )
