"""The OpenAPI document of /api/v1: FastAPI's, completed with what FastAPI cannot know (the problem
schema, the codebook filters of the build served, response headers, which fields are always
present) and checked against the rules of docs/api.md."""

from __future__ import annotations

import copy
import threading
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.errors import BODY_RESPONSES, PROBLEM_ERROR_SCHEMA, PROBLEM_RESPONSES, PROBLEM_SCHEMA
from api.examples import examples
from kb import store
from kb.codebook import BOOLEAN, CHOICE, INTEGER, value_text
from kb.errors import DatabaseUnavailable

API_VERSION = "2026-12-01"
"""The version of the API contract (docs/api-changelog.md), apart from the package's version."""

DESCRIPTION = (
    "Compare jurisdictions' protocols limiting local entanglement with federal immigration "
    "enforcement: protocols provision by provision, coded on one codebook, cited to their "
    "sources. Errors are RFC 9457 problems (`application/problem+json`, one `Problem` schema); "
    "lists are pages (`limit`, `offset`, `pagination`); documents (CSV, Markdown, HTML, Word) "
    "have operations of their own. Changes: docs/api-changelog.md."
)

LIST_PROTOCOLS = "listProtocols"
"""The operation whose filters include every key of the codebook of the build served."""

_HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": "Strong tag of this answer under the current build; send it back in "
        "If-None-Match for a bodiless 304 while it is current.",
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": "`public, max-age=300`; `no-store` for a provisional search answer.",
        "schema": {"type": "string"},
    },
    "Cache-Status": {
        "description": "RFC 9211: whether this server's response cache answered "
        "(`protocol-kb; hit`) or the route did (`protocol-kb; fwd=uri-miss[; stored]`, "
        "`protocol-kb; fwd=bypass`).",
        "schema": {"type": "string"},
    },
    "Content-Disposition": {
        "description": '`attachment; filename="…"`: save the document instead of showing it.',
        "schema": {"type": "string"},
    },
}
_NOT_MODIFIED = {
    "description": "Not modified: the If-None-Match tag is still current (no body)",
    "headers": {
        "ETag": {"$ref": "#/components/headers/ETag"},
        "Cache-Control": {"$ref": "#/components/headers/Cache-Control"},
    },
}
_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of an answer you hold: a bodiless 304 while it is current.",
    "schema": {"type": "string"},
    "example": '"5d41402abc4b2a76b9719d911017c592"',
}
_NOT_SCHEMAS = ("Problem", "ProblemError")
_OTHER_OPERATIONS = {"/healthz": "getHealth"}
"""Readable operationIds of the operations outside /api/v1 (routes of other modules)."""


class OpenAPIDocument:
    """`app.openapi`: the document, computed once per build served (the codebook filters of
    listProtocols come from that build; without a build every operation answers 503 and the
    document lists no codebook filter)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._base: dict[str, Any] | None = None
        self._by_build: dict[str, dict[str, Any]] = {}

    def __call__(self) -> dict[str, Any]:
        filters, version = self._codebook_filters()
        with self._lock:
            if version in self._by_build:
                return self._by_build[version]
            if self._base is None:
                self._base = self._complete(
                    get_openapi(
                        title="protocol-kb",
                        version=API_VERSION,
                        description=DESCRIPTION,
                        routes=self.app.routes,
                        servers=[{"url": "/"}],
                    )
                )
            document = copy.deepcopy(self._base)
            for path in document["paths"].values():
                for operation in path.values():
                    if operation.get("operationId") == LIST_PROTOCOLS:
                        operation["parameters"] += filters
            self._by_build = {version: document}  # one build at a time is served
            return document

    def _codebook_filters(self) -> tuple[list[dict[str, Any]], str]:
        try:
            with store.session(self.app.state.engine) as db:
                version = store.build_info(db).version
                book = store.codebook(db)
        except DatabaseUnavailable:
            return [], ""
        return [_filter(spec) for spec in book], version

    @staticmethod
    def _complete(document: dict[str, Any]) -> dict[str, Any]:
        components = document.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        schemas["Problem"] = PROBLEM_SCHEMA
        schemas["ProblemError"] = PROBLEM_ERROR_SCHEMA
        components["headers"] = _HEADERS
        document["security"] = []
        known_examples = examples()
        for route, path in document["paths"].items():
            if not route.startswith("/api/v1/"):
                for operation in path.values():  # /healthz: neither cached nor paged
                    operation["operationId"] = _OTHER_OPERATIONS.get(
                        route, operation["operationId"]
                    )
                    responses = operation["responses"]
                    responses.setdefault("400", PROBLEM_RESPONSES[400])  # control characters
                    responses.setdefault("503", PROBLEM_RESPONSES[503])
                continue
            for method, operation in path.items():
                responses = operation["responses"]
                ok = responses["200"]
                answer = ok.get("content", {}).get("application/json", {})
                if operation.get("operationId") in known_examples and "schema" in answer:
                    answer["example"] = known_examples[operation["operationId"]]
                headers = ok.setdefault("headers", {})
                if "requestBody" in operation:
                    for status, answer in BODY_RESPONSES.items():
                        responses.setdefault(status, answer)
                if method == "get":
                    for name in ("ETag", "Cache-Control", "Cache-Status"):
                        headers[name] = {"$ref": f"#/components/headers/{name}"}
                    responses["304"] = _NOT_MODIFIED
                    operation.setdefault("parameters", []).append(_IF_NONE_MATCH)
                if not headers:
                    del ok["headers"]
        _always_present(document)
        return document


def _filter(spec: Any) -> dict[str, Any]:
    """A codebook key as a query parameter of listProtocols."""
    if spec.type in (CHOICE, BOOLEAN):
        schema: dict[str, Any] = {
            "type": "string",
            "enum": [value_text(v) or "null" for v in spec.values],
        }
    elif spec.type == INTEGER:
        schema = {"type": "string", "pattern": "^([0-9]{1,9}|null)$"}
    else:
        schema = {"type": "string", "maxLength": 1000}
    example = schema["enum"][0] if "enum" in schema else ("48" if spec.type == INTEGER else "x")
    return {
        "name": spec.key,
        "in": "query",
        "required": False,
        "description": f"Codebook key ({spec.type}): {spec.question} `null`: not addressed.",
        "schema": schema,
        "example": example,
    }


def _always_present(document: dict[str, Any]) -> None:
    """Every field of an answer is always written (no route leaves out unset or null fields),
    so every property of a schema that only answers carry is required. Schemas a request uses
    (bodies) keep their optional fields optional."""
    schemas = document["components"]["schemas"]
    used_in_requests: set[str] = set()
    for path in document["paths"].values():
        for operation in path.values():
            _collect_refs(operation.get("requestBody", {}), schemas, used_in_requests)
            _collect_refs(operation.get("parameters", []), schemas, used_in_requests)
    for name, schema in schemas.items():
        if name in used_in_requests or name in _NOT_SCHEMAS or "properties" not in schema:
            continue
        schema["required"] = list(schema["properties"])


def _collect_refs(node: Any, schemas: dict[str, Any], found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in found:
                found.add(name)
                _collect_refs(schemas.get(name, {}), schemas, found)
        for value in node.values():
            _collect_refs(value, schemas, found)
    elif isinstance(node, list):
        for value in node:
            _collect_refs(value, schemas, found)


def install(app: FastAPI) -> None:
    app.openapi = OpenAPIDocument(app)  # type: ignore[method-assign]
