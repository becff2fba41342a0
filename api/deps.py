"""Dependencies injected into routes: settings and a database session."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from kb import store
from kb.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


log = logging.getLogger("protocol-kb.db")


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
        try:
            # A ROLLBACK: it fails when the server went away mid-request.
            if engine.dialect.name == "sqlite":
                db.close()
            else:
                await run_in_threadpool(db.close)
        except SQLAlchemyError as exc:
            # The request was answered (a 503 if it needed the database); the pool drops the
            # broken connection. One line, no traceback.
            log.warning("closing a database session failed: %s", type(exc).__name__)


DB = Annotated[Session, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
