"""The one place where errors become HTTP: RFC 9457 application/problem+json."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, unquote_plus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from api.templating import render
from kb.errors import KBError, ValidationFailed

PROBLEM_JSON = "application/problem+json"


class Problem(BaseModel):
    """RFC 9457 problem details, as every error is answered."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, str]] | None = None
    problems: list[str] | None = None


def _documented(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": Problem.model_json_schema()}},
    }


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the If-None-Match tag is still current"},
    400: _documented(
        "Bad request: a search query that cannot be read, too many protocols, an unknown key"
    ),
    404: _documented("Unknown id (named in the detail)"),
    422: _documented("A parameter of the wrong type or out of range"),
    503: _documented("No build yet, or the search index is not ready"),
}


def wants_html(request: Request) -> bool:
    """Pages answer errors as pages; the API, health check and static files as problem+json."""
    path = request.url.path
    return not path.startswith(("/api/", "/healthz", "/static/")) and not path.endswith(".json")


def problem(request: Request, status: int, title: str, detail: str, **extra: object) -> Response:
    if wants_html(request):
        return render(request, "error.html", {"title": title, "detail": detail}, status)
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class RejectControlCharacters:
    """No id, query or filter legitimately holds control characters, and PostgreSQL cannot even
    compare text holding NUL: refuse them up front, in one place (pure ASGI: it runs on every
    request, and a BaseHTTPMiddleware would cost more than the check)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            sent = unquote(scope["path"]) + unquote_plus(scope["query_string"].decode("latin-1"))
            if _CONTROL.search(sent):
                response = problem(
                    Request(scope),
                    400,
                    "Bad request",
                    "the request contains control characters; send plain text",
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_middleware(RejectControlCharacters)

    @app.exception_handler(KBError)
    async def kb_error(request: Request, exc: KBError) -> Response:
        extra = (
            {"problems": [str(p) for p in exc.problems]}
            if isinstance(exc, ValidationFailed)
            else {}
        )
        return problem(request, exc.http_status, exc.title, exc.message, **extra)

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {
                "location": ".".join(str(part) for part in err.get("loc", ())),
                "message": err.get("msg", ""),
            }
            for err in exc.errors()
        ]
        detail = "; ".join(f"{e['location']}: {e['message']}" for e in errors) or "invalid request"
        return problem(request, 422, "Invalid parameter", detail, errors=errors)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"nothing at {request.url.path}"
        return problem(request, exc.status_code, _title(exc.status_code), detail)


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
