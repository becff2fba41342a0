"""HEAD wherever GET is (RFC 9110 §9.3.2): the same status and headers, no body."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class AnswerHead:
    """Pure ASGI, outermost: a HEAD request runs as a GET (so it is answered, cached and tagged
    exactly like one, Content-Length included) and the body is dropped on the way out. Where
    there is no GET, the GET's 405 answers, with its Allow header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
