"""A search index of the real content in protocols/, built once for this folder's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from search_index.search import SearchIndex


@pytest.fixture(scope="package")
def index(real_build: tuple[str, Path]) -> SearchIndex:
    return SearchIndex(real_build[1])
