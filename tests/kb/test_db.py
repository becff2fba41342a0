"""Serving engines: pooled SQLite connections never outlive the file they opened."""

from __future__ import annotations

from pathlib import Path

from kb import store
from kb.build import build
from kb.db import SQLITE_POOL_SIZE, make_engine


def test_a_rebuild_is_read_by_pooled_sqlite_connections(content: Path, tmp_path: Path) -> None:
    """A build swaps in a new file (os.replace); a pooled connection to the old, unlinked file
    is dropped at its next checkout instead of answering from the old build forever."""
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    build(content, url)
    engine = make_engine(url)
    try:
        with store.session(engine) as db:
            first = store.build_info(db).built_at
        assert engine.pool.checkedin() == 1  # kept open for the next request
        build(content, url)
        with store.session(engine) as db:
            second = store.build_info(db).built_at
        assert second > first
    finally:
        engine.dispose()


def test_sqlite_pool_keeps_a_bounded_number_of_connections(content: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    build(content, url)
    engine = make_engine(url)
    try:
        sessions = [store.session(engine) for _ in range(SQLITE_POOL_SIZE + 3)]
        for db in sessions:  # all at once: none waits for another
            store.build_info(db)
        for db in sessions:
            db.close()
        assert engine.pool.checkedin() == SQLITE_POOL_SIZE  # the extras were closed
    finally:
        engine.dispose()


def test_build_info_is_read_once_per_transaction(content: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    build(content, url)
    engine = make_engine(url)
    try:
        with store.session(engine) as db:
            assert store.build_info(db) is store.build_info(db)
            db.rollback()  # a new transaction reads again
            assert store.build_info(db).version == store.build_info(db).version
    finally:
        engine.dispose()
