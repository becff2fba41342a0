"""Downloads: responses a browser saves as a file instead of showing."""

from __future__ import annotations

from fastapi.responses import Response


def attachment(body: str | bytes, media_type: str, name: str) -> Response:
    """A download: the browser saves it as `name` instead of showing it."""
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
