"""Fixtures the kb tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from kb import store
from kb.db import make_engine


@pytest.fixture(scope="module")
def db(real_build: tuple[str, Path]) -> Iterator[Session]:
    """A read-only session on the real protocols/ (tests/conftest.py's `real_build`)."""
    engine = make_engine(real_build[0])
    with store.session(engine) as session:
        yield session
    engine.dispose()
