"""Benchmark: the miss path (every URL new) under HTTP load on loopback, beside Datasette.

    python bench/miss.py [--duration 10] [--connections 16,50] [--rounds 3] [--postgres URL]
                         [--baseline DIR]

    make bench-miss     # sets up Datasette in var/bench-venv first

Builds the real protocols/ folder into a temp SQLite database and search index and starts, on
free 127.0.0.1 ports, one single-worker uvicorn process each (no access log) for: our app with
its response cache on, as deployed; Datasette serving the same SQLite file immutable (`-i`);
with --postgres, our app on PostgreSQL (--pg-workers processes); with --baseline, the app of
another source tree on the same file. wrk (1 thread) then sends each target a workload in which
no URL repeats within a run (a Lua script draws them and skips any already sent):

  ours       half /api/v1, half pages: /api/v1/search and /search with 1-3 random words of the
             real vocabulary (the words of every provision's heading and summary) on page 1 or 2,
             and /api/v1/compare and /compare of 2-6 random protocols in random order;
  Datasette  the equivalent, half JSON, half HTML: canned SQL with the varying words as
             parameters (provisions whose summary holds every word, with their protocol and
             jurisdiction, 20 a page, page 1 or 2), and the coded answers of 2-6 random
             protocols with their questions and supporting provisions (`ds sql`); and its table
             views filtered the same way (`summary__contains`, `protocol_id__in`; `ds table`).
             We are compared with the faster of the two.

Each target is measured at every --connections, after a --warmup of its own unique URLs, for at
most --duration seconds and --max-requests requests, --rounds times; the table gives medians and
the ratio ours / Datasette is the median of per-round ratios. Every server is stopped, and the
schema dropped, at the end, also on error, Ctrl-C or SIGTERM. Exit status 0 whether or not a
target is met; 2 when wrk or the Datasette environment is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import signal
import sqlite3
import statistics
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api import (
    DATASETTE_PYTHON,
    DATASETTE_SERVER,
    ROOT,
    Result,
    fetch,
    median_result,
    postgres_schema,
    require_tools,
    run_wrk,
    server,
)
from kb.build import build
from kb.db import make_engine
from search_index.build import build_index

PER_PAGE = 20
TARGET_RATIO = 2.0
TARGET_P99_MS = 200.0

# Provisions whose summary holds every word, with their protocol and jurisdiction: what a search
# hit shows. Unused words are sent empty ('%%' matches everything).
SEARCH_SQL = (
    "select p.id, p.protocol_id, p.cite, p.heading, p.summary, pr.title, pr.status, pr.year,"
    " j.name as jurisdiction_name from provision p"
    " join protocol pr on pr.id = p.protocol_id join jurisdiction j on j.id = pr.jurisdiction_id"
    " where p.summary like '%' || :a || '%' and p.summary like '%' || :b || '%'"
    " and p.summary like '%' || :c || '%'"
    f" order by p.protocol_id, p.position limit {PER_PAGE} offset :o"
)
# The coded answers of the named protocols with their questions and supporting provisions: what
# a comparison's cells show.
COMPARE_SQL = (
    "select a.protocol_id, a.key, k.question, k.topic_id, a.value, a.note, a.confidence,"
    " (select group_concat(v.cite || ' ' || v.heading, '; ') from coded_answer_provision cp"
    " join provision v on v.id = cp.provision_id"
    " where cp.protocol_id = a.protocol_id and cp.key = a.key) as provisions"
    " from coded_answer a join codebook_key k on k.key = a.key"
    " where instr(',' || :ids || ',', ',' || a.protocol_id || ',') > 0"
    " order by k.position, a.protocol_id"
)

# Shared by every workload: draw distinct items, never send a URL twice, stop after `limit`
# answers, and report as one JSON line.
LUA_COMMON = r"""
local seen = {}
local limit = 0
local answered = 0
function init(args)
  math.randomseed(tonumber(args[1]))
  limit = tonumber(args[2])
end
local function pick(list, n)
  local taken, out = {}, {}
  while #out < n do
    local i = math.random(#list)
    if not taken[i] then taken[i] = true; out[#out + 1] = list[i] end
  end
  return out
end
local counter = 0
request = function()
  local path
  repeat
    counter = counter + 1
    path = make_path(counter % 4)
  until not seen[path]
  seen[path] = true
  return wrk.format("GET", path)
end
response = function(status, headers, body)
  answered = answered + 1
  if answered >= limit then wrk.thread:stop() end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %f, "p50_us": %d, "p99_us": %d, "errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""

LUA_OURS = r"""
make_path = function(kind)
  if kind < 2 then
    local q = table.concat(pick(WORDS, math.random(1, 3)), "+")
    local prefix = kind == 0 and "/api/v1/search?q=" or "/search?q="
    return prefix .. q .. "&page=" .. math.random(1, 2)
  end
  local ids = table.concat(pick(PROTOCOLS, math.random(2, 6)), ",")
  return (kind == 2 and "/api/v1/compare?protocols=" or "/compare?protocols=") .. ids
end
"""

LUA_DATASETTE_SQL = r"""
make_path = function(kind)
  if kind < 2 then
    local w = pick(WORDS, math.random(1, 3))
    local args = "&a=" .. w[1] .. "&b=" .. (w[2] or "") .. "&c=" .. (w[3] or "")
      .. "&o=" .. ((math.random(1, 2) - 1) * PER_PAGE)
    return (kind == 0 and "/kb.json?_shape=array&sql=" or "/kb?sql=") .. SEARCH_SQL .. args
  end
  local ids = table.concat(pick(PROTOCOLS, math.random(2, 6)), ",")
  return (kind == 2 and "/kb.json?_shape=array&sql=" or "/kb?sql=") .. COMPARE_SQL .. "&ids=" .. ids
end
"""

LUA_DATASETTE_TABLE = r"""
local SORTS = {"id", "protocol_id", "position", "heading"}
make_path = function(kind)
  if kind < 2 then
    local word = pick(WORDS, 1)[1]
    local args = "?summary__contains=" .. word .. "&_size=" .. PER_PAGE
      .. "&_sort=" .. SORTS[math.random(#SORTS)]
    return (kind == 0 and "/kb/provision.json" or "/kb/provision") .. args
  end
  local ids = table.concat(pick(PROTOCOLS, math.random(2, 6)), ",")
  return (kind == 2 and "/kb/coded_answer.json" or "/kb/coded_answer")
    .. "?_size=max&protocol_id__in=" .. ids
end
"""


def lua_list(name: str, items: list[str]) -> str:
    return f"{name} = {{" + ", ".join(json.dumps(i) for i in items) + "}\n"


def vocabulary(database: Path) -> tuple[list[str], list[str]]:
    """The words of every provision's heading and summary (3+ letters), and every protocol id."""
    with sqlite3.connect(database) as conn:
        texts = [r[0] for r in conn.execute("select heading || ' ' || summary from provision")]
        ids = [r[0] for r in conn.execute("select id from protocol order by id")]
    words = sorted({w.lower() for t in texts for w in re.findall(r"[A-Za-z]{3,}", t)})
    return words, ids


def write_scripts(folder: Path, words: list[str], ids: list[str]) -> dict[str, Path]:
    data = lua_list("WORDS", words) + lua_list("PROTOCOLS", ids) + f"PER_PAGE = {PER_PAGE}\n"
    data += f"SEARCH_SQL = {json.dumps(quote(SEARCH_SQL, safe=''))}\n"
    data += f"COMPARE_SQL = {json.dumps(quote(COMPARE_SQL, safe=''))}\n"
    scripts = {}
    for name, body in (
        ("ours", LUA_OURS),
        ("ds_sql", LUA_DATASETTE_SQL),
        ("ds_table", LUA_DATASETTE_TABLE),
    ):
        scripts[name] = folder / f"{name}.lua"
        scripts[name].write_text(data + LUA_COMMON + body)
    return scripts


@dataclass
class Target:
    name: str
    base: str
    script: Path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per measure")
    parser.add_argument("--warmup", type=float, default=2, help="seconds before each measure")
    parser.add_argument("--connections", default="16,50", help="comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--max-requests", type=int, default=20_000, help="at most this many per measure"
    )
    parser.add_argument("--seed", type=int, default=1, help="first random seed")
    parser.add_argument("--datasette-python", type=Path, default=DATASETTE_PYTHON)
    parser.add_argument("--baseline", type=Path, help="also measure the app of another source tree")
    parser.add_argument(
        "--postgres",
        default="",
        help="also measure our app on this PostgreSQL server, in a schema of its own",
    )
    parser.add_argument("--pg-workers", type=int, default=1)
    args = parser.parse_args()
    require_tools(args.datasette_python)
    levels = [int(c) for c in args.connections.split(",")]

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    seeds = iter(range(args.seed * 1_000_000, sys.maxsize))
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as servers:
        database = Path(tmp) / "kb.sqlite3"
        url = f"sqlite:///{database}"
        report = build(ROOT / "protocols", url)
        build_index(make_engine(url), Path(tmp) / "index")
        print(report.summary())
        words, ids = vocabulary(database)
        scripts = write_scripts(Path(tmp), words, ids)

        uvicorn = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1"]
        quiet = ["--no-access-log", "--log-level", "warning", "--port", "{port}"]
        app = [*uvicorn, "--workers", "1", *quiet, "--factory", "api.app:create_app"]
        env = {"KB_DATABASE_URL": url, "KB_INDEX_DIR": str(Path(tmp) / "index")}
        targets = [
            Target(
                "ours, SQLite", servers.enter_context(server(app, env, "/healthz")), scripts["ours"]
            )
        ]
        datasette = servers.enter_context(
            server(
                [str(args.datasette_python), "-c", DATASETTE_SERVER, str(database), "{port}"],
                {},
                "/-/versions.json",
            )
        )
        targets += [
            Target("Datasette, SQL", datasette, scripts["ds_sql"]),
            Target("Datasette, table views", datasette, scripts["ds_table"]),
        ]
        if args.postgres:
            pg_url = servers.enter_context(postgres_schema(args.postgres))
            build(ROOT / "protocols", pg_url)
            build_index(make_engine(pg_url), Path(tmp) / "index-pg")
            pg_env = {"KB_DATABASE_URL": pg_url, "KB_INDEX_DIR": str(Path(tmp) / "index-pg")}
            pg_app = [*uvicorn, "--workers", str(args.pg_workers), *quiet]
            pg_app += ["--factory", "api.app:create_app"]
            base = servers.enter_context(server(pg_app, pg_env, "/healthz"))
            name = f"ours, PostgreSQL, {args.pg_workers} worker(s)"
            targets.append(Target(name, base, scripts["ours"]))
        if args.baseline:
            base = servers.enter_context(server(app, env, "/healthz", cwd=args.baseline.resolve()))
            targets.append(Target("baseline tree, SQLite", base, scripts["ours"]))
        check_paths(targets, words, ids)
        print(
            f"{platform.python_implementation()} {platform.python_version()},"
            f" {os.cpu_count()} cores; wrk: 1 thread, {args.warmup:g} s warm-up +"
            f" {args.duration:g} s (at most {args.max_requests:,} requests) per measure,"
            f" {args.rounds} round(s); every URL new within a measure\n"
        )
        runs: dict[tuple[str, int], list[Result]] = {}
        for _ in range(args.rounds):
            for connections in levels:
                for target in targets:
                    limit = str(args.max_requests)
                    run_wrk(
                        target.base, args.warmup, connections, target.script,
                        str(next(seeds)), limit,
                    )  # fmt: skip
                    result = run_wrk(
                        target.base, args.duration, connections, target.script,
                        str(next(seeds)), limit,
                    )  # fmt: skip
                    runs.setdefault((target.name, connections), []).append(result)
                    print(
                        f"  {target.name} at {connections}: {result.rps:,.0f} req/s,"
                        f" p99 {result.p99_ms:.0f} ms, {result.failed} failed",
                        file=sys.stderr,
                        flush=True,
                    )
    print_report(targets, levels, runs, args.rounds)


def check_paths(targets: list[Target], words: list[str], ids: list[str]) -> None:
    """One request of each kind answers 200 before anything is measured."""
    rng = random.Random(0)
    word, two = rng.choice(words), ",".join(rng.sample(ids, 2))
    sql = quote(SEARCH_SQL, safe="")
    paths = {
        "ours": [f"/api/v1/search?q={word}", f"/search?q={word}", f"/api/v1/compare?protocols={two}", f"/compare?protocols={two}"],
        "ds_sql": [f"/kb.json?_shape=array&sql={sql}&a={word}&b=&c=&o=0", f"/kb?sql={sql}&a={word}&b=&c=&o=0"],
        "ds_table": [f"/kb/provision.json?summary__contains={word}", f"/kb/coded_answer?protocol_id__in={two}"],
    }  # fmt: skip
    for target in targets:
        for path in paths[target.script.stem]:
            if fetch(target.base + path) is None:
                raise SystemExit(f"{target.name}: GET {path} did not answer 200")


def print_report(
    targets: list[Target], levels: list[int], runs: dict[tuple[str, int], list[Result]], rounds: int
) -> None:
    print(f"{'target':<34} {'conns':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for connections in levels:
        for target in targets:
            r = median_result(runs[(target.name, connections)])
            print(
                f"{target.name:<34} {connections:>5} {r.rps:>8,.0f} {r.p50_ms:>8.1f}"
                f" {r.p99_ms:>8.1f} {r.failed:>7}"
            )
    print()
    ours = targets[0].name
    for connections in levels:
        per_round = [
            runs[(ours, connections)][i].rps
            / max(runs[(t.name, connections)][i].rps for t in targets if "Datasette" in t.name)
            for i in range(rounds)
        ]
        ratio = statistics.median(per_round)
        p99 = median_result(runs[(ours, connections)]).p99_ms
        failed = sum(r.failed for r in runs[(ours, connections)])
        print(
            f"at {connections} connections: ours / Datasette {ratio:.2f}x"
            f" (rounds {', '.join(f'{x:.2f}' for x in per_round)}; target >= {TARGET_RATIO:g}x"
            f" {'PASS' if ratio >= TARGET_RATIO else 'MISS'}), p99 {p99:.0f} ms"
            + (
                f" (target < {TARGET_P99_MS:g} ms {'PASS' if p99 < TARGET_P99_MS else 'MISS'})"
                if connections == 50
                else ""
            )
            + f", {failed} errors"
        )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; every server it started is stopped")
