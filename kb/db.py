"""Engines and connections for SQLite (default) and PostgreSQL, with URLs safe to print."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

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

    SQLite connections are opened per use (NullPool): a build replaces the file with os.replace,
    and a pooled connection would keep reading the old, unlinked file forever.
    """
    parsed = url if isinstance(url, URL) else parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        # Read-only: serving never writes, and never creates an empty file where none was built.
        uri = f"file:{quote(str(sqlite_path(parsed).resolve()))}?mode=ro"
        return create_engine(
            parsed,  # names the file in messages; `creator` opens it
            poolclass=NullPool,
            creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
        )
    return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10)


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
