"""The FastAPI application: one factory, used by `kb serve`, uvicorn workers and tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api import caching, errors, openapi
from api.http_methods import AnswerHead
from api.index_refresh import IndexRefresher
from api.request_body import BodyLimit
from api.routes import drafting, feeds, health, maps, pages, registry, v1
from api.security import SecurityHeaders, docs_csp
from api.templating import STATIC
from api.worker import restore_garbage_collector, tune_garbage_collector
from kb.db import make_engine
from kb.settings import Settings
from search_index.search import SearchIndex

SWAGGER_ASSETS = Path(str(files("fastapi_offline") / "static"))
"""Swagger UI's script and style, shipped by the fastapi-offline package (docs/architecture.md):
served from our own origin, so the API docs work offline and load no third-party script."""


@asynccontextmanager
async def _serving(app: FastAPI) -> AsyncIterator[None]:
    """Once per server process, before the first request; undone when the app stops."""
    previous = tune_garbage_collector()
    yield
    restore_garbage_collector(previous)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        lifespan=_serving,
        title="protocol-kb",
        version=openapi.API_VERSION,
        description=openapi.DESCRIPTION,
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
    # Outermost last: HEAD as GET → security headers on everything → body limits → last resort.
    app.add_middleware(errors.CatchUnexpected)
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_body_kb * 1024, timeout=settings.body_timeout
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AnswerHead)
    app.include_router(health.router)
    app.include_router(v1.router)
    app.include_router(registry.router)
    app.include_router(feeds.router)
    app.include_router(drafting.router)
    app.include_router(maps.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/api/docs/assets", StaticFiles(directory=SWAGGER_ASSETS), name="api-docs-assets")
    openapi.install(app)

    docs = get_swagger_ui_html(
        openapi_url="/api/v1/openapi.json",
        title="protocol-kb API",
        swagger_js_url="/api/docs/assets/swagger-ui-bundle.js",
        swagger_css_url="/api/docs/assets/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
    )
    policy = docs_csp(bytes(docs.body).decode())

    @app.get("/api/docs", include_in_schema=False)
    def api_docs(request: Request) -> HTMLResponse:
        """Swagger UI from our own origin, with a CSP that allows its one inline script by hash."""
        return HTMLResponse(docs.body, headers={"Content-Security-Policy": policy})

    return app
