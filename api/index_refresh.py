"""Keeping a node's search index in step with the database: when a request sees a newer build
than the index, one background thread per node rebuilds the index while the old one keeps serving."""

from __future__ import annotations

import fcntl
import logging
import threading
from pathlib import Path

from sqlalchemy import Engine

from kb.errors import KBError
from search_index.build import build_index, generation_version
from search_index.generations import current_generation

log = logging.getLogger("protocol-kb.index")


class IndexRefresher:
    def __init__(self, engine: Engine, index_dir: Path) -> None:
        self.engine = engine
        self.index_dir = index_dir
        self._running = threading.Lock()

    def ensure(self, database_version: str) -> None:
        """Start a rebuild if the index is older than the database; never wait for it."""
        if generation_version(current_generation(self.index_dir)) == database_version:
            return
        if self._running.acquire(blocking=False):
            threading.Thread(target=self._rebuild, name="index-refresh", daemon=True).start()

    def _rebuild(self) -> None:
        try:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            # One rebuild per node: the workers of a node share the index folder.
            with (self.index_dir / ".refresh.lock").open("w") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return
                report = build_index(self.engine, self.index_dir)
                log.info("search index refreshed: %s", report.summary())
        except KBError as exc:
            log.warning("search index refresh failed: %s", exc.message)
        finally:
            self._running.release()
