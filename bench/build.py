"""Benchmark: validate + build N synthetic jurisdictions x 15 provisions on SQLite and PostgreSQL.

    python bench/build.py [--jurisdictions 3000] [--postgres URL]

Prints seconds and provisions per second for each step. Target (docs/performance.md):
3,000 x 15 = 45,000 provisions built in under 60 s on SQLite.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text

from bench.corpus import PROVISIONS_PER_PROTOCOL, generate
from kb.build import write_dataset
from kb.db import parse_url
from kb.loader import load_valid_dataset


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jurisdictions", type=int, default=3000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("KB_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="PostgreSQL server to measure too ('' to skip)",
    )
    args = parser.parse_args()
    provisions = args.jurisdictions * PROVISIONS_PER_PROTOCOL
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        content = generate(Path(tmp) / "protocols", args.jurisdictions)
        print(
            f"generated {args.jurisdictions} protocols / {provisions} provisions in {time.perf_counter() - started:.1f} s"
        )

        started = time.perf_counter()
        dataset = load_valid_dataset(content)
        validate_s = time.perf_counter() - started
        row("validate", validate_s, provisions)

        started = time.perf_counter()
        write_dataset(dataset, f"sqlite:///{tmp}/kb.sqlite3")
        sqlite_s = time.perf_counter() - started
        row("load sqlite", sqlite_s, provisions)
        row("build sqlite (validate + load)", validate_s + sqlite_s, provisions)

        if args.postgres:
            schema = f"kbbench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(parse_url(args.postgres), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                url = parse_url(args.postgres).update_query_dict(
                    {"options": f"-csearch_path={schema}"}
                )
                started = time.perf_counter()
                write_dataset(dataset, url.render_as_string(hide_password=False))
                pg_s = time.perf_counter() - started
                row("load postgresql", pg_s, provisions)
                row("build postgresql (validate + load)", validate_s + pg_s, provisions)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS) {peak_mib:,.0f} MiB")


def row(label: str, seconds: float, provisions: int) -> None:
    print(f"{label:<36} {seconds:8.2f} s  {provisions / seconds:10,.0f} provisions/s")


if __name__ == "__main__":
    main()
