"""Engines and connections for SQLite (default) and PostgreSQL, with URLs safe to print."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.pool import QueuePool

from kb.errors import DatabaseUnavailable, KBError, NoBuild


def parse_url(url: str) -> URL:
    """Parse a database URL, choosing psycopg 3 for plain `postgresql://` URLs."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        # Not repeated: a malformed URL may still hold a password.
        raise KBError(
            "KB_DATABASE_URL is not a database URL: use sqlite:///path or postgresql://…"
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise KBError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql://"
        )
    return parsed


_SECRET_PARAMETER = re.compile(r"pass|pwd|secret|token|key|auth|credential", re.I)
"""Query parameters that may carry a secret: libpq's `password` and `sslpassword`, and anything
named like a token or key (a key file's path is not shown either)."""


def masked(url: str | URL) -> str:
    """The URL with any password replaced by ***: in the user-info part and in the query
    (`postgresql://kb@db/kb?password=…` is a valid libpq form)."""
    parsed = url if isinstance(url, URL) else parse_url(url)
    hidden = {k: "***" for k in parsed.query if _SECRET_PARAMETER.search(k)}
    if hidden:
        parsed = parsed.update_query_dict(hidden)
    return parsed.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


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


NO_BUILD = "no build yet: run `kb build`"
UNREACHABLE = "the database cannot be reached"
DAMAGED = "the database file is damaged or is not a protocol-kb database"
UNREADABLE = "the database cannot be read"
OTHER_VERSION = "the database holds a build this version of protocol-kb cannot read: run `kb build`"

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
            raise NoBuild(f"no database at {masked(engine.url)}: run `kb build` first", NO_BUILD)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise unavailable(
            exc, engine.url, f"cannot connect to database {masked(engine.url)}"
        ) from exc


_CONNECTION_ERRORS = ("OperationalError", "InterfaceError")
"""psycopg's classes for a connection that failed or broke (refused, closed by the server)."""


def unavailable(exc: SQLAlchemyError, url: URL, doing: str | None = None) -> DatabaseUnavailable:
    """What a database error means for a reader, in words (`public`), with the masked URL and
    the driver's reason for the operator (`message`)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else None
    reason = (str(orig or exc).strip().splitlines() or [type(exc).__name__])[0]
    lowered = reason.lower()
    if url.get_backend_name() == "sqlite":
        if "no such table" in lowered:
            public = NO_BUILD
        elif "no such column" in lowered:
            public = OTHER_VERSION
        elif isinstance(orig, sqlite3.DatabaseError) and (
            "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered
        ):
            public = DAMAGED
        elif "unable to open" in lowered and not sqlite_path(url).exists():
            public = NO_BUILD  # there is a file, but we may not read it: UNREADABLE below
        else:
            public = UNREADABLE
        return _unavailable(public, reason, doing or f"database {masked(url)}")
    sqlstate = getattr(orig, "sqlstate", None) or ""
    if sqlstate == "42P01":  # undefined_table
        public = NO_BUILD
    elif sqlstate.startswith("42"):
        public = OTHER_VERSION
    elif (
        (isinstance(exc, DBAPIError) and exc.connection_invalidated)
        or sqlstate.startswith(("08", "57P", "53"))
        or type(orig).__name__ in _CONNECTION_ERRORS
    ):
        public = UNREACHABLE  # refused, terminated, shut down, too many connections
    else:
        public = UNREADABLE
    return _unavailable(public, reason, doing or f"database {masked(url)}")


def _unavailable(public: str, reason: str, where: str) -> DatabaseUnavailable:
    error = NoBuild if public == NO_BUILD else DatabaseUnavailable
    return error(f"{where}: {public} ({reason})", public)
