"""Request bodies, bounded: at most `max_bytes`, sent in full within `timeout` seconds."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem


class _TooLarge(Exception):
    pass


class _Gone(Exception):
    pass


class BodyLimit:
    """Pure ASGI, outside the routes: a request that announces or sends a body is read here
    first, whole, within the limits, and handed on from memory. A body over the limit is a 413
    problem, one that does not arrive in time a 408; both close the connection, since the rest
    of the body may still be on its way. Requests without a body pass straight through."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
        if not chunked and (length is None or length.strip() == b"0"):
            await self.app(scope, receive, send)
            return
        if length is not None and length.strip().isdigit() and int(length) > self.max_bytes:
            await self._refuse(scope, receive, send, 413)
            return
        try:
            body = await asyncio.wait_for(self._read(receive), self.timeout)
        except _TooLarge:
            await self._refuse(scope, receive, send, 413)
            return
        except TimeoutError:
            await self._refuse(scope, receive, send, 408)
            return
        except _Gone:
            return  # the client left; nobody to answer
        handed = False

        async def replay() -> Message:
            nonlocal handed
            if not handed:
                handed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # only a disconnect can follow

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Gone
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int) -> None:
        if status == 413:
            kib = self.max_bytes // 1024
            response = problem(
                Request(scope),
                413,
                "Content Too Large",
                f"the request body is larger than this server accepts ({kib} KiB)",
            )
        else:
            response = problem(
                Request(scope),
                408,
                "Request Timeout",
                f"the request body did not arrive in full within {self.timeout:g} seconds",
            )
        response.headers["Connection"] = "close"
        await response(scope, receive, send)
