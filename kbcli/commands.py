"""The `kb` command line: validate, build, serve, export. Tests call main([...])."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import html
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO, TypeVar, get_args

from pydantic import ValidationError as PydanticValidationError
from sqlmodel import Session

from kb import __version__, models, store
from kb.build import build
from kb.db import check_connection, is_sqlite, make_engine, masked, sqlite_path
from kb.documents import render_document
from kb.draft import Adopter, DraftOptions, draft_policy
from kb.errors import DatabaseUnavailable, InvalidOptions, KBError, ValidationFailed
from kb.export import export_json
from kb.gaps import find_gaps, gaps_csv, gaps_markdown
from kb.loader import Progress, content_version, load_dataset
from kb.registry import import_captures
from kb.registry_check import check_287g
from kb.resolve import resolve
from kb.resolve_render import resolution_markdown, resolution_table
from kb.settings import Settings
from search_index.build import IndexReport, build_index, generation_version
from search_index.generations import current_generation
from search_index.search import SearchIndex


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
        sub.add_argument(
            "--index-dir",
            type=Path,
            metavar="DIR",
            help="search index folder (default: KB_INDEX_DIR or ./var/index)",
        )
        return sub

    validate = command(
        "validate", "Check every protocol file; print each problem as path:line: message."
    )
    validate.add_argument(
        "--check-287g",
        action="store_true",
        help="also compare what governs 287(g) in each place (from the database's build) with "
        "the latest capture of ICE's list in the registry, and print where they differ",
    )
    build_cmd = command(
        "build",
        "Validate, load everything into the database (all or nothing), then rebuild the search index.",
    )
    build_cmd.add_argument(
        "--no-index", action="store_true", help="leave the search index as it is"
    )
    command("index", "Rebuild the search index from the database and switch to it atomically.")
    search = command(
        "search", "Search provisions and background records (query language: docs/search.md)."
    )
    search.add_argument("query", nargs="+", help='words, "phrases", field:value filters, fuzzy~')
    search.add_argument(
        "--jurisdiction", action="append", default=[], help="only this jurisdiction id (repeatable)"
    )
    search.add_argument(
        "--topic", action="append", default=[], help="only this topic id (repeatable)"
    )
    search.add_argument("--facets", action="store_true", help="also print facet counts")
    search.add_argument("--sort", choices=["relevance", "date"], default="relevance")
    search.add_argument("--page", type=int, default=1)
    search.add_argument("--per-page", type=int, default=10)
    search.add_argument("--format", choices=["table", "json"], default="table")
    import_287g = command(
        "import-287g",
        "Load captures of ICE's 287(g) spreadsheets into the registry, oldest first (all or "
        "nothing; a file loaded before changes nothing; docs/registry.md).",
    )
    import_287g.add_argument(
        "files", nargs="+", type=Path, metavar="FILE.xlsx", help="participating or pending lists"
    )
    import_287g.add_argument(
        "--unmatched",
        type=Path,
        metavar="FILE",
        help="write the listed agencies not tied to a county or state here (CSV); without it, "
        "they are printed",
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
    draft = command(
        "draft",
        "Assemble a numbered, cited model policy from the model language (docs/drafting.md).",
    )
    draft.add_argument("--name", required=True, help='the adopting body, e.g. "Example County"')
    draft.add_argument("--level", choices=get_args(models.Level), required=True)
    draft.add_argument(
        "--jurisdiction",
        metavar="ID",
        help="the adopter's gazetteer id (e.g. us-tx-harris-county): clauses the laws above it "
        "forbid are left out, with the law and its penalties named",
    )
    draft.add_argument(
        "--choose",
        action="append",
        default=[],
        metavar="KEY=LEVEL",
        help="per question: strongest, omit or a level, e.g. max_hold_hours=48 (repeatable)",
    )
    draft.add_argument(
        "--start-from", metavar="PROTOCOL", help="start from this protocol's answers"
    )
    draft.add_argument(
        "--strengthen",
        action="store_true",
        help="with --start-from: raise weaker answers to the strongest",
    )
    draft.add_argument(
        "--pinned",
        action="append",
        default=[],
        metavar="PROVISION",
        help="provision id (repeatable)",
    )
    draft.add_argument(
        "--default", choices=["strongest", "omit"], help="for questions not otherwise chosen"
    )
    draft.add_argument(
        "--document",
        choices=["ordinance", "ask"],
        default="ordinance",
        help="the full ordinance (or act), or the one-page ask to the adopting body",
    )
    draft.add_argument(
        "--lang",
        choices=["en", "es"],
        default="en",
        help="the one-page ask's language (the ordinance is English; docs/i18n.md)",
    )
    draft.add_argument("--format", choices=["md", "html", "docx", "pdf"], default="md")
    draft.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="write here (needed for docx and pdf)"
    )
    gaps = command(
        "gaps",
        "Where other protocols protect more than this one (a protocol or a jurisdiction id).",
    )
    gaps.add_argument("subject", metavar="PROTOCOL", help="a protocol id, or a jurisdiction id")
    gaps.add_argument("--format", choices=["md", "csv", "json"], default="md")
    where = command(
        "resolve",
        "Which rules apply in a place (a state or county id from the gazetteer) on a date.",
    )
    where.add_argument("jurisdiction", metavar="JURISDICTION", help="e.g. us-tx-harris-county")
    where.add_argument(
        "--as-of", type=_day, metavar="YYYY-MM-DD", help="the date asked about (default: today)"
    )
    where.add_argument("--format", choices=["table", "json", "md"], default="table")
    return parser


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2016-01-01") from None


T = TypeVar("T")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return int(exc.code or 0)
    overrides = {
        k: v
        for k, v in {
            "protocols_dir": args.protocols,
            "database_url": args.database_url,
            "index_dir": args.index_dir,
        }.items()
        if v
    }
    for name in ("host", "port", "workers"):
        if getattr(args, name, None) is not None:
            overrides[name] = getattr(args, name)
    settings = Settings(**overrides)
    try:
        handler = {
            "validate": _validate,
            "build": _build,
            "index": _index,
            "search": _search,
            "serve": _serve,
            "export": _export,
            "draft": _draft,
            "gaps": _gaps,
            "import-287g": _import_287g,
            "resolve": _resolve,
        }[args.command]
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
    if getattr(_args, "check_287g", False):
        _check_287g(settings)
    return 0


def _check_287g(settings: Settings) -> None:
    """Notes, not errors: the practice a registry shows never makes content invalid."""
    url = settings.database_url
    if is_sqlite(url) and not sqlite_path(url).exists():
        print(f"287(g): no database at {masked(url)} (run `kb build`): nothing compared")
        return
    engine = make_engine(settings.database_url)
    try:
        check_connection(engine)
        with Session(engine) as db:
            capture, notes = check_287g(db)
    finally:
        engine.dispose()
    if capture is None:
        print(
            f"287(g): no capture of ICE's list in {masked(settings.database_url)}: nothing compared"
        )
        return
    barred = sum(n.kind == "agreement_where_barred" for n in notes)
    print(
        f"287(g): the build in {masked(settings.database_url)} beside ICE's list of "
        f"{capture.list_date.isoformat()} ({capture.file_name}): {barred} place(s) where a law "
        f"bars 287(g) and the list shows an agreement, {len(notes) - barred} where a law requires "
        "it and the list shows none"
    )
    for n in notes:
        cites = "; ".join(n.cites) or n.citation
        print(f"  {n.jurisdiction_id}: {n.text} [{n.protocol_id}, {cites}; {n.capture.file_name}]")


def _build(settings: Settings, args: argparse.Namespace) -> int:
    progress = TerminalProgress(sys.stderr)
    report = build(settings.protocols_dir, settings.database_url, progress)
    line = report.summary()
    if not getattr(args, "no_index", False):
        line += "; " + _build_index(settings, progress).summary()
    print(line)
    return 0


def _import_287g(settings: Settings, args: argparse.Namespace) -> int:
    report = import_captures(
        args.files, settings.database_url, TerminalProgress(sys.stderr), settings.protocols_dir
    )
    print(report.summary())
    if args.unmatched is not None:
        with open(args.unmatched, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["state", "agency", "agency_type", "county", "reason"])
            for u in report.unmatched:
                writer.writerow([u.state, u.agency, u.agency_type or "", u.county or "", u.reason])
        print(f"the {len(report.unmatched)} unmatched agencies are in {args.unmatched}")
    else:
        for u in report.unmatched:
            print(f"  unmatched: {u.line()}")
    return 0


def _build_index(settings: Settings, progress: TerminalProgress) -> IndexReport:
    engine = make_engine(settings.database_url)
    try:
        return build_index(engine, settings.index_dir, progress("indexing"))
    finally:
        engine.dispose()


def _index(settings: Settings, _args: argparse.Namespace) -> int:
    print(_build_index(settings, TerminalProgress(sys.stderr)).summary())
    return 0


def _search(settings: Settings, args: argparse.Namespace) -> int:
    text = " ".join(args.query)
    text += "".join(f" jurisdiction:{j}" for j in args.jurisdiction)
    text += "".join(f" topic:{t}" for t in args.topic)
    result = SearchIndex(settings.index_dir).search(
        text,
        page=args.page,
        per_page=args.per_page,
        sort=args.sort,
        with_facets=args.facets or args.format == "json",
    )
    if args.format == "json":
        print(json.dumps(dataclasses.asdict(result), indent=2, ensure_ascii=False))
        return 0
    print(
        f"{result.total} result(s) for {text!r}"
        + (f" (page {result.page})" if result.page > 1 else "")
    )
    if result.suggestion:
        print(f"did you mean: {result.suggestion}")
    for n, hit in enumerate(result.hits, start=(result.page - 1) * result.per_page + 1):
        where = f"{hit.jurisdiction_name}, {hit.title}" if hit.kind == "provision" else "background"
        print(f"{n:>3}. {hit.heading}  [{hit.cite}]  ({where})")
        print(f"     {hit.id}")
        print(f"     {_plain(hit.highlight)}")
    if args.facets:
        for name, counts in result.facets.items():
            print(f"{name}: " + ", ".join(f"{value} ({count})" for value, count in counts))
    return 0


def _plain(snippet: str) -> str:
    """Highlight markup for a terminal: matches in [brackets], entities decoded."""
    return html.unescape(snippet.replace("<mark>", "[").replace("</mark>", "]"))


def _needs_build(settings: Settings) -> bool:
    """True when there is no build, or it was made from other content than the files now."""
    url = settings.database_url
    if is_sqlite(url) and not sqlite_path(url).exists():
        return True
    engine = make_engine(url)
    try:
        check_connection(engine)  # an unreachable database stays an error
    finally:
        engine.dispose()
    try:
        built = _database_version(settings)
    except DatabaseUnavailable:  # reachable, but holds no build yet
        return True
    return built != content_version(settings.protocols_dir)


def _database_version(settings: Settings) -> str:
    engine = make_engine(settings.database_url)
    try:
        with store.session(engine) as db:
            return store.build_info(db).version
    finally:
        engine.dispose()


def _index_version(settings: Settings) -> str | None:
    return generation_version(current_generation(settings.index_dir))


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from api.server import serve

    if not args.no_build:
        if _needs_build(settings):
            _build(settings, args)
        elif _index_version(settings) != _database_version(settings):
            _index(settings, args)
    print(
        f"serving {masked(settings.database_url)} at http://{settings.host}:{settings.port}",
        flush=True,
    )
    serve(settings)
    return 0


def _read(settings: Settings, read: Callable[[Session], T]) -> T:
    """Run one read against the built database, naming it clearly when it cannot be reached."""
    engine = make_engine(settings.database_url)
    try:
        check_connection(engine)
        with store.session(engine) as db:
            return read(db)
    finally:
        engine.dispose()


def _export(settings: Settings, args: argparse.Namespace) -> int:
    text = _read(settings, export_json)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _draft(settings: Settings, args: argparse.Namespace) -> int:
    choices = {}
    for item in args.choose:
        key, sep, level = item.partition("=")
        if not sep or not key.strip() or not level.strip():
            raise InvalidOptions(f"--choose {item!r}: write KEY=LEVEL, e.g. max_hold_hours=48")
        choices[key.strip()] = level.strip()
    if args.format in ("docx", "pdf") and not args.output:
        raise InvalidOptions(f"a {args.format.upper()} draft is a file: give --output FILE")
    try:
        options = DraftOptions(
            adopter=Adopter(name=args.name, level=args.level, jurisdiction_id=args.jurisdiction),
            choices=choices,
            start_from=args.start_from,
            strengthen=args.strengthen,
            pinned=args.pinned,
            default=args.default,
            document=args.document,
        )
    except PydanticValidationError as exc:
        raise InvalidOptions("; ".join(str(e["msg"]) for e in exc.errors())) from exc
    lang = args.lang if options.document == "ask" else "en"
    translate = None
    if lang != "en":
        from api.localized import content  # the catalogue; only an ask in another language

        translate = content(lang)
    data = _read(
        settings,
        lambda db: render_document(
            db,
            draft_policy(db, options),
            options.document,
            args.format,
            office=settings.office_binary,
            timeout=settings.pdf_timeout,
            lang=lang,
            translate=translate,
        ),
    )
    if args.output:
        args.output.write_bytes(data)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(data.decode("utf-8"))
    return 0


def _gaps(settings: Settings, args: argparse.Namespace) -> int:
    report = _read(settings, lambda db: find_gaps(db, args.subject))
    if args.format == "csv":
        sys.stdout.write(gaps_csv(report))
    elif args.format == "json":
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        sys.stdout.write(gaps_markdown(report))
    return 0


def _resolve(settings: Settings, args: argparse.Namespace) -> int:
    resolution = _read(settings, lambda db: resolve(db, args.jurisdiction, args.as_of))
    if args.format == "json":
        sys.stdout.write(resolution.model_dump_json(indent=2, by_alias=True) + "\n")
    elif args.format == "md":
        sys.stdout.write(resolution_markdown(resolution))
    else:
        sys.stdout.write(resolution_table(resolution))
    return 0
