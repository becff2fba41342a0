"""Security headers on every response: a strict CSP, no sniffing, a quiet referrer, and framing
allowed only for the embeddable widget under /embed/."""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BASE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)
PAGE_CSP = _BASE_POLICY + "; frame-ancestors 'none'"
EMBED_CSP = _BASE_POLICY + "; frame-ancestors *"
"""Any site may frame the widget: that is what it is for. Nothing else may be framed."""

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def script_hashes(html: str) -> str:
    """CSP source list allowing exactly the inline scripts of one fixed page (the API docs)."""
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(html)
    )


def docs_csp(html: str) -> str:
    """The interactive API docs load Swagger UI from our own origin and run one inline script;
    no third-party source is allowed."""
    return (
        f"default-src 'self'; script-src 'self' {script_hashes(html)}; "
        "style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    """Pure ASGI, so it costs one dict merge per response and never buffers a body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        embed = path.startswith("/embed/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"strict-origin-when-cross-origin"),
                ]
                if b"content-security-policy" not in present:
                    extra.append(
                        (b"content-security-policy", (EMBED_CSP if embed else PAGE_CSP).encode())
                    )
                if not embed:
                    extra.append((b"x-frame-options", b"DENY"))
                message["headers"] = headers + [h for h in extra if h[0] not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)
