"""A search index of the real content in protocols/, built once for this folder's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kb import store
from kb.db import make_engine
from search_index.schema import documents, reference_index
from search_index.search import SearchIndex


@pytest.fixture(scope="package")
def index(real_build: tuple[str, Path]) -> SearchIndex:
    return SearchIndex(real_build[1])


@pytest.fixture(scope="package")
def whoosh_searcher(
    real_build: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """whoosh's own index of the same documents (search_index.schema.reference_index), which
    the arrays must agree with."""
    engine = make_engine(real_build[0])
    with store.session(engine) as db:
        docs = list(documents(db))
    engine.dispose()
    searcher = reference_index(docs, tmp_path_factory.mktemp("whoosh-reference")).searcher()
    yield searcher
    searcher.close()
