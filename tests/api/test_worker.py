"""The serving process tunes its garbage collector when the app starts serving."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import worker
from api.app import create_app
from kb.settings import Settings


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_serving_tunes_the_collector_and_freezes_start_up(
    real_build: tuple[str, Path], restored_collector: None
) -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    url, index_dir = real_build
    app = create_app(Settings(database_url=url, index_dir=index_dir))
    assert gc.get_freeze_count() == 0  # creating the app (as tests do) changes nothing
    with TestClient(app) as client:  # serving it runs its start-up
        assert client.get("/healthz").status_code == 200
        assert gc.get_threshold() == (
            worker.YOUNG_THRESHOLD,
            worker.MIDDLE_THRESHOLD,
            worker.OLD_THRESHOLD,
        )
        assert gc.get_freeze_count() > 1000
    # Stopping the app undoes it: a process that outlives the app collects its garbage again.
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0
