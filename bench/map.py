"""Benchmark: the county map's server-side render time and compressed size, on the real content.

    python bench/map.py [--requests 50] [--captures DIR]

Builds protocols/ into a temporary SQLite database and index, imports ICE's 287(g) captures
(every .xlsx in --captures, by default ../shared/data/ice-287g when it exists, else the four in
tests/fixtures/ice-287g), then calls /map for each layer through the whole ASGI app in-process
(as bench/web.py does). Two figures per layer:

- new date: every request names a date no earlier request named, so nothing is memoised for it:
  the resolver runs for every county (kb.resolve.resolve_places), the registry is read, the SVG
  of 3,141 county links is rendered and the page sent;
- same URL: the map kept for the build (kb.county_map) and its SVG (api.routes.maps) reused.

The size is the body as sent and gzipped at level 5 (deploy/nginx's gzip_comp_level) and 9.
Targets (issue 16): < 200 ms server-side for all counties, < 1 MB compressed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gzip
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.app import create_app
from bench.web import percentile
from kb.build import build
from kb.db import make_engine
from kb.registry import import_captures
from kb.settings import Settings
from search_index.build import build_index

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "ice-287g"
SAMPLES = ROOT / "tests" / "fixtures" / "ice-287g"
LAYERS = {
    "question: detainer response": "/map?layer=question:detainer_response",
    "question: max hold hours": "/map?layer=question:max_hold_hours",
    "protection score": "/map?layer=score",
    "287(g) models": "/map?layer=287g",
    "embed, 287(g) models": "/embed/map?layer=287g",
    "table, detainer response": "/map/table?layer=question:detainer_response",
}
TARGET_MS = 200.0
TARGET_BYTES = 1_000_000


async def call(app: Any, path: str) -> tuple[int, bytes]:
    """One GET through the ASGI app, as uvicorn would make it: (status, body)."""
    route, _, query = path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": route, "raw_path": route.encode(), "root_path": "",
        "query_string": query.encode(), "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    status, body = 0, []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(body)


async def timed(app: Any, paths: list[str]) -> tuple[list[float], bytes]:
    times, body = [], b""
    for path in paths:
        start = time.perf_counter()
        status, body = await call(app, path)
        times.append((time.perf_counter() - start) * 1000)
        assert status == 200, (path, status)
    return sorted(times), body


async def measure(app: Any, requests: int) -> tuple[float, int]:
    print(
        f"{'layer':30} {'bytes':>10} {'gzip 5':>8} {'gzip 9':>8} "
        f"{'new date p50':>12} {'p95':>7} {'same URL p50':>12} {'p95':>7}"
    )
    worst_ms, worst_bytes = 0.0, 0
    first = dt.date(2025, 7, 18)
    for name, path in LAYERS.items():
        await call(app, path)  # the build's first read (the resolver's index) is not a map's
        # Each request a date never asked before: nothing is memoised for it.
        dates = [(first - dt.timedelta(days=i)).isoformat() for i in range(requests)]
        fresh, body = await timed(app, [f"{path}&on={d}" for d in dates])
        same, _ = await timed(app, [f"{path}&on={first.isoformat()}"] * requests)
        level5, level9 = len(gzip.compress(body, 5)), len(gzip.compress(body, 9))
        print(
            f"{name:30} {len(body):>10,} {level5:>8,} {level9:>8,} "
            f"{percentile(fresh, 0.5):>12.1f} {percentile(fresh, 0.95):>7.1f} "
            f"{percentile(same, 0.5):>12.1f} {percentile(same, 0.95):>7.1f}"
        )
        if not path.startswith("/map/table"):
            worst_ms = max(worst_ms, percentile(fresh, 0.5))
            worst_bytes = max(worst_bytes, level5)
    return worst_ms, worst_bytes


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=50, help="timed requests per figure")
    parser.add_argument("--captures", type=Path, help="a folder of ICE's .xlsx captures")
    args = parser.parse_args()
    captures = args.captures or (SHARED if SHARED.is_dir() else SAMPLES)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'kb.sqlite3'}"
        build(ROOT / "protocols", url)
        report = import_captures(sorted(captures.glob("*.xlsx")), url)
        print(f"registry: {report.summary()}\n")
        build_index(make_engine(url), Path(folder) / "index")
        app = create_app(Settings(database_url=url, index_dir=Path(folder) / "index"))
        worst_ms, worst_bytes = asyncio.run(measure(app, args.requests))
    fast = "PASS" if worst_ms < TARGET_MS else "MISS"
    small = "PASS" if worst_bytes < TARGET_BYTES else "MISS"
    print(
        f"\nslowest map on a new date: p50 {worst_ms:.1f} ms, target < {TARGET_MS:.0f} ms: {fast}"
        f"\nlargest map gzipped (level 5): {worst_bytes:,} bytes, target < {TARGET_BYTES:,}: {small}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
