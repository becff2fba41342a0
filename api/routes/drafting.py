"""JSON API v1 for drafting: drafts, gap analysis and protection scores (docs/drafting.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Request
from fastapi.responses import Response

from api.deps import DB
from api.downloads import attachment
from api.errors import PROBLEM_RESPONSES
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
from kb import store
from kb.draft import Draft, DraftOptions, draft_policy
from kb.draft_render import MEDIA_TYPES, render_draft
from kb.gaps import GapReport, find_gaps, gaps_csv, gaps_markdown
from kb.score import ProtectionScore, protection_score

router = APIRouter(
    prefix="/api/v1",
    tags=["drafting"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(reject_unknown_parameters)],
)

COOK = "us-il-cook-county/ordinance-11-o-73"
DRAFT_EXAMPLES: dict[str, dict[str, Any]] = {
    "strongest": {
        "summary": "The strongest model on every question",
        "value": {"adopter": {"name": "Example County", "level": "county"}},
    },
    "chosen": {
        "summary": "Chosen levels, everything else left out",
        "value": {
            "adopter": {"name": "Example City", "level": "city"},
            "choices": {
                "detainer_response": "judicial_warrant_only",
                "juvenile_holds": "strongest",
            },
            "default": "omit",
        },
    },
    "stronger": {
        "summary": "Cook County's ordinance, strengthened",
        "value": {
            "adopter": {"name": "Cook County", "level": "county"},
            "start_from": COOK,
            "strengthen": True,
        },
    },
    "district": {
        "summary": "A draft for the District of Columbia",
        "value": {"adopter": {"name": "District of Columbia", "level": "district"}},
    },
}
Options = Annotated[DraftOptions, Body(openapi_examples=DRAFT_EXAMPLES)]


@router.post(
    "/drafts",
    operation_id="createDraft",
    summary="Draft a model policy: its structure",
    response_model=Item[Draft],
)
def create_draft(db: DB, dataset: DatasetDep, options: Options) -> dict[str, Any]:
    return {"data": draft_policy(db, options), "dataset": dataset}


def _draft_document(request: Request, db: DB, options: DraftOptions, format: str) -> Response:
    # Links back to the site only from configuration (KB_PUBLIC_URL), never from the Host header.
    public_url = request.app.state.settings.public_url
    document = render_draft(draft_policy(db, options), format, public_url)
    return attachment(document, MEDIA_TYPES[format], f"draft.{format}")


_DRAFT_MD = "# An Ordinance limiting entanglement with federal immigration enforcement\n"


@router.post(
    "/drafts.md",
    operation_id="createDraftMarkdown",
    summary="Draft a model policy: the document, as Markdown",
    response_class=Response,
    responses=document("text/markdown", "The draft as Markdown", _DRAFT_MD),
)
def create_draft_markdown(request: Request, db: DB, options: Options) -> Response:
    return _draft_document(request, db, options, "md")


@router.post(
    "/drafts.html",
    operation_id="createDraftHtml",
    summary="Draft a model policy: the document, as a standalone HTML page",
    response_class=Response,
    responses=document(
        "text/html", "The draft as an HTML page", "<!DOCTYPE html>\n<html>…</html>\n"
    ),
)
def create_draft_html(request: Request, db: DB, options: Options) -> Response:
    return _draft_document(request, db, options, "html")


@router.post(
    "/drafts.docx",
    operation_id="createDraftDocx",
    summary="Draft a model policy: the document, as Word (DOCX)",
    response_class=Response,
    responses=document(MEDIA_TYPES["docx"], "The draft as a Word document"),
)
def create_draft_docx(request: Request, db: DB, options: Options) -> Response:
    return _draft_document(request, db, options, "docx")


Subject = Annotated[
    str,
    Path(
        description="a protocol id, or a jurisdiction id (its protocols in effect combined)",
        examples=[COOK],
    ),
]


@router.get(
    "/gaps/{subject:path}.csv",
    operation_id="getGapsCsv",
    summary="Gap analysis as CSV",
    response_class=Response,
    responses=document(
        "text/csv",
        "One row per gap",
        "key,question,current,strongest,held_by,model_id,model_title\r\n",
    ),
)
def gaps_csv_document(db: DB, dataset: DatasetDep, subject: Subject) -> Response:
    return attachment(gaps_csv(find_gaps(db, subject)), "text/csv; charset=utf-8", "gaps.csv")


@router.get(
    "/gaps/{subject:path}.md",
    operation_id="getGapsMarkdown",
    summary="Gap analysis as Markdown",
    response_class=Response,
    responses=document("text/markdown", "The gaps, as Markdown", "# Gaps\n"),
)
def gaps_markdown_document(db: DB, dataset: DatasetDep, subject: Subject) -> Response:
    return attachment(
        gaps_markdown(find_gaps(db, subject)), "text/markdown; charset=utf-8", "gaps.md"
    )


@router.get(
    "/gaps/{subject:path}",
    operation_id="getGaps",
    summary="Where other protocols protect more, and the model provision that would close each gap",
    response_model=Item[GapReport],
)
def gaps(db: DB, dataset: DatasetDep, subject: Subject) -> dict[str, Any]:
    return {"data": find_gaps(db, subject), "dataset": dataset}


@router.get(
    "/scores",
    operation_id="listScores",
    summary="Protection scores of every protocol, highest first",
    response_model=Page[ProtectionScore],
)
def scores(
    request: Request, db: DB, dataset: DatasetDep, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    book = store.codebook(db)
    ranked = sorted(
        (protection_score(book, p) for p in store.get_protocols(db)),
        key=lambda s: (-s.score, s.protocol_id),
    )
    return {
        "data": ranked[offset : offset + limit],
        "pagination": pagination(request, len(ranked), limit, offset),
        "dataset": dataset,
    }


@router.get(
    "/scores/{protocol_id:path}",
    operation_id="getScore",
    summary="One protocol's protection score, with the reason for each question's points",
    response_model=Item[ProtectionScore],
)
def score(
    db: DB, dataset: DatasetDep, protocol_id: Annotated[str, Path(examples=[COOK])]
) -> dict[str, Any]:
    (protocol,) = store.get_protocols(db, [protocol_id])
    return {"data": protection_score(store.codebook(db), protocol), "dataset": dataset}
