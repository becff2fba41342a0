"""Dependencies injected into routes: settings and a database session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from kb import store
from kb.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A session for the request. Declared async so that opening and closing it cost no trip
    through the thread pool (creating a session does no I/O, and giving a SQLite connection back
    to the pool takes microseconds); on PostgreSQL closing is a round trip to the server, so it
    still runs in a thread."""
    engine = request.app.state.engine
    db = store.session(engine)
    try:
        yield db
    finally:
        if engine.dialect.name == "sqlite":
            db.close()
        else:
            await run_in_threadpool(db.close)


DB = Annotated[Session, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
