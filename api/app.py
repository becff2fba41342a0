"""The FastAPI application: one factory, used by `kb serve`, uvicorn workers and tests."""

from __future__ import annotations

from fastapi import FastAPI

from api import caching, errors
from api.index_refresh import IndexRefresher
from api.routes import health, pages, v1
from kb import __version__
from kb.db import make_engine
from kb.settings import Settings
from search_index.search import SearchIndex


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title="protocol-kb",
        version=__version__,
        description="Compare jurisdictions' protocols limiting local entanglement with federal immigration enforcement.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url)
    app.state.search = SearchIndex(settings.index_dir)
    app.state.index_refresh = IndexRefresher(app.state.engine, settings.index_dir)
    errors.install(app)
    caching.install(app)
    app.include_router(health.router)
    app.include_router(v1.router)
    app.include_router(pages.router)
    return app
