"""Benchmark: how well search ranks what advocates mean, over tests/search/relevance.yaml.

    python bench/relevance.py [--show-misses]

Builds protocols/ into a temporary SQLite file and index, runs every question of the relevance
set and prints nDCG@10 (each expected record is one unit of gain, log2 discount), MRR (the
reciprocal rank of the first expected record, 0 past 10) and how many questions have every
expected record in the top 3. Figures are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb.build import build
from kb.db import make_engine
from search_index.build import build_index
from search_index.search import SearchIndex

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "search" / "relevance.yaml"


def ndcg_at_10(ranked: list[str], expected: list[str]) -> float:
    gain = sum(1 / math.log2(i + 2) for i, hit in enumerate(ranked[:10]) if hit in expected)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(expected), 10)))
    return gain / ideal


def reciprocal_rank(ranked: list[str], expected: list[str]) -> float:
    return next((1 / (i + 1) for i, hit in enumerate(ranked[:10]) if hit in expected), 0.0)


def measure(index: SearchIndex, cases: list[dict[str, Any]], show: bool) -> None:
    ndcg = mrr = 0.0
    in_top3 = 0
    for case in cases:
        ranked = [h.id for h in index.search(case["query"], per_page=10, with_facets=False).hits]
        ndcg += ndcg_at_10(ranked, case["top3"])
        mrr += reciprocal_rank(ranked, case["top3"])
        answered = set(case["top3"]) <= set(ranked[:3])
        in_top3 += answered
        if show and not answered:
            print(f"miss: {case['query']!r}: expected {case['top3']}, got {ranked[:5]}")
    n = len(cases)
    print(f"questions: {n}")
    print(f"nDCG@10: {ndcg / n:.3f}")
    print(f"MRR: {mrr / n:.3f}")
    print(f"every expected record in the top 3: {in_top3} of {n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--cases", type=Path, default=CASES)
    args = parser.parse_args()
    cases = yaml.safe_load(args.cases.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'kb.sqlite3'}"
        build(ROOT / "protocols", url)
        engine = make_engine(url)
        build_index(engine, Path(tmp) / "index")
        engine.dispose()
        measure(SearchIndex(Path(tmp) / "index"), cases, args.show_misses)


if __name__ == "__main__":
    main()
