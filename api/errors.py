"""The one place where errors become HTTP: RFC 9457 application/problem+json."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote, unquote_plus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.templating import render
from kb.db import unavailable
from kb.errors import KBError, ValidationFailed

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("protocol-kb.errors")


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


class CatchUnexpected:
    """The last resort, inside the security headers: an exception no handler knows becomes a 500
    problem (an error page for pages) with the usual headers; its traceback is logged once, here,
    and never sent. Pure ASGI, like the other middlewares that run on every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("unexpected error answering %s %s", scope["method"], scope["path"])
            if started:
                return  # the answer is cut short; the server closes the connection
            response = problem(
                Request(scope),
                500,
                "Internal Server Error",
                "something went wrong on our side; it has been logged",
            )
            await response(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_middleware(RejectControlCharacters)

    @app.exception_handler(KBError)
    async def kb_error(request: Request, exc: KBError) -> Response:
        extra = (
            {"problems": [str(p) for p in exc.problems]}
            if isinstance(exc, ValidationFailed)
            else {}
        )
        if exc.public != exc.message:  # the operator's detail (masked URL, folder) goes to the log
            log.warning("%s", exc.message)
        return problem(request, exc.http_status, exc.title, exc.public, **extra)

    @app.exception_handler(SQLAlchemyError)
    async def database_error(request: Request, exc: SQLAlchemyError) -> Response:
        """The database went away, or is not what we built, in the middle of a request."""
        return await kb_error(request, unavailable(exc, request.app.state.engine.url))

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
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            allowed = [m.strip() for m in headers.get("Allow", "").split(",") if m.strip()]
            if "GET" in allowed and "HEAD" not in allowed:
                allowed.append("HEAD")  # api.http_methods answers HEAD wherever GET is
            headers["Allow"] = ", ".join(sorted(allowed))
            detail = f"{request.method} is not allowed here; allowed: {headers['Allow']}"
        response = problem(request, exc.status_code, _title(exc.status_code), detail)
        response.headers.update(headers)
        return response


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
