"""A search index of the real content in protocols/, built once for this folder's tests."""

from __future__ import annotations

import pytest

from kb.build import build
from kb.db import make_engine
from search_index.build import build_index
from search_index.search import SearchIndex
from tests.conftest import PROTOCOLS


@pytest.fixture(scope="package")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    folder = tmp_path_factory.mktemp("content-index")
    url = f"sqlite:///{folder / 'kb.sqlite3'}"
    build(PROTOCOLS, url)
    build_index(make_engine(url), folder / "index")
    return SearchIndex(folder / "index")
