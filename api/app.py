"""The FastAPI application: one factory, used by `kb serve`, uvicorn workers and tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api import caching, errors
from api.index_refresh import IndexRefresher
from api.routes import drafting, health, pages, v1
from api.security import SecurityHeaders, docs_csp
from api.templating import STATIC
from api.worker import tune_garbage_collector
from kb import __version__
from kb.db import make_engine
from kb.settings import Settings
from search_index.search import SearchIndex

SWAGGER_CDN = "https://cdn.jsdelivr.net"


@asynccontextmanager
async def _serving(app: FastAPI) -> AsyncIterator[None]:
    """Once per server process, before the first request."""
    tune_garbage_collector()
    yield


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        lifespan=_serving,
        title="protocol-kb",
        version=__version__,
        description="Compare jurisdictions' protocols limiting local entanglement with federal immigration enforcement.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url)
    app.state.search = SearchIndex(settings.index_dir)
    app.state.index_refresh = IndexRefresher(app.state.engine, settings.index_dir)
    errors.install(app)
    caching.install(app)
    app.add_middleware(SecurityHeaders)
    app.include_router(health.router)
    app.include_router(v1.router)
    app.include_router(drafting.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    docs = get_swagger_ui_html(openapi_url="/api/v1/openapi.json", title="protocol-kb API")
    policy = docs_csp(bytes(docs.body).decode(), SWAGGER_CDN)

    @app.get("/api/docs", include_in_schema=False)
    def api_docs(request: Request) -> HTMLResponse:
        """Swagger UI, with a CSP that allows its CDN and its one inline script by hash."""
        return HTMLResponse(docs.body, headers={"Content-Security-Policy": policy})

    return app
