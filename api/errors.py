"""The one place where errors become HTTP: RFC 9457 application/problem+json."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote, unquote_plus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.templating import render
from kb.db import unavailable
from kb.errors import KBError, ValidationFailed, summarised

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("protocol-kb.errors")
PROBLEM_TYPE = "urn:protocol-kb:problem:"
"""Every problem's `type` is this followed by its kind (docs/api.md lists them). A URN, not a
URL: it names the kind of error for a program to branch on, and is never fetched."""

KINDS = {
    "bad-request": "The request cannot be read (e.g. it holds control characters).",
    "unreadable-query": "The search query cannot be read; the detail says what to change.",
    "invalid-parameter": "A query parameter or body field has a value the API does not accept.",
    "unknown-parameter": "A query parameter the operation does not take (misspelt, or removed).",
    "too-many-protocols": "More than 6 protocols in one comparison or draft.",
    "invalid-options": "Draft options that name something unknown or contradict each other.",
    "not-found": "No record with that id (named in the detail), or no such route.",
    "no-build": "The database holds no build yet.",
    "database-unavailable": "The database cannot be reached or read (the detail says which).",
    "no-search-index": "The search index is missing or still being built.",
    "method-not-allowed": "The route does not take this method; `Allow` lists those it takes.",
    "body-timeout": "The request body did not arrive in full in time.",
    "body-too-large": "The request body is larger than the server takes.",
    "internal-error": "Something went wrong on the server's side; it has been logged.",
}
"""The problem kinds the API answers with, and what each means."""

STATUS_KINDS = {
    400: "bad-request",
    404: "not-found",
    405: "method-not-allowed",
    408: "body-timeout",
    413: "body-too-large",
    500: "internal-error",
}
"""The kind an error of this status has when its raiser names none."""


def problem_type(kind: str) -> str:
    return PROBLEM_TYPE + kind


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details, as every error is answered.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {
            "type": "string",
            "format": "uri-reference",
            "description": f"`{PROBLEM_TYPE}<kind>` (kinds: docs/api.md), or `about:blank`.",
            "examples": [PROBLEM_TYPE + "not-found"],
        },
        "title": {"type": "string", "description": "The kind of error, in words."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What is wrong with this request."},
        "instance": {"type": "string", "description": "The path that was asked for."},
        "errors": {
            "type": "array",
            "description": "Each parameter or body field at fault (invalid-parameter, "
            "unknown-parameter, too-many-protocols, invalid-options).",
            "items": {"$ref": "#/components/schemas/ProblemError"},
        },
        "problems": {
            "type": "array",
            "description": "Content problems, as `path:line: message`.",
            "items": {"type": "string"},
        },
    },
}
PROBLEM_ERROR_SCHEMA: dict[str, Any] = {
    "title": "ProblemError",
    "description": "One thing at fault: a query or path parameter (`parameter`, its name) or a "
    "body field (`pointer`, a JSON Pointer into the body); exactly one of the two is present.",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "parameter": {"type": "string", "examples": ["detainer_response"]},
        "pointer": {"type": "string", "examples": ["/choices/colour"]},
        "detail": {"type": "string"},
    },
}


def _documented(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _documented("The request cannot be read: control characters, an unreadable search query"),
    404: _documented("Unknown id (named in the detail)"),
    422: _documented(
        "A parameter or body field that is unknown, of the wrong type, out of range or not one "
        "of its values (named in `errors`); more than 6 protocols"
    ),
    503: _documented("No build yet, or the search index is not ready"),
}

BODY_RESPONSES: dict[str, dict[str, Any]] = {
    "408": _documented("The request body did not arrive in full in time (KB_BODY_TIMEOUT)"),
    "413": _documented("The request body is larger than the server takes (KB_MAX_BODY_KB)"),
}
"""What an operation that reads a request body may also answer (api.request_body)."""


def wants_html(request: Request) -> bool:
    """Pages answer errors as pages; the API, feeds, health check and static files as problem+json."""
    path = request.url.path
    return not path.startswith(("/api/", "/healthz", "/static/", "/feeds/")) and not path.endswith(
        ".json"
    )


def problem(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    kind: str | None = None,
    errors: list[tuple[str, str]] | None = None,
    **extra: object,
) -> Response:
    """The error answer: a page for pages, problem+json elsewhere. `kind` names the problem type
    (KINDS); `errors` are (option, detail) pairs, an option being a parameter name or, starting
    with `/`, a JSON Pointer into the body."""
    if wants_html(request):
        return render(request, "error.html", {"title": title, "detail": detail}, status)
    kind = kind or STATUS_KINDS.get(status)
    body: dict[str, object] = {
        "type": problem_type(kind) if kind else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = [
            {"pointer" if where.startswith("/") else "parameter": where, "detail": what}
            for where, what in errors
        ]
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
                    kind="bad-request",
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
        return problem(
            request,
            exc.http_status,
            exc.title,
            exc.public,
            kind=exc.kind,
            errors=exc.errors,
            **extra,
        )

    @app.exception_handler(SQLAlchemyError)
    async def database_error(request: Request, exc: SQLAlchemyError) -> Response:
        """The database went away, or is not what we built, in the middle of a request."""
        return await kb_error(request, unavailable(exc, request.app.state.engine.url))

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, exc: RequestValidationError) -> Response:
        located = [_located(err) for err in exc.errors()]
        _, errors = summarised(located)
        detail = summarised([(where, f"{where}: {what}") for where, what in located])[0]
        detail = detail or "invalid request"
        too_many = any(
            err.get("type") == "too_long" and tuple(err.get("loc", ())) == ("body", "protocols")
            for err in exc.errors()
        )
        if too_many:
            return problem(
                request, 422, "Too many protocols", detail, kind="too-many-protocols", errors=errors
            )
        if all(err.get("type") == "extra_forbidden" for err in exc.errors()):
            return problem(
                request, 422, "Unknown parameter", detail, kind="unknown-parameter", errors=errors
            )
        return problem(
            request, 422, "Invalid parameter", detail, kind="invalid-parameter", errors=errors
        )

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


def _located(err: Any) -> tuple[str, str]:
    """(parameter name, or JSON Pointer into the body; the message) of one validation error."""
    where, *path = [str(part) for part in err.get("loc", ())] or ["body"]
    message = str(err.get("msg", ""))
    if where == "body":
        return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in path), message
    return (path[0] if path else where), message


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
