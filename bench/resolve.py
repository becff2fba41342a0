"""Benchmark: kb.resolve over every place in the gazetteer, in process.

    python bench/resolve.py [--rounds 3]

Builds protocols/ (3,193 places: every state, D.C. and county) into a temporary SQLite file,
then resolves every place once to warm the per-build memo and `--rounds` more times, each call
in its own session as a request would be, and prints p50/p95/max latency in milliseconds.
Target (docs/performance.md): p50 < 5 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb import store
from kb.build import build
from kb.db import make_engine
from kb.resolve import resolve

PROTOCOLS = Path(__file__).resolve().parent.parent / "protocols"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'kb.sqlite3'}"
        build(PROTOCOLS, url)
        engine = make_engine(url)
        with store.session(engine) as db:
            places = [j.id for j in store.list_jurisdictions(db)]
            started = time.perf_counter()
            resolve(db, places[0])
            first = time.perf_counter() - started
            for place in places:
                resolve(db, place)
        timings: list[float] = []
        for _ in range(args.rounds):
            for place in places:
                with store.session(engine) as db:
                    started = time.perf_counter()
                    resolve(db, place)
                    timings.append((time.perf_counter() - started) * 1000)
        engine.dispose()
    timings.sort()
    print(f"places: {len(places)}; calls timed: {len(timings)}")
    print(f"first call (builds the per-build index): {first * 1000:.1f} ms")
    print(
        f"resolve: p50 {statistics.median(timings):.2f} ms, "
        f"p95 {timings[int(len(timings) * 0.95)]:.2f} ms, max {timings[-1]:.2f} ms"
    )


if __name__ == "__main__":
    main()
