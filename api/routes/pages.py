"""HTML pages. For now the plain index of jurisdictions and protocols."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.deps import DB
from kb import store

templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, db: DB) -> HTMLResponse:
    protocols = store.list_protocols(db)
    jurisdictions = store.list_jurisdictions(db)
    by_jurisdiction = {
        j.id: [p for p in protocols if p.jurisdiction_id == j.id] for j in jurisdictions
    }
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "jurisdictions": jurisdictions,
            "by_jurisdiction": by_jurisdiction,
            "info": store.build_info(db),
        },
    )
