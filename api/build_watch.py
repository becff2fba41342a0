"""Which build the store holds right now, cheaply enough to ask on every request: one stat of the
SQLite file (a build swaps in a new file with os.replace), one short query on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Engine

from kb import store
from kb.db import is_sqlite, sqlite_path
from kb.errors import KBError


@dataclass(frozen=True)
class BuildStamp:
    """One build of the data. A rebuild of unchanged content is another build: its answers carry
    another `built_at`, so it gets other ETags and cache entries."""

    version: str
    built_at: datetime
    registry_at: datetime | None = None
    """An import of 287(g) captures changes answers without a build (kb.registry)."""

    @property
    def key(self) -> str:
        registry = self.registry_at.isoformat() if self.registry_at else "-"
        return f"{self.version}@{self.built_at.isoformat()}@{registry}"


def read_stamp(engine: Engine) -> BuildStamp | None:
    """The build in the store, or None when there is none or the store cannot be read."""
    try:
        with store.session(engine) as db:
            info = store.build_info(db)
    except KBError:
        return None
    return BuildStamp(info.version, info.built_at, info.registry_at)


class BuildWatch:
    """`await watch.current()`: the build the store holds now (None: no build, or unreachable).

    SQLite: the file's identity (device, inode, size, times) is compared with the one the stamp
    was read under; only a new file is read again. The stat comes before the read, so a swap in
    between is noticed on the next request. PostgreSQL: one prepared single-row query per call
    on a connection of this process, kept open, so a committed build is seen on the next request
    of every worker on every node, as before the response cache.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite: str | None = (
            str(sqlite_path(engine.url).resolve()) if is_sqlite(engine.url) else None
        )
        self._seen: tuple[int, ...] | None = None
        self._stamp: BuildStamp | None = None
        self._postgres = _PostgresBuildRow(engine) if self._sqlite is None else None

    async def current(self) -> BuildStamp | None:
        if self._postgres is not None:
            return await self._postgres.read()
        assert self._sqlite is not None
        try:
            st = os.stat(self._sqlite)
        except OSError:
            self._seen = None
            return None
        seen = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        if seen != self._seen:
            self._stamp = read_stamp(self.engine)
            self._seen = seen if self._stamp is not None else None
        return self._stamp

    def forget(self) -> None:
        """Read the stamp again on the next call (a request saw another build than ours)."""
        self._seen = None


class _PostgresBuildRow:
    """The build row, read over one asyncio connection per event loop (uvicorn runs one)."""

    QUERY = "SELECT version, built_at, registry_at FROM build_info WHERE id = 1"
    CONNECT_SECONDS = 5
    RETRY_SECONDS = 1.0
    """After a failure, requests go straight to the routes (which read the database themselves
    and say what is wrong) for this long, instead of queueing behind reconnects."""

    def __init__(self, engine: Engine) -> None:
        _args, params = engine.dialect.create_connect_args(engine.url)
        # The same server, database, user and options as the engine; psycopg's own adapters.
        self._params = {k: v for k, v in params.items() if k != "context"}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._retry_at = 0.0

    async def read(self) -> BuildStamp | None:
        if time.monotonic() < self._retry_at:
            return None
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._lock is None:
            # A connection belongs to the loop it was opened on (tests start one loop per request).
            await self._close()
            self._loop, self._lock = loop, asyncio.Lock()
        async with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    # The URL may name its own connect_timeout; ours is the default.
                    self._conn = await psycopg.AsyncConnection.connect(
                        **{"connect_timeout": self.CONNECT_SECONDS, **self._params},
                        autocommit=True,
                    )
                cursor = await self._conn.execute(self.QUERY, prepare=True)
                row = await cursor.fetchone()
            except psycopg.Error:
                await self._close()  # no build yet, or the server is away: the route will say
                self._retry_at = time.monotonic() + self.RETRY_SECONDS
                return None
        return None if row is None else BuildStamp(row[0], row[1], row[2])

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            await conn.close()
