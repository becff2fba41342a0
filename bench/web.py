"""Benchmark: server-side render time of the HTML pages, on the real content.

    python bench/web.py [--requests 300]

Builds protocols/ into a temporary SQLite database and index, then calls each page through the
whole ASGI app in-process (every middleware, routing, database, template, the body sent; no
network, no test client) and prints p50/p95/p99 in milliseconds. Target (docs/performance.md):
the compare page of 6 protocols, p50 < 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.app import create_app
from kb.build import build
from kb.db import make_engine
from kb.settings import Settings
from search_index.build import build_index

ROOT = Path(__file__).resolve().parent.parent
SIX = ",".join(
    [
        "us-ca-santa-clara-county/board-policy-3-54",
        "us-il-cook-county/ordinance-11-o-73",
        "us-dc/law-19-194",
        "us-ca/ab-4-2013",
        "us-ny-new-york-city/local-law-58-2014",
        "us-pa-philadelphia/executive-order-5-16",
    ]
)
PAGES = {
    "compare, 6 protocols": f"/compare?protocols={SIX}",
    "compare, 6, differences only": f"/compare?protocols={SIX}&differences_only=true",
    "embed, 6 protocols": f"/embed/compare?protocols={SIX}",
    "overview matrix": "/",
    "protocol page (AB 4)": "/protocols/us-ca/ab-4-2013",
    "search page": "/search?q=juvenile+holds",
    "diff AB 1081 -> AB 4": "/diff?from=us-ca/ab-1081-2012&to=us-ca/ab-4-2013",
    "draft page (strongest)": "/draft?name=Example+County&level=county",
    "gaps page (Cook County)": "/gaps/us-il-cook-county/ordinance-11-o-73",
}
TARGET_MS = 20.0


async def call(app: Any, path: str) -> tuple[int, int]:
    """One GET through the ASGI app, as uvicorn would make it: (status, body bytes)."""
    route, _, query = path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": route, "raw_path": route.encode(), "root_path": "",
        "query_string": query.encode(), "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    status, size = 0, 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, size
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            size += len(message.get("body", b""))

    await app(scope, receive, send)
    return status, size


def percentile(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="timed requests per page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'kb.sqlite3'}"
        build(ROOT / "protocols", url)
        build_index(make_engine(url), Path(folder) / "index")
        app = create_app(Settings(database_url=url, index_dir=Path(folder) / "index"))
        compare_p50 = asyncio.run(measure(app, args.requests))
    verdict = "PASS" if compare_p50 < TARGET_MS else "MISS"
    print(
        f"\ncompare page of 6 protocols: p50 {compare_p50:.2f} ms, target < {TARGET_MS:.0f} ms: {verdict}"
    )
    return 0


async def measure(app: Any, requests: int) -> float:
    print(f"{'page':32} {'bytes':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    compare_p50 = 0.0
    for name, path in PAGES.items():
        for _ in range(10):  # warm: the first request of a build reads it into the memo
            status, size = await call(app, path)
            assert status == 200, (path, status)
        times = []
        for _ in range(requests):
            start = time.perf_counter()
            await call(app, path)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p50 = percentile(times, 0.5)
        compare_p50 = p50 if name == "compare, 6 protocols" else compare_p50
        print(
            f"{name:32} {size:>8,} {p50:>8.2f} "
            f"{percentile(times, 0.95):>8.2f} {percentile(times, 0.99):>8.2f}"
        )
    return compare_p50


if __name__ == "__main__":
    raise SystemExit(main())
