"""Dependencies injected into routes: settings and a database session."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from kb import store
from kb.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


log = logging.getLogger("protocol-kb.db")


def get_db(request: Request) -> Iterator[Session]:
    db = store.session(request.app.state.engine)
    try:
        yield db
    finally:
        try:
            db.close()  # a ROLLBACK: it fails when the server went away mid-request
        except SQLAlchemyError as exc:
            # The request was answered (a 503 if it needed the database); the pool drops the
            # broken connection. One line, no traceback.
            log.warning("closing a database session failed: %s", type(exc).__name__)


DB = Annotated[Session, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
