"""GET /healthz: is the database reachable, what does it hold, when was it built."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import DB
from kb import store

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str
    """Which kind of database answered: `sqlite` or `postgresql` (never its URL)."""
    built_at: datetime
    version: str
    counts: dict[str, int]


@router.get("/healthz", response_model=Health, summary="Health check")
def healthz(db: DB) -> Health:
    """Reachable database, live row counts and the last build time; 503 problem+json when not,
    saying in words what is wrong (the details go to the server log)."""
    info = store.build_info(db)
    return Health(
        status="ok",
        database=db.get_bind().engine.url.get_backend_name(),
        built_at=info.built_at,
        version=info.version,
        counts=store.count_rows(db),
    )
