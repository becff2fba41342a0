"""Benchmark: the server's memory (RSS) over many unique requests: does it level off?

    python bench/memory.py [--requests 100000] [--piece 5000] [--connections 16]

    make bench-memory

Builds protocols/ into a temp SQLite database and index, starts our app (one uvicorn worker, no
access log, default settings: the response cache at its KB_RESPONSE_CACHE_MB bound) on a free
127.0.0.1 port, and sends it the unique-URL workload of bench/miss.py (searches of random words
and comparisons of random protocols, half API, half pages) in pieces of --piece seconds, each
piece a wrk run with its own seed (no URL repeats within a piece), until --requests were
answered (wrk stops sending at that count; a piece still lasts its seconds). After each piece it reads the
server's resident memory (VmRSS in /proc) and prints the curve: requests so far, RSS, and the
growth over the last quarter of the run. The server is stopped at the end, also on errors,
Ctrl-C or SIGTERM. Linux only (it reads /proc).
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api import ROOT, run_wrk, started
from bench.miss import vocabulary, write_scripts
from kb.build import build
from kb.db import make_engine
from search_index.build import build_index


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"no VmRSS for process {pid}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument(
        "--piece", type=float, default=20, help="seconds of load between two samples"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the server (e.g. KB_RESPONSE_CACHE_MB=16)",
    )
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "kb.sqlite3"
        url = f"sqlite:///{database}"
        build(ROOT / "protocols", url)
        build_index(make_engine(url), Path(tmp) / "index")
        scripts = write_scripts(Path(tmp), *vocabulary(database))
        command = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--workers", "1"]
        command += ["--no-access-log", "--log-level", "warning", "--port", "{port}"]
        command += ["--factory", "api.app:create_app"]
        env = {"KB_DATABASE_URL": url, "KB_INDEX_DIR": str(Path(tmp) / "index")}
        env |= dict(item.split("=", 1) for item in args.env)
        with started(command, env, "/healthz") as (base, process):
            samples = [(0, rss_mb(process.pid))]
            print(f"{'requests':>9} {'RSS MB':>8} {'req/s':>7} {'p99 ms':>7} {'errors':>6}")
            print(f"{0:>9,} {samples[0][1]:>8.1f}")
            sent, errors, piece = 0, 0, 0
            start = time.monotonic()
            while sent < args.requests:
                piece += 1
                result = run_wrk(
                    base, args.piece, args.connections, scripts["ours"],
                    str(args.seed * 1_000_000 + piece), str(args.requests - sent),
                )  # fmt: skip
                sent += result.requests
                errors += result.failed
                samples.append((sent, rss_mb(process.pid)))
                print(
                    f"{sent:>9,} {samples[-1][1]:>8.1f} {result.rps:>7,.0f}"
                    f" {result.p99_ms:>7.0f} {result.failed:>6}",
                    flush=True,
                )
        quarter = [mb for n, mb in samples if n >= sent * 3 / 4]
        print(
            f"\n{sent:,} requests in {time.monotonic() - start:.0f} s, {errors} errors;"
            f" RSS {samples[0][1]:.0f} MB at start, peak {max(mb for _, mb in samples):.0f} MB,"
            f" {samples[-1][1]:.0f} MB at the end;"
            f" over the last quarter {min(quarter):.0f}-{max(quarter):.0f} MB"
        )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; the server is stopped")
