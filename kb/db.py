"""Engines and connections for SQLite (default) and PostgreSQL, with URLs safe to print."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, SQLAlchemyError
from sqlalchemy.pool import QueuePool

from kb.errors import DatabaseUnavailable, KBError


def parse_url(url: str) -> URL:
    """Parse a database URL, choosing psycopg 3 for plain `postgresql://` URLs."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise KBError(f"KB_DATABASE_URL is not a database URL: {url!r}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise KBError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql://"
        )
    return parsed


def masked(url: str | URL) -> str:
    """The URL with any password replaced by ***."""
    parsed = url if isinstance(url, URL) else parse_url(url)
    return parsed.render_as_string(hide_password=True)


def is_sqlite(url: str | URL) -> bool:
    parsed = url if isinstance(url, URL) else parse_url(url)
    return parsed.get_backend_name() == "sqlite"


def sqlite_path(url: str | URL) -> Path:
    """The file behind a SQLite URL; in-memory databases are refused (a build must persist)."""
    parsed = url if isinstance(url, URL) else parse_url(url)
    if not parsed.database or parsed.database == ":memory:":
        raise KBError("a SQLite database URL must name a file, e.g. sqlite:///./var/kb.sqlite3")
    return Path(parsed.database)


def make_engine(url: str | URL) -> Engine:
    """An engine for serving reads.

    SQLite connections are pooled (opening one and reading the schema costs more than most
    requests), but each remembers the file it opened: a build replaces the file with os.replace,
    and a connection to the old, unlinked file is dropped at its next checkout instead of being
    read forever (one stat per checkout).
    """
    parsed = url if isinstance(url, URL) else parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(parsed).resolve()
        # Read-only: serving never writes, and never creates an empty file where none was built.
        uri = f"file:{quote(str(path))}?mode=ro"
        engine = create_engine(
            parsed,  # names the file in messages; `creator` opens it
            poolclass=QueuePool,
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=-1,  # never make a request wait for a connection; extras are closed
            creator=lambda: _open_sqlite(uri, path),
        )
        _drop_connections_to_replaced_file(engine, path)
        return engine
    return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10)


SQLITE_POOL_SIZE = 8
"""SQLite connections kept open per engine (more are opened under load, and closed after use)."""


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


class _FileConnection(sqlite3.Connection):
    """A connection that knows which file it opened."""

    opened: tuple[int, int] | None = None


def _open_sqlite(uri: str, path: Path) -> sqlite3.Connection:
    # The identity is taken before the file is opened, so a swap in between costs one needless
    # reconnect, never a connection kept on the old file.
    identity = _file_identity(path)
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False, factory=_FileConnection)
    conn.opened = identity
    return conn


def _drop_connections_to_replaced_file(engine: Engine, path: Path) -> None:
    @event.listens_for(engine, "checkout")
    def check(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if getattr(dbapi_connection, "opened", None) != _file_identity(path):
            raise DisconnectionError("the database file was replaced")


def check_connection(engine: Engine) -> None:
    """Raise DatabaseUnavailable, naming the masked URL, when the database cannot be reached."""
    if engine.url.get_backend_name() == "sqlite":
        path = sqlite_path(engine.url)
        if not path.exists():
            raise DatabaseUnavailable(f"no database at {masked(engine.url)}: run `kb build` first")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0:1]
        detail = f": {reason[0]}" if reason else ""
        raise DatabaseUnavailable(
            f"cannot connect to database {masked(engine.url)}{detail}"
        ) from exc
