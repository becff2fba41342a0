"""Benchmark: the JSON API under HTTP load on loopback, beside a bare ASGI ceiling and Datasette.

    python bench/api.py [--duration 10] [--connections 16] [--rounds 3] [--postgres URL]
                        [--baseline DIR]

    make bench-api      # sets up Datasette in var/bench-venv first

Builds the real protocols/ folder into a temp SQLite database and search index, then starts, on
free 127.0.0.1 ports, one single-worker uvicorn process each for: our app (response cache on);
our app with the response cache off (the miss path); a raw ASGI app answering the exact bytes of
the compare answer (bench/ceiling.py, the local ceiling); Datasette serving the same SQLite file
immutable (`-i`); our app on PostgreSQL, cache on and off, in a schema of its own on --postgres;
and, with --baseline, the app of another source tree. Every server runs with the same uvicorn
settings (one worker, no access log). wrk then drives each target in turn, at fixed concurrency
for a fixed time after a short warm-up, for --rounds passes; the table gives median req/s, p50
and p99 latency and the body size, then the ratios (medians of per-round ratios) against the
targets (docs/performance.md): compare >= 50% of the ceiling's req/s, and our filtered protocol
list >= 2x Datasette's req/s on the equivalent query (the faster of its table view and SQL with
our join and order). Every server is stopped, and the schema dropped, at the end, also on error,
Ctrl-C or SIGTERM. The exit status is 0 whether or not a target is met; it is 2 when wrk or the
Datasette environment is missing (the message says how to get them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from kb import store
from kb.build import build
from kb.db import make_engine, masked, parse_url
from search_index.build import build_index

ROOT = Path(__file__).resolve().parent.parent

COMPARED = [
    "us-ca-santa-clara-county/board-policy-3-54",
    "us-il-cook-county/ordinance-11-o-73",
    "us-dc/law-19-194",
    "us-ca/ab-4-2013",
]
SEARCHED = "detainer"
JURISDICTION = "us-ca"
DATASETTE_PYTHON = ROOT / "var" / "bench-venv" / "bin" / "python"
STARTUP_SECONDS = 60

# The same rows, columns and order as GET /api/v1/protocols?jurisdiction_id=… (kb.store.list_protocols).
DATASETTE_SQL = (
    "select protocol.*, jurisdiction.name as jurisdiction_name from protocol"
    " join jurisdiction on jurisdiction.id = protocol.jurisdiction_id"
    " where protocol.jurisdiction_id = :jurisdiction"
    " order by jurisdiction.name, protocol.year, protocol.id"
)

# `datasette serve -i FILE` with uvicorn's access log off, as for every other target.
DATASETTE_SERVER = """
import asyncio, sys, uvicorn
from datasette.app import Datasette
ds = Datasette(immutables=[sys.argv[1]])
asyncio.run(ds.invoke_startup())
uvicorn.run(ds.app(), host="127.0.0.1", port=int(sys.argv[2]), workers=1, lifespan="on",
            log_level="warning", access_log=False)
"""

# wrk calls done() once at the end; print what we need as one JSON line.
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %f, "p50_us": %d, "p99_us": %d, "errors": %d, "non_2xx": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass
class Target:
    name: str
    url: str
    bytes: int = 0


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    failed: int
    requests: int = 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(
    command: list[str], env: dict[str, str], ready_path: str, cwd: Path = ROOT
) -> Iterator[str]:
    """Start `command` (its "{port}" replaced by a free loopback port) in its own process group,
    wait until `ready_path` answers 200, yield the base URL; always stop it."""
    with started(command, env, ready_path, cwd) as (base, _process):
        yield base


@contextmanager
def started(
    command: list[str], env: dict[str, str], ready_path: str, cwd: Path = ROOT
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """As `server`, yielding the process too."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [part.replace("{port}", str(port)) for part in command],
            cwd=cwd,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while fetch(base + ready_path) is None:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    output = log.read().decode(errors="replace")[-5000:]
                    raise SystemExit(f"{command[:4]} did not start:\n{output}")
                time.sleep(0.2)
            yield base, process
        finally:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


@contextmanager
def postgres_schema(admin_url: str) -> Iterator[str]:
    """A URL whose connections use a fresh schema, dropped afterwards."""
    schema = f"kbbench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(parse_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        raise SystemExit(
            f"cannot reach PostgreSQL at {masked(admin_url)} ({_first_line(exc)});"
            " pass --postgres= to leave out its rows"
        ) from exc
    try:
        url = parse_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _first_line(exc: BaseException) -> str:
    return str(getattr(exc, "orig", exc)).strip().split("\n", 1)[0]


def fetch(url: str) -> bytes | None:
    """The body of a 200 answer, or None (not up yet, or an error status)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body: bytes = response.read()
            return body if response.status == 200 else None
    except (urllib.error.URLError, OSError):
        return None


def run_wrk(url: str, seconds: float, connections: int, script: Path, *script_args: str) -> Result:
    """One wrk run (1 thread) of `script`, which prints its summary as one JSON line;
    `script_args` go to the script."""
    command = ["wrk", "--threads", "1", "--connections", str(connections)]
    command += ["--duration", f"{seconds:g}s", "--timeout", "5s", "--script", str(script), url]
    if script_args:
        command += ["--", *script_args]
    out = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    report = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    return Result(
        rps=report["requests"] / report["seconds"],
        p50_ms=report["p50_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
        failed=report["errors"] + report["non_2xx"],
        requests=report["requests"],
    )


def median_result(results: list[Result]) -> Result:
    return Result(
        rps=statistics.median(r.rps for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        failed=sum(r.failed for r in results),
    )


def require_tools(datasette_python: Path) -> None:
    """Say exactly what is missing and how to get it, then exit 2."""
    missing = []
    if shutil.which("wrk") is None:
        missing.append(
            "the wrk load generator: install it with `apt-get install -y wrk` (Debian/Ubuntu,"
            " as root)"
        )
    if not datasette_python.exists():
        missing.append(
            f"Datasette in {datasette_python.parent.parent}: `make bench-api` creates it"
            " (installed for the benchmark only, never into .venv)"
        )
    if missing:
        print("bench/api.py needs " + "\nand ".join(missing), file=sys.stderr)
        sys.exit(2)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per target")
    parser.add_argument("--warmup", type=int, default=2, help="seconds before each measure")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="passes over all targets (median)")
    parser.add_argument("--datasette-python", type=Path, default=DATASETTE_PYTHON)
    parser.add_argument(
        "--baseline",
        type=Path,
        help="also measure the app of another source tree (e.g. `git archive` of an older"
        " commit) on the same routes, in the same run",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("KB_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="PostgreSQL server for the compare rows on PostgreSQL, in a schema of their own"
        " ('' to skip)",
    )
    args = parser.parse_args()
    require_tools(args.datasette_python)

    # Ctrl-C and SIGTERM unwind the ExitStack below, which stops every server (SIGINT too when
    # started in the background, where it would otherwise be ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as servers:
        database = Path(tmp) / "kb.sqlite3"
        url = f"sqlite:///{database}"
        report = build(ROOT / "protocols", url)
        build_index(make_engine(url), Path(tmp) / "index")
        with store.session(make_engine(url)) as db:
            store.get_protocols(db, COMPARED)  # NotFound here if the content changed
        print(report.summary())
        script = Path(tmp) / "report.lua"
        script.write_text(WRK_REPORT)

        uvicorn = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--workers", "1"]
        quiet = ["--no-access-log", "--log-level", "warning"]
        ours_env = {"KB_DATABASE_URL": url, "KB_INDEX_DIR": str(Path(tmp) / "index")}
        app = [*uvicorn, *quiet, "--port", "{port}", "--factory", "api.app:create_app"]
        ours = servers.enter_context(server(app, ours_env, "/healthz"))
        uncached = servers.enter_context(
            server(app, {**ours_env, "KB_RESPONSE_CACHE_MB": "0"}, "/healthz")
        )

        compare_path = "/api/v1/compare?" + urlencode({"protocols": ",".join(COMPARED)})
        body = fetch(ours + compare_path)
        if body is None:
            raise SystemExit(f"GET {compare_path} did not answer 200")
        (Path(tmp) / "body.json").write_bytes(body)
        ceiling = servers.enter_context(
            server(
                [*uvicorn, *quiet, "--port", "{port}", "bench.ceiling:app"],
                {"BENCH_CEILING_BODY": str(Path(tmp) / "body.json")},
                "/",
            )
        )
        datasette = servers.enter_context(
            server(
                [str(args.datasette_python), "-c", DATASETTE_SERVER, str(database), "{port}"],
                {},
                "/-/versions.json",
            )
        )

        search_path = "/api/v1/search?" + urlencode({"q": SEARCHED})
        list_path = "/api/v1/protocols?" + urlencode({"jurisdiction_id": JURISDICTION})
        table_path = "/kb/protocol.json?" + urlencode(
            {"jurisdiction_id": JURISDICTION, "_shape": "array"}
        )
        sql_path = "/kb.json?" + urlencode(
            {"sql": DATASETTE_SQL, "jurisdiction": JURISDICTION, "_shape": "array"}
        )
        targets = {
            "ceiling": Target("bare ASGI, static body (ceiling)", ceiling + "/"),
            "compare": Target("compare, 4 protocols", ours + compare_path),
            "search": Target(f"search q={SEARCHED}", ours + search_path),
            "list": Target(f"protocols?jurisdiction={JURISDICTION}", ours + list_path),
            "ds_table": Target("Datasette table, same filter", datasette + table_path),
            "ds_sql": Target("Datasette SQL, same join + order", datasette + sql_path),
            "compare_miss": Target("compare, response cache off", uncached + compare_path),
            "search_miss": Target("search, response cache off", uncached + search_path),
            "list_miss": Target("protocols?…, response cache off", uncached + list_path),
        }
        if args.postgres:
            pg_url = servers.enter_context(postgres_schema(args.postgres))
            build(ROOT / "protocols", pg_url)
            pg_env = {"KB_DATABASE_URL": pg_url, "KB_INDEX_DIR": str(Path(tmp) / "index-pg")}
            on_pg = servers.enter_context(server(app, pg_env, "/healthz"))
            pg_miss = servers.enter_context(
                server(app, {**pg_env, "KB_RESPONSE_CACHE_MB": "0"}, "/healthz")
            )
            targets["compare_pg"] = Target("compare on PostgreSQL", on_pg + compare_path)
            targets["compare_pg_miss"] = Target(
                "compare on PostgreSQL, cache off", pg_miss + compare_path
            )
        if args.baseline:
            # Started from there, uvicorn imports its packages ahead of this checkout's.
            baseline = servers.enter_context(
                server(app, ours_env, "/healthz", cwd=args.baseline.resolve())
            )
            for key, path in (
                ("compare", compare_path),
                ("search", search_path),
                ("list", list_path),
            ):
                targets[f"{key}_baseline"] = Target(
                    f"{targets[key].name} (baseline)", baseline + path
                )
        for target in targets.values():
            answer = fetch(target.url)
            if answer is None:
                raise SystemExit(f"{target.name}: GET {target.url} did not answer 200")
            target.bytes = len(answer)
        print(
            f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores;"
            f" wrk: 1 thread, {args.connections} connections, {args.warmup:g} s warm-up +"
            f" {args.duration:g} s per target, {args.rounds} round(s)\n"
        )

        runs: dict[str, list[Result]] = {key: [] for key in targets}
        for _ in range(args.rounds):
            for key, target in targets.items():
                run_wrk(target.url, args.warmup, args.connections, script)
                runs[key].append(run_wrk(target.url, args.duration, args.connections, script))
                print(f"  measured {target.name}", file=sys.stderr, flush=True)

    results = {key: median_result(r) for key, r in runs.items()}
    print(f"{'target':<36} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'bytes':>7}")
    for key, target in targets.items():
        r = results[key]
        failed = f"  ({r.failed} failed!)" if r.failed else ""
        print(
            f"{target.name:<36} {r.rps:>8,.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {target.bytes:>7,}{failed}"
        )

    def ratio(key: str, *against: str) -> tuple[float, str]:
        """Median over rounds of the per-round ratio: each pair was measured minutes apart at
        most, which is steadier on a shared machine than a ratio of two medians."""
        per_round = [
            runs[key][i].rps / max(runs[other][i].rps for other in against)
            for i in range(args.rounds)
        ]
        spread = (
            f"  (rounds: {', '.join(f'{r:.2f}' for r in per_round)})" if args.rounds > 1 else ""
        )
        return statistics.median(per_round), spread

    datasette = ("ds_table", "ds_sql")  # whichever of its views is faster
    print()
    for name, (value, spread), target in (
        ("compare / ceiling", ratio("compare", "ceiling"), 0.5),
        ("protocols?… / Datasette", ratio("list", *datasette), 2.0),
    ):
        verdict = "PASS" if value >= target else "MISS"
        print(f"{name:<40} {value:>6.2f}x  target >= {target:g}x  {verdict}{spread}")
    print("for information" + (f" (baseline: {args.baseline})" if args.baseline else "") + ":")
    informative = [
        ("compare, cache off / ceiling", ratio("compare_miss", "ceiling")),
        ("protocols?…, cache off / Datasette", ratio("list_miss", *datasette)),
    ]
    if "compare_pg" in runs:
        informative.append(("compare on PostgreSQL / ceiling", ratio("compare_pg", "ceiling")))
    if args.baseline:
        informative += [
            (f"{key} / baseline", ratio(key, f"{key}_baseline"))
            for key in ("compare", "search", "list")
        ]
        informative += [
            (f"{key}, cache off / baseline", ratio(f"{key}_miss", f"{key}_baseline"))
            for key in ("compare", "search", "list")
        ]
    for name, (value, spread) in informative:
        print(f"  {name:<38} {value:>6.2f}x{spread}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; every server it started is stopped")
