"""The 287(g) registry under /api/v1/287g: agreements (JSON and CSV), one agreement, the captures."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from api.deps import DB
from api.downloads import attachment
from api.errors import PROBLEM_RESPONSES
from api.params import jurisdiction_query, state_query
from api.routes.v1 import (
    DatasetDep,
    Item,
    Limit,
    Offset,
    Page,
    document,
    pagination,
    reject_unknown_parameters,
)
from kb import registry
from kb.registry import CSV_COLUMNS, AgreementFilter
from kb.registry_models import (
    AgencyType,
    AgreementDetail,
    AgreementPublic,
    AgreementStatus,
    CapturePublic,
    ListKind,
    MatchConfidence,
    SupportModel,
)

router = APIRouter(
    prefix="/api/v1/287g",
    tags=["v1"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(reject_unknown_parameters)],
)


def _filters(
    state: Annotated[str | None, state_query("FL")] = None,
    county: Annotated[
        str | None,
        Query(
            description='a county the registry names, with or without "County" (any case)',
            min_length=1,
            max_length=100,
            examples=["Miami-Dade County"],
        ),
    ] = None,
    model: Annotated[SupportModel | None, Query(description="the 287(g) model")] = None,
    agency_type: Annotated[AgencyType | None, Query(description="the kind of agency")] = None,
    active_on: Annotated[
        dt.date | None,
        Query(
            description="agreements in force on this day, as far as ICE's lists show (docs/registry.md)",
            examples=["2025-07-01"],
        ),
    ] = None,
    status: Annotated[
        AgreementStatus | None,
        Query(
            description="active: on the latest participating list; pending: on the latest pending "
            "list; ended: missing from a later capture of its list"
        ),
    ] = None,
    list: Annotated[ListKind | None, Query(description="which of ICE's lists")] = None,
    county_fips: Annotated[
        str | None,
        Query(
            description="the five-digit FIPS code of the agency's county (docs/registry.md, Matching)",
            pattern="^[0-9]{5}$",
            examples=["12086"],
        ),
    ] = None,
    jurisdiction: Annotated[
        str | None,
        jurisdiction_query(
            "a gazetteer id: a state's agreements are all of its agencies'; a "
            "county's, those tied to it or to a city in it; a city's, those tied to it"
        ),
    ] = None,
    match_confidence: Annotated[
        MatchConfidence | None,
        Query(description="how the agency was tied to the gazetteer"),
    ] = None,
) -> AgreementFilter:
    return AgreementFilter(
        state=state,
        county=county,
        model=model,
        agency_type=agency_type,
        active_on=active_on,
        status=status,
        list=list,
        county_fips=county_fips,
        jurisdiction=jurisdiction,
        match_confidence=match_confidence,
    )


Filters = Annotated[AgreementFilter, Depends(_filters)]


@router.get(
    "/agreements",
    operation_id="listRegistryAgreements",
    response_model=Page[AgreementPublic],
    summary="287(g) agreements and pending requests from ICE's lists, with first/last seen and ended-by",
)
def agreements(
    request: Request,
    db: DB,
    dataset: DatasetDep,
    where: Filters,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    found = registry.list_agreements(db, where)
    return {
        "data": found[offset : offset + limit],
        "pagination": pagination(request, len(found), limit, offset),
        "dataset": dataset,
    }


@router.get(
    "/agreements.csv",
    operation_id="listRegistryAgreementsCsv",
    summary="The 287(g) agreements as CSV (UTF-8 with BOM; the filters of /287g/agreements)",
    response_class=Response,
    responses=document(
        "text/csv",
        "Every agreement that matches, one row each; columns: docs/api.md",
        ",".join(CSV_COLUMNS) + "\r\n",
    ),
)
def agreements_csv(db: DB, dataset: DatasetDep, where: Filters) -> Response:
    return attachment(
        registry.agreements_csv(registry.list_agreements(db, where)),
        "text/csv; charset=utf-8",
        "287g-agreements.csv",
    )


@router.get(
    "/agreements/{agreement_id}",
    operation_id="getRegistryAgreement",
    response_model=Item[AgreementDetail],
    summary="One 287(g) agreement or pending request, with its history across captures",
)
def agreement(
    agreement_id: Annotated[
        str,
        Path(
            max_length=200,
            examples=["fl-miami-dade-sheriffs-office-task-force-2025-02-26"],
        ),
    ],
    db: DB,
    dataset: DatasetDep,
) -> dict[str, Any]:
    return {"data": registry.get_agreement(db, agreement_id), "dataset": dataset}


@router.get(
    "/captures",
    operation_id="listRegistryCaptures",
    response_model=Page[CapturePublic],
    summary="The captures of ICE's 287(g) lists in the registry, oldest first",
)
def captures(
    request: Request, db: DB, dataset: DatasetDep, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    found = registry.list_captures(db)
    return {
        "data": found[offset : offset + limit],
        "pagination": pagination(request, len(found), limit, offset),
        "dataset": dataset,
    }
