"""HTTP caching and CORS: strong ETags from the dataset build, 304s, a response cache in memory
for GET /api/v1/…, open CORS for GET only."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import i18n
from api.build_watch import BuildStamp, BuildWatch

MAX_AGE = 300
"""Seconds a browser, CDN or proxy may reuse a response without asking again."""

CACHE_NAME = b"protocol-kb"
"""Our entry in the Cache-Status header (RFC 9211)."""

_ANSWERED = "answered_build"
_NO_STORE = "no_store"
_OPENAPI = "/api/v1/openapi.json"
_HIT = (b"cache-status", CACHE_NAME + b"; hit")
_OURS = frozenset((b"etag", b"cache-control", b"cache-status"))


def etag_for(build: BuildStamp, path: str, query_string: bytes, lang: str = "") -> str:
    """Same build, same URL and same language give the same bytes, so the tag is strong.
    `lang` is empty where the answer has one language only."""
    query = sorted(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    key = f"{build.key}\n{path}\n{query}" + (f"\n{lang}" if lang else "")
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def record_build(request: Request, build: BuildStamp) -> None:
    """A route names the build its answer was read from (in its own session, so the `dataset`
    stamp matches the data); the cache stores the answer only under that build."""
    request.state.answered_build = build


def do_not_store(request: Request) -> None:
    """This answer is provisional (e.g. a search while the index catches up with a new build):
    neither we nor any cache downstream may keep it."""
    request.state.no_store = True


@dataclass
class _Entry:
    etag: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + 200


class ResponseCache:
    """Pure ASGI, in front of the routes, for GET /api/v1/… (the schema aside).

    Every successful answer gets a strong ETag and Cache-Control; a matching If-None-Match is a
    bodiless 304 without running the route. Whole 200 answers (headers and body) are kept in an
    LRU bounded by `max_bytes`, keyed by the URL as sent (scheme, host, path, query string: a
    page's `next` link is built from them) under the build the store holds; a new build empties
    it. Errors, other methods and provisional answers are never kept. `Cache-Status` (RFC 9211)
    says what happened: `protocol-kb; hit`, `protocol-kb; fwd=uri-miss; stored`,
    `protocol-kb; fwd=uri-miss` (not kept) or `protocol-kb; fwd=bypass` (cache off).
    """

    def __init__(self, app: ASGIApp, watch: BuildWatch, max_bytes: int) -> None:
        self.app = app
        self.watch = watch
        self.max_bytes = max_bytes
        self.max_entry = max_bytes // 8  # one huge answer may not push out everything else
        self._build: BuildStamp | None = None
        self._entries: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self._bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not path.startswith("/api/v1/")
            or path == _OPENAPI
        ):
            await self.app(scope, receive, send)
            return
        build = await self.watch.current()
        if build is None:
            await self.app(scope, receive, send)  # the route answers the problem itself
            return
        if build != self._build:
            self._entries.clear()
            self._bytes = 0
            self._build = build
        host, conditional, accept_language = b"", None, None
        for name, value in scope["headers"]:  # lower-case names, as ASGI servers pass them
            if name == b"host":
                host = value
            elif name == b"if-none-match":
                conditional = value
            elif name == b"accept-language":
                accept_language = value
        # Where the answer follows Accept-Language (`Vary`), the language is part of the key.
        lang = (
            i18n.api_language(scope["query_string"], accept_language)
            if i18n.negotiates(path)
            else ""
        )
        key = (scope["scheme"], host, scope.get("root_path", ""), path, scope["query_string"], lang)
        entry = self._entries.get(key)
        if conditional is not None:
            etag = (
                entry.etag if entry else etag_for(build, path, scope["query_string"], lang).encode()
            )
            wanted = {t.strip() for t in conditional.split(b",")}
            if etag in wanted or b"*" in wanted:
                headers = _validators(etag) + ([(b"vary", b"Accept-Language")] if lang else [])
                await send({"type": "http.response.start", "status": 304, "headers": headers})
                await send({"type": "http.response.body", "body": b""})
                return
        if entry is not None:
            self._entries.move_to_end(key)
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [*entry.headers, _HIT],
                }
            )
            await send({"type": "http.response.body", "body": entry.body})
            return
        await self._forward(scope, receive, send, build, key)

    async def _forward(
        self, scope: Scope, receive: Receive, send: Send, build: BuildStamp, key: tuple[Any, ...]
    ) -> None:
        """Run the route; tag a 200 with the build it was read from, and keep it if we may."""
        state: dict[str, Any] = scope.setdefault("state", {})
        kept: list[bytes] | None = None
        kept_headers: list[tuple[bytes, bytes]] = []

        async def tag_and_keep(message: Message) -> None:
            nonlocal kept, kept_headers
            if message["type"] == "http.response.start" and message["status"] == 200:
                # Ours replace any the route set, as the tag stands for the whole answer.
                headers = [(k, v) for k, v in message.get("headers", []) if k not in _OURS]
                answered: BuildStamp | None = state.get(_ANSWERED)
                if answered != build:
                    self.watch.forget()  # the store moved on while we answered: look again
                if state.get(_NO_STORE):
                    headers.append((b"cache-control", b"no-store"))
                else:
                    etag = etag_for(
                        answered or build, scope["path"], scope["query_string"], key[-1]
                    )
                    headers += _validators(etag.encode())
                    length = dict(headers).get(b"content-length", b"")
                    if answered == build and length.isdigit() and int(length) <= self.max_entry:
                        kept, kept_headers = [], headers
                message["headers"] = [*headers, (b"cache-status", self._status(kept is not None))]
            elif message["type"] == "http.response.body" and kept is not None:
                kept.append(message.get("body", b""))
                if not message.get("more_body", False):
                    tag = dict(kept_headers)[b"etag"]
                    self._store(key, build, _Entry(tag, kept_headers, b"".join(kept)))
            await send(message)

        await self.app(scope, receive, tag_and_keep)

    def _status(self, stored: bool) -> bytes:
        if self.max_bytes <= 0:
            return CACHE_NAME + b"; fwd=bypass"
        return CACHE_NAME + (b"; fwd=uri-miss; stored" if stored else b"; fwd=uri-miss")

    def _store(self, key: tuple[Any, ...], build: BuildStamp, entry: _Entry) -> None:
        if build != self._build:
            return  # a newer build arrived while this one was answered
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old.size
        self._entries[key] = entry
        self._bytes += entry.size
        while self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.size


def _validators(etag: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"etag", etag), (b"cache-control", f"public, max-age={MAX_AGE}".encode())]


def install(app: FastAPI) -> None:
    settings = app.state.settings
    app.add_middleware(
        ResponseCache,
        watch=BuildWatch(app.state.engine),
        max_bytes=int(settings.response_cache_mb * 1024 * 1024),
    )
    # Embedders read from any origin; nothing else is offered across origins.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET"],
        allow_headers=["If-None-Match"],
        expose_headers=["ETag"],
    )
