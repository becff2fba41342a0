"""JSON API v1 for drafting: drafts, gap analysis and protection scores (docs/drafting.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response

from api.deps import DB
from api.downloads import attachment
from api.errors import PROBLEM_RESPONSES
from api.routes.v1 import DatasetDep, Item
from kb import store
from kb.draft import Draft, DraftOptions, draft_policy
from kb.draft_render import MEDIA_TYPES, render_draft
from kb.gaps import GapReport, find_gaps, gaps_csv, gaps_markdown
from kb.score import ProtectionScore, protection_score

router = APIRouter(prefix="/api/v1", tags=["drafting"], responses=PROBLEM_RESPONSES)

COOK = "us-il-cook-county/ordinance-11-o-73"


class DraftRequest(DraftOptions):
    format: Literal["json", "md", "html", "docx"] = "json"
    """json: the draft's structure; md, html or docx: the document itself."""


@router.post(
    "/drafts",
    summary="Draft a model policy",
    response_model=Item[Draft],
    responses={
        200: {
            "description": "The draft: its structure as JSON, or the document in the format asked for",
            "content": {media: {} for media in MEDIA_TYPES.values()},
        }
    },
)
def create_draft(
    request: Request,
    db: DB,
    dataset: DatasetDep,
    options: Annotated[
        DraftRequest,
        Body(
            openapi_examples={
                "strongest": {
                    "summary": "The strongest model on every question",
                    "value": {"adopter": {"name": "Example County", "level": "county"}},
                },
                "chosen": {
                    "summary": "Chosen levels, everything else left out, as Word",
                    "value": {
                        "adopter": {"name": "Example City", "level": "city"},
                        "choices": {
                            "detainer_response": "judicial_warrant_only",
                            "juvenile_holds": "strongest",
                        },
                        "default": "omit",
                        "format": "docx",
                    },
                },
                "stronger": {
                    "summary": "Cook County's ordinance, strengthened",
                    "value": {
                        "adopter": {"name": "Cook County", "level": "county"},
                        "start_from": COOK,
                        "strengthen": True,
                        "format": "md",
                    },
                },
            }
        ),
    ],
) -> Any:
    draft = draft_policy(db, options)
    if options.format == "json":
        return {"data": draft, "dataset": dataset}
    # Links back to the site only from configuration (KB_PUBLIC_URL), never from the Host header.
    document = render_draft(draft, options.format, request.app.state.settings.public_url)
    return attachment(document, MEDIA_TYPES[options.format], f"draft.{options.format}")


@router.get(
    "/gaps/{subject:path}",
    summary="Where other protocols protect more, and the model provision that would close each gap",
    response_model=Item[GapReport],
    responses={200: {"content": {"text/csv": {}, "text/markdown": {}}}},
)
def gaps(
    db: DB,
    dataset: DatasetDep,
    subject: Annotated[
        str,
        Path(
            description="a protocol id, or a jurisdiction id (its protocols in effect combined)",
            examples=[COOK],
        ),
    ],
    format: Annotated[Literal["json", "csv", "md"], Query(examples=["json"])] = "json",
) -> Any:
    report = find_gaps(db, subject)
    if format == "csv":
        return Response(gaps_csv(report), media_type="text/csv; charset=utf-8")
    if format == "md":
        return PlainTextResponse(gaps_markdown(report), media_type="text/markdown; charset=utf-8")
    return {"data": report, "dataset": dataset}


_SCORE_EXAMPLE = {
    "protocol_id": COOK,
    "score": 26,
    "points": 3.83,
    "possible": 15,
    "keys": [
        {
            "key": "detainer_response",
            "question": "What does the jurisdiction do with ICE civil detainer (hold) requests?",
            "value": "conditional",
            "label": "Holds only when conditions are met",
            "points": 0.33,
            "reason": "Holds only when conditions are met: number 3 of 4 answers, from most protective (0.33 points)",
        }
    ],
    "rubric": "Each codebook question with an order is worth up to 1 point. …",
}


@router.get(
    "/scores",
    summary="Protection scores of every protocol, highest first",
    response_model=Item[list[ProtectionScore]],
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "data": [_SCORE_EXAMPLE],
                        "dataset": {
                            "version": "3f9c2a1b7d4e8f60",
                            "built_at": "2026-11-23T00:00:00Z",
                        },
                    }
                }
            }
        }
    },
)
def scores(db: DB, dataset: DatasetDep) -> dict[str, Any]:
    book = store.codebook(db)
    ranked = sorted(
        (protection_score(book, p) for p in store.get_protocols(db)),
        key=lambda s: (-s.score, s.protocol_id),
    )
    return {"data": ranked, "dataset": dataset}


@router.get(
    "/scores/{protocol_id:path}",
    summary="One protocol's protection score, with the reason for each question's points",
    response_model=Item[ProtectionScore],
)
def score(
    db: DB, dataset: DatasetDep, protocol_id: Annotated[str, Path(examples=[COOK])]
) -> dict[str, Any]:
    (protocol,) = store.get_protocols(db, [protocol_id])
    return {"data": protection_score(store.codebook(db), protocol), "dataset": dataset}
