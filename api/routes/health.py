"""GET /healthz: is the database reachable, what does it hold, when was it built."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import DB
from kb import store
from kb.db import masked

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str
    built_at: datetime
    version: str
    counts: dict[str, int]


@router.get("/healthz", response_model=Health, summary="Health check")
def healthz(db: DB) -> Health:
    """Reachable database, live row counts and the last build time; 503 problem+json when not."""
    info = store.build_info(db)
    return Health(
        status="ok",
        database=masked(db.get_bind().engine.url),
        built_at=info.built_at,
        version=info.version,
        counts=store.count_rows(db),
    )
