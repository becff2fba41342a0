"""The `kb` command line: validate, build, serve, export. Tests call main([...])."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from kb import __version__, store
from kb.build import build
from kb.db import check_connection, is_sqlite, make_engine, masked, sqlite_path
from kb.errors import DatabaseUnavailable, KBError, ValidationFailed
from kb.export import export_json
from kb.loader import Progress, content_version, load_dataset
from kb.settings import Settings


class TerminalProgress:
    """`stage 1200/3000` redrawn in place, only when stderr is a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()

    def __call__(self, stage: str) -> Progress | None:
        if not self.enabled:
            return None
        last = [0.0]

        def report(done: int, total: int) -> None:
            now = time.monotonic()
            if done == total or now - last[0] > 0.1:
                last[0] = now
                end = "\n" if done == total else ""
                self.stream.write(f"\r  {stage} {done}/{total}{end}")
                self.stream.flush()

        return report


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kb",
        description="protocol-kb: compare protocols limiting local entanglement with immigration enforcement.",
    )
    parser.add_argument("--version", action="version", version=f"protocol-kb {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_, description=help_)
        sub.add_argument(
            "--protocols",
            type=Path,
            metavar="DIR",
            help="content folder (default: KB_PROTOCOLS_DIR or ./protocols)",
        )
        sub.add_argument(
            "--database-url",
            metavar="URL",
            help="database (default: KB_DATABASE_URL or sqlite:///./var/kb.sqlite3)",
        )
        return sub

    command("validate", "Check every protocol file; print each problem as path:line: message.")
    command(
        "build", "Validate, then load everything into the database in one step (all or nothing)."
    )
    serve = command(
        "serve", "Build if the database is missing or out of date, then serve the site and API."
    )
    serve.add_argument("--host", help="address to listen on (default: KB_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: KB_PORT or 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default: KB_WORKERS or 1)")
    serve.add_argument("--no-build", action="store_true", help="serve the database as it is")
    export = command("export", "Write the canonical dump of the database.")
    export.add_argument(
        "--format", choices=["json"], default="json", help="output format (default: json)"
    )
    export.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="write here instead of standard output"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return int(exc.code or 0)
    overrides = {
        k: v
        for k, v in {"protocols_dir": args.protocols, "database_url": args.database_url}.items()
        if v
    }
    for name in ("host", "port", "workers"):
        if getattr(args, name, None) is not None:
            overrides[name] = getattr(args, name)
    settings = Settings(**overrides)
    try:
        handler = {"validate": _validate, "build": _build, "serve": _serve, "export": _export}[
            args.command
        ]
        return handler(settings, args)
    except ValidationFailed as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"kb: {exc.message}; nothing was built", file=sys.stderr)
        return exc.exit_code
    except KBError as exc:
        print(f"kb: {exc.message}", file=sys.stderr)
        return exc.exit_code


def main_entry() -> None:
    sys.exit(main())


def _validate(settings: Settings, _args: argparse.Namespace) -> int:
    dataset, problems = load_dataset(
        settings.protocols_dir, TerminalProgress(sys.stderr)("validating")
    )
    if problems:
        raise ValidationFailed(problems)
    c = dataset.counts()
    print(
        f"ok: {c['protocols']} protocols, {c['provisions']} provisions, {c['coded_answers']} coded answers, "
        f"{c['jurisdictions']} jurisdictions, {c['context_records']} background records"
    )
    return 0


def _build(settings: Settings, _args: argparse.Namespace) -> int:
    report = build(settings.protocols_dir, settings.database_url, TerminalProgress(sys.stderr))
    print(report.summary())
    return 0


def _needs_build(settings: Settings) -> bool:
    """True when there is no build, or it was made from other content than the files now."""
    url = settings.database_url
    if is_sqlite(url) and not sqlite_path(url).exists():
        return True
    engine = make_engine(url)
    try:
        check_connection(engine)
        with store.session(engine) as db:
            built = store.build_info(db).version
    except DatabaseUnavailable:
        if not is_sqlite(url):
            check_connection(
                engine
            )  # unreachable stays an error; reachable but empty needs a build
        return True
    finally:
        engine.dispose()
    return built != content_version(settings.protocols_dir)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    if not args.no_build and _needs_build(settings):
        _build(settings, args)
    # Worker processes read their settings from the environment.
    os.environ.update(
        {
            "KB_DATABASE_URL": settings.database_url,
            "KB_PROTOCOLS_DIR": str(settings.protocols_dir),
            "KB_INDEX_DIR": str(settings.index_dir),
        }
    )
    print(
        f"serving {masked(settings.database_url)} at http://{settings.host}:{settings.port}",
        flush=True,
    )
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="info",
    )
    return 0


def _export(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings.database_url)
    try:
        check_connection(engine)
        with store.session(engine) as db:
            text = export_json(db)
    finally:
        engine.dispose()
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
