"""Benchmark: `kb import-287g` of ICE's captures, a content build that carries the registry over,
and the registry's API answers (uncached), on SQLite and PostgreSQL.

    python bench/registry.py [--captures DIR] [--postgres URL]

Prints seconds per step and the median of 20 answers per route. No targets: figures for
docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.app import create_app
from kb.build import build
from kb.db import parse_url
from kb.registry import import_captures
from kb.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
ROUTES = (
    "/api/v1/287g/agreements?limit=200",
    "/api/v1/287g/agreements?state=TX&status=active",
    "/api/v1/287g/agreements?active_on=2025-06-01&limit=50",
    "/api/v1/287g/agreements.csv",
    "/api/v1/287g/agreements/fl-miami-dade-sheriffs-office-task-force-2025-02-26",
    "/api/v1/287g/captures",
)


def measure(url: str, files: list[Path], folder: Path) -> None:
    started = time.perf_counter()
    build(ROOT / "protocols", url)
    print(f"  build (empty registry)   {time.perf_counter() - started:6.2f} s")
    started = time.perf_counter()
    report = import_captures(files, url)
    print(
        f"  import {len(files)} files          {time.perf_counter() - started:6.2f} s   {report.summary().split(';')[1].split(', in')[0]}"
    )
    started = time.perf_counter()
    import_captures(files, url)
    print(f"  import again (no change) {time.perf_counter() - started:6.2f} s")
    started = time.perf_counter()
    build(ROOT / "protocols", url)
    print(f"  build (registry kept)    {time.perf_counter() - started:6.2f} s")
    app = create_app(Settings(database_url=url, index_dir=folder / "index", response_cache_mb=0))
    client = TestClient(app)
    for route in ROUTES:
        assert client.get(route).status_code == 200, route
        times = []
        for _ in range(20):
            started = time.perf_counter()
            answer = client.get(route)
            times.append(time.perf_counter() - started)
        print(f"  {statistics.median(times) * 1000:6.1f} ms  {len(answer.content):>7} B  {route}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--captures", type=Path, default=Path("/work/shared/data/ice-287g"))
    parser.add_argument(
        "--postgres",
        default=os.environ.get("KB_TEST_DATABASE_URL", ""),
        help="PostgreSQL server to measure too ('' to skip)",
    )
    args = parser.parse_args()
    files = sorted(args.captures.glob("*.xlsx"))
    if not files:
        raise SystemExit(f"no .xlsx captures in {args.captures}")
    with tempfile.TemporaryDirectory() as folder:
        print("SQLite")
        measure(f"sqlite:///{folder}/kb.sqlite3", files, Path(folder))
        if args.postgres:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(parse_url(args.postgres), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = parse_url(args.postgres).update_query_dict({"options": f"-csearch_path={schema}"})
            try:
                print("PostgreSQL")
                measure(url.render_as_string(hide_password=False), files, Path(folder))
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


if __name__ == "__main__":
    main()
