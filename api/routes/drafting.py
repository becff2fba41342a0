"""JSON API v1 for drafting: drafts, gap analysis and protection scores (docs/drafting.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import Response

from api import i18n, localized
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
from kb.ask import DraftAnswer, draft_answer
from kb.documents import MEDIA_TYPES, file_name, render_document
from kb.draft import DraftOptions, draft_policy
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
    "ask": {
        "summary": "The one-page ask for a Texas county (state law noted at the top)",
        "value": {
            "adopter": {
                "name": "Harris County",
                "level": "county",
                "jurisdiction_id": "us-tx-harris-county",
            },
            "document": "ask",
        },
    },
}
Options = Annotated[DraftOptions, Body(openapi_examples=DRAFT_EXAMPLES)]


def _language(
    request: Request,
    lang: Annotated[
        Literal["en", "es"] | None,
        Query(
            description="The language of the one-page ask (`document: ask`: its phrases, "
            "points, reasons and state-law sentences) and of the questions and answer labels "
            "the draft's notes name: `en` or `es`. Without it, the request's Accept-Language "
            "header chooses (English when it names neither). The full ordinance, the names "
            "of laws and their citations stay English; keys and ids never change (docs/i18n.md).",
            examples=["es"],
        ),
    ] = None,
) -> str:
    return lang or i18n.from_header(request.headers.get("accept-language"))


LanguageDep = Annotated[str, Depends(_language)]


def _says(response: Response, lang: str) -> None:
    """Which language the answer is in, and that Accept-Language can change it."""
    response.headers["Content-Language"] = lang
    response.headers["Vary"] = "Accept-Language"


@router.post(
    "/drafts",
    operation_id="createDraft",
    summary="Draft a model policy: its structure",
    response_model=Item[DraftAnswer],
)
def create_draft(
    db: DB, dataset: DatasetDep, options: Options, lang: LanguageDep, response: Response
) -> dict[str, Any]:
    draft = draft_policy(db, options)
    answer = draft_answer(db, draft, options.document, lang, localized.content(lang))
    _says(response, lang)
    return {"data": localized.draft(lang, answer), "dataset": dataset}


def draft_download(
    request: Request, db: DB, options: DraftOptions, format: str, lang: str = "en"
) -> Response:
    """The document `options.document` as `format`, saved under a name from the adopter; the
    ask in `lang` (the drafting page's or the request's language), the ordinance in English."""
    if options.document != "ask":
        lang = "en"
    settings = request.app.state.settings
    # Links back to the site only from configuration (KB_PUBLIC_URL), never from the Host header.
    data = render_document(
        db,
        draft_policy(db, options),
        options.document,
        format,
        settings.public_url,
        settings.office_binary,
        settings.pdf_timeout,
        lang,
        localized.content(lang),
    )
    name = file_name(options.adopter, options.document, format)
    response = attachment(data, MEDIA_TYPES[format], name)
    _says(response, lang)
    return response


_DRAFT_MD = "# An Ordinance limiting entanglement with federal immigration enforcement\n"


@router.post(
    "/drafts.md",
    operation_id="createDraftMarkdown",
    summary="Draft a model policy: the document, as Markdown",
    response_class=Response,
    responses=document("text/markdown", "The draft as Markdown", _DRAFT_MD),
)
def create_draft_markdown(
    request: Request, db: DB, options: Options, lang: LanguageDep
) -> Response:
    return draft_download(request, db, options, "md", lang)


@router.post(
    "/drafts.html",
    operation_id="createDraftHtml",
    summary="Draft a model policy: the document, as a standalone HTML page",
    response_class=Response,
    responses=document(
        "text/html", "The draft as an HTML page", "<!DOCTYPE html>\n<html>…</html>\n"
    ),
)
def create_draft_html(request: Request, db: DB, options: Options, lang: LanguageDep) -> Response:
    return draft_download(request, db, options, "html", lang)


@router.post(
    "/drafts.docx",
    operation_id="createDraftDocx",
    summary="Draft a model policy: the document, as Word (DOCX)",
    response_class=Response,
    responses=document(MEDIA_TYPES["docx"], "The draft as a Word document"),
)
def create_draft_docx(request: Request, db: DB, options: Options, lang: LanguageDep) -> Response:
    return draft_download(request, db, options, "docx", lang)


@router.post(
    "/drafts.pdf",
    operation_id="createDraftPdf",
    summary="Draft a model policy: the document, as PDF (rendered by LibreOffice)",
    response_class=Response,
    responses={
        **document("application/pdf", "The draft as PDF"),
        503: {
            **PROBLEM_RESPONSES[503],
            "description": "No build yet, or LibreOffice is not available to render the PDF "
            "(ask for DOCX or HTML instead)",
        },
    },
)
def create_draft_pdf(request: Request, db: DB, options: Options, lang: LanguageDep) -> Response:
    return draft_download(request, db, options, "pdf", lang)


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
