"""Benchmark: whoosh (our search_index) against SQLite FTS5 on the same 45,000 provisions.

    python bench/search.py [--jurisdictions 3000] [--queries 500] [--baseline TREE]

Builds the synthetic corpus of bench/build.py into SQLite, indexes it with search_index and with
an FTS5 table, then runs the same queries of each kind through both and prints p50/p95 latency
in milliseconds and the whoosh/FTS5 ratio. Targets (docs/performance.md): at 45k provisions,
p50 < 10 ms and p95 < 30 ms for every query kind; the index built in < 20 s and < 60 MB.

--baseline TREE (another checkout, e.g. `git archive <commit> | tar -x -C TREE`) also builds
the index of the same database with that tree's search_index, in a child process, and runs the
same queries through it: before and after side by side in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import PHRASES, WORDS, generate
from kb.build import write_dataset
from kb.db import make_engine
from kb.loader import load_valid_dataset
from search_index.build import build_index
from search_index.search import SearchIndex

FACET_COLUMNS = ("jurisdiction", "topic", "status", "level", "year")


def build_fts(database: Path) -> sqlite3.Connection:
    """An FTS5 table over the same provisions, with the same facet columns beside it."""
    conn = sqlite3.connect(database)
    conn.executescript(
        """
        DROP TABLE IF EXISTS bench_fts;
        CREATE VIRTUAL TABLE bench_fts USING fts5(
            heading, summary, topic, jurisdiction UNINDEXED, status UNINDEXED,
            level UNINDEXED, year UNINDEXED, tokenize = 'porter unicode61');
        INSERT INTO bench_fts (rowid, heading, summary, topic, jurisdiction, status, level, year)
        SELECT v.rowid, v.heading, v.summary,
               (SELECT group_concat(t.topic_id, ' ') FROM provision_topic t WHERE t.provision_id = v.id),
               p.jurisdiction_id, p.status, j.level, p.year
        FROM provision v JOIN protocol p ON p.id = v.protocol_id JOIN jurisdiction j ON j.id = p.jurisdiction_id;
        """
    )
    conn.commit()
    return conn


def fts_search(conn: sqlite3.Connection, match: str, facets: bool, highlights: bool) -> None:
    columns = "rowid, highlight(bench_fts, 1, '<mark>', '</mark>')" if highlights else "rowid"
    conn.execute(
        f"SELECT {columns} FROM bench_fts WHERE bench_fts MATCH ? ORDER BY rank LIMIT 10", (match,)
    ).fetchall()
    if facets:
        conn.execute("SELECT count(*) FROM bench_fts WHERE bench_fts MATCH ?", (match,)).fetchone()
        for column in FACET_COLUMNS:
            conn.execute(
                f"SELECT {column}, count(*) FROM bench_fts WHERE bench_fts MATCH ? GROUP BY {column}",
                (match,),
            ).fetchall()


def timed(run: Callable[[], object], repeat: int) -> list[float]:
    run()  # warm caches
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return times


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


BASELINE = """
import json, sys, time
base, database, index_dir, queries_file = sys.argv[1:5]
sys.path.insert(0, base)
from pathlib import Path
from kb.db import make_engine
from search_index.build import build_index
from search_index.search import SearchIndex
wall, cpu = time.perf_counter(), time.process_time()
report = build_index(make_engine(f"sqlite:///{database}"), Path(index_dir))
built = {"seconds": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
built["files"] = {p.name: p.stat().st_size for p in report.path.iterdir()}
index = SearchIndex(Path(index_dir))
times = {}
for kind, query, facets, highlights in json.load(open(queries_file)):
    run = lambda: index.search(query, per_page=10, with_facets=facets, with_highlights=highlights)
    run()
    started = time.perf_counter()
    run()
    times.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
print(json.dumps({"build": built, "times": times}))
"""


def run_baseline(tree: Path, database: Path, index_dir: Path, queries: list[Any]) -> Any:
    """Build and query with another tree's search_index (a child process: both trees name their
    packages alike)."""
    queries_file = index_dir.parent / "baseline-queries.json"
    queries_file.write_text(json.dumps(queries))
    env = {**os.environ, "PYTHONPATH": str(tree)}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            BASELINE,
            str(tree),
            str(database),
            str(index_dir),
            str(queries_file),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"the baseline failed:\n{result.stderr}")
    return json.loads(result.stdout.splitlines()[-1])


def print_build(label: str, seconds: float, cpu: float, files: dict[str, int]) -> None:
    total = sum(files.values())
    parts = ", ".join(
        f"{name} {size / 1e6:.1f}"
        for name, size in sorted(files.items(), key=lambda f: -f[1])
        if size > 100_000
    )
    print(f"{label:<10} {seconds:8.1f} s {cpu:8.1f} s {total / 1e6:8.1f} MB   ({parts})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jurisdictions", type=int, default=3000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument(
        "--baseline", type=Path, help="another tree to build and query, before ours"
    )
    args = parser.parse_args()
    rng = random.Random(7)
    topics = ["detainers", "jail-access", "reimbursement", "juveniles", "criminal-history"]

    with tempfile.TemporaryDirectory() as tmp:
        content = generate(Path(tmp) / "protocols", args.jurisdictions)
        database = Path(tmp) / "kb.sqlite3"
        write_dataset(load_valid_dataset(content), f"sqlite:///{database}")

        def words(n: int) -> list[str]:
            return [rng.choice(WORDS) for _ in range(n)]

        # (kind, our query, FTS5 match, facets, highlights)
        planned: list[tuple[str, str, str, bool, bool]] = []

        def add(
            kind: str, query: str, match: str, facets: bool = False, highlights: bool = False
        ) -> None:
            planned.append((kind, query, match, facets, highlights))

        for _ in range(args.queries):
            a, b = words(2)
            add("term", a, a)
            add("two-term AND", f"{a} {b}", f"{a} AND {b}")
            add("phrase (2 words)", f'"{a} {b}"', f'"{a} {b}"')
            c = rng.choice(WORDS)
            add("phrase (3 words)", f'"{a} {b} {c}"', f'"{a} {b} {c}"')
            typo = a[:-1] if len(a) > 4 else a
            add("fuzzy (FTS5: prefix)", f"{typo}~", f"{typo[:4]}*")
            topic = rng.choice(topics)
            add("filtered + facets", f"{a} topic:{topic}", f'{a} AND topic:"{topic}"', facets=True)
            add("term + facets", a, a, facets=True)
            add("term + highlights top 10", a, a, highlights=True)
        for phrase in PHRASES:
            add("cite as typed", phrase, '"' + phrase.replace('"', "") + '"')

        baseline = None
        if args.baseline is not None:
            baseline = run_baseline(
                args.baseline.resolve(),
                database,
                Path(tmp) / "baseline-index",
                [(kind, query, facets, hl) for kind, query, _m, facets, hl in planned],
            )
        started, cpu = time.perf_counter(), time.process_time()
        report = build_index(make_engine(f"sqlite:///{database}"), Path(tmp) / "index")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"\nindex of {report.documents} documents: {'':>3}wall      CPU     size")
        if baseline is not None:
            build = baseline["build"]
            print_build("baseline", build["seconds"], build["cpu"], build["files"])
        print_build(
            "this tree", seconds, cpu, {p.name: p.stat().st_size for p in report.path.iterdir()}
        )
        started = time.perf_counter()
        conn = build_fts(database)
        print(f"FTS5 table: built in {time.perf_counter() - started:.1f} s")
        index = SearchIndex(Path(tmp) / "index")

        kinds: dict[str, list[tuple[Callable[[], object], Callable[[], object]]]] = {}
        for kind, query, match, facets, highlights in planned:
            kinds.setdefault(kind, []).append(
                (
                    lambda q=query, f=facets, h=highlights: index.search(
                        q, per_page=10, with_facets=f, with_highlights=h
                    ),
                    lambda m=match, f=facets, h=highlights: fts_search(conn, m, f, h),
                )
            )

        before = " before p50    p95" if baseline is not None else ""
        print(
            f"\n{'kind':<26} {'n':>5} {'whoosh p50':>11} {'p95':>8} {'FTS5 p50':>9} {'p95':>8} {'ratio p50':>10}{before}"
        )
        for kind, runs in kinds.items():
            w_times: list[float] = []
            f_times: list[float] = []
            for whoosh_run, fts_run in runs:
                w_times += timed(whoosh_run, 1)
                f_times += timed(fts_run, 1)
            w50, w95 = percentile(w_times, 50), percentile(w_times, 95)
            f50, f95 = percentile(f_times, 50), percentile(f_times, 95)
            line = f"{kind:<26} {len(runs):>5} {w50:>9.2f}ms {w95:>6.2f}ms {f50:>7.2f}ms {f95:>6.2f}ms {w50 / f50:>9.2f}x"
            if baseline is not None:
                b_times = baseline["times"][kind]
                line += f" {percentile(b_times, 50):>7.2f}ms {percentile(b_times, 95):>6.2f}ms"
            print(line)


def peak_memory_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
    print(f"\npeak memory (RSS) of the benchmark process: {peak_memory_mib():,.0f} MiB")
