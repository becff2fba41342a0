"""The one place where errors become HTTP: RFC 9457 application/problem+json."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, unquote_plus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from api.templating import render
from kb.errors import KBError, ValidationFailed

PROBLEM_JSON = "application/problem+json"
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
    "no-search-index": "The search index is missing or still being built.",
}
"""The problem kinds the API answers with, and what each means."""

STATUS_KINDS = {400: "bad-request", 404: "not-found"}
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


def wants_html(request: Request) -> bool:
    """Pages answer errors as pages; the API, health check and static files as problem+json."""
    path = request.url.path
    return not path.startswith(("/api/", "/healthz", "/static/")) and not path.endswith(".json")


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


def install(app: FastAPI) -> None:
    app.add_middleware(RejectControlCharacters)

    @app.exception_handler(KBError)
    async def kb_error(request: Request, exc: KBError) -> Response:
        extra = (
            {"problems": [str(p) for p in exc.problems]}
            if isinstance(exc, ValidationFailed)
            else {}
        )
        return problem(
            request,
            exc.http_status,
            exc.title,
            exc.message,
            kind=exc.kind,
            errors=exc.errors,
            **extra,
        )

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, exc: RequestValidationError) -> Response:
        errors = [_located(err) for err in exc.errors()]
        detail = "; ".join(f"{where}: {what}" for where, what in errors) or "invalid request"
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
        return problem(request, exc.status_code, _title(exc.status_code), detail)


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
