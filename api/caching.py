"""HTTP caching and CORS: strong ETags from the dataset build, 304s, open CORS for GET only."""

from __future__ import annotations

import hashlib

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from kb import store
from kb.errors import KBError

MAX_AGE = 300
"""Seconds a browser, CDN or proxy may reuse a response without asking again."""


def etag_for(version: str, request: Request) -> str:
    """Same build and same URL give the same bytes, so the tag is strong."""
    key = f"{version}\n{request.url.path}\n{sorted(request.query_params.multi_items())}"
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


class DatasetETag(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if (
            request.method != "GET"
            or not request.url.path.startswith("/api/v1/")
            or request.url.path.endswith("openapi.json")
        ):
            return await call_next(request)
        try:
            with store.session(request.app.state.engine) as db:
                info = store.build_info(db)
        except KBError:
            return await call_next(request)  # the route answers the problem itself
        request.state.build_info = info  # the route stamps its answer with it, without asking again
        tag = etag_for(info.version, request)
        cache = {"ETag": tag, "Cache-Control": f"public, max-age={MAX_AGE}"}
        wanted = {t.strip() for t in request.headers.get("if-none-match", "").split(",")}
        if tag in wanted or "*" in wanted:
            return Response(status_code=304, headers=cache)
        response = await call_next(request)
        if response.status_code == 200:
            response.headers.update(cache)
        return response


def install(app: FastAPI) -> None:
    app.add_middleware(DatasetETag)
    # Embedders read from any origin; nothing else is offered across origins.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET"],
        allow_headers=["If-None-Match"],
        expose_headers=["ETag"],
    )
