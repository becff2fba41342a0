"""The 287(g) registry: importing ICE's captures (all or nothing, idempotent), deriving agreements and their history, and reading them."""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
import io
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, delete, func, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from kb import store
from kb.db import (
    check_connection,
    is_sqlite,
    make_engine,
    masked,
    parse_url,
    sqlite_path,
    unavailable,
)
from kb.errors import BuildFailed, DatabaseUnavailable, InvalidParameter, NotFound
from kb.loader import Progress
from kb.registry_match import Agency, Gazetteer, Match, match_agency, read_overrides, read_places
from kb.registry_models import (
    REGISTRY_METADATA,
    REGISTRY_TABLES,
    AgreementDetail,
    AgreementPublic,
    AgreementStatus,
    CapturePublic,
    Period,
    agreement_table,
    capture_table,
    entry_table,
)
from kb.registry_sheet import STATE_CODES, Sheet, county_key, read_sheet
from kb.settings import Settings

REGISTRY_LOCK = 0x6B62
"""PostgreSQL advisory lock id, which kb.build takes too: an import and a build never interleave."""


@dataclass
class ImportReport:
    url: str
    files: int
    loaded: int
    already: int
    agreements: int
    active: int
    ended: int
    pending: int
    seconds: float
    unmatched: list[Unmatched] = field(default_factory=list)
    rematched: int = 0

    def summary(self) -> str:
        line = (
            f"read {self.files} file(s): {self.loaded} new capture(s), {self.already} already "
            f"loaded; the registry holds {self.agreements} agreements ({self.active} active, "
            f"{self.ended} ended) and {self.pending} pending requests, in {self.url} "
            f"({self.seconds:.2f} s)"
        )
        if self.rematched:
            line += f"; {self.rematched} agreement(s) tied to the gazetteer anew"
        return line + (
            f"; {len(self.unmatched)} listed agencies not tied to the gazetteer "
            "(docs/registry.md, Matching)"
        )


@dataclass(frozen=True)
class Unmatched:
    """An agency of an active agreement or pending request that no rule ties to a place."""

    state: str
    agency: str
    agency_type: str | None
    county: str | None
    reason: str

    def line(self) -> str:
        kind = (self.agency_type or "type not given").replace("_", " ")
        county = f", ICE's county {self.county!r}" if self.county else ""
        return f"{self.state} {self.agency} ({kind}{county}): {self.reason}"


def import_captures(
    paths: Sequence[Path],
    database_url: str,
    progress: Callable[[str], Progress | None] | None = None,
    protocols_dir: Path | None = None,
) -> ImportReport:
    """Read every file first (any error names file, row and column, and nothing is loaded), then
    add the captures not loaded yet, oldest first, derive the agreements again and tie each
    agency to the gazetteer of `protocols_dir` (KB_PROTOCOLS_DIR by default), in one
    transaction."""
    started = time.perf_counter()
    stage = progress or (lambda _name: None)
    places = read_places(protocols_dir or Settings().protocols_dir)
    overrides = read_overrides(protocols_dir or Settings().protocols_dir, places)
    reading = stage("reading")
    sheets: list[Sheet] = []
    for i, path in enumerate(paths, 1):
        sheets.append(read_sheet(path))
        if reading is not None:
            reading(i, len(paths))
    sheets.sort(key=lambda s: s.order)
    loading = stage("loading")
    with registry_transaction(database_url) as conn:
        known = set(conn.execute(select(capture_table.c.id)).scalars())
        new: dict[str, Sheet] = {}
        for sheet in sheets:
            if sheet.sha256 not in known:
                new.setdefault(sheet.sha256, sheet)  # the same file named twice loads once
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        for done, sheet in enumerate(new.values(), 1):
            _insert_capture(conn, sheet, now)
            if loading is not None:
                loading(done, len(new))
        if new:
            derive_agreements(conn)
        rematched = match_agreements(conn, places, overrides)
        if new or rematched:
            mark_registry_changed(conn)
        counts = _counts(conn)
        unmatched = _unmatched(conn)
    return ImportReport(
        url=masked(database_url),
        files=len(paths),
        loaded=len(new),
        already=len(sheets) - len(new),
        seconds=time.perf_counter() - started,
        unmatched=unmatched,
        rematched=rematched if not new else 0,
        **counts,
    )


def match_agreements(
    conn: Connection, places: Gazetteer, overrides: dict[tuple[str, str], Match]
) -> int:
    """Tie every agreement's agency to the gazetteer (kb.registry_match); write only the rows
    whose match changed, and return how many did."""
    t = agreement_table
    changed = 0
    for row in conn.execute(select(t)).all():
        m = match_agency(
            Agency(row.state, row.agency, row.agency_type, row.county), places, overrides
        )
        values = {
            "jurisdiction_id": m.jurisdiction_id, "county_fips": m.county_fips,
            "match_confidence": m.confidence, "match_note": m.note,
        }  # fmt: skip
        if any(getattr(row, k) != v for k, v in values.items()):
            conn.execute(t.update().where(t.c.id == row.id).values(**values))
            changed += 1
    return changed


def _unmatched(conn: Connection) -> list[Unmatched]:
    t = agreement_table
    rows = conn.execute(
        select(t.c.state, t.c.agency, t.c.agency_type, t.c.county, t.c.match_note)
        .where(t.c.match_confidence == "unmatched", t.c.ended_by.is_(None))
        .order_by(t.c.state, t.c.agency)
    ).all()
    return list(dict.fromkeys(Unmatched(*r) for r in rows))


def add_missing_columns(conn: Connection) -> None:
    """Registry tables made before a column was added get it (the registry is never rebuilt)."""
    inspector = inspect(conn)
    for table in REGISTRY_TABLES:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                kind = column.type.compile(dialect=conn.dialect)
                conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))


@contextmanager
def registry_transaction(database_url: str) -> Iterator[Connection]:
    """One transaction on the registry tables (created when missing). SQLite: the live file,
    under the lock a build holds while it carries the registry into its new file; PostgreSQL:
    under the build's advisory lock."""
    if is_sqlite(database_url):
        path = sqlite_path(database_url)
        path.parent.mkdir(parents=True, exist_ok=True)
        with registry_lock(path):
            engine = create_engine(f"sqlite:///{path}")
            try:
                with engine.begin() as conn:
                    REGISTRY_METADATA.create_all(conn)
                    add_missing_columns(conn)
                    yield conn
            except SQLAlchemyError as exc:
                raise BuildFailed(
                    f"importing into {path} failed, nothing was loaded: {_reason(exc)}"
                ) from exc
            finally:
                engine.dispose()
        return
    engine = make_engine(parse_url(database_url))
    check_connection(engine)
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": REGISTRY_LOCK})
            REGISTRY_METADATA.create_all(conn)
            add_missing_columns(conn)
            yield conn
    except DatabaseUnavailable:
        raise
    except SQLAlchemyError as exc:
        raise BuildFailed(
            f"importing into {masked(database_url)} failed and was rolled back, nothing was loaded: {_reason(exc)}"
        ) from exc
    finally:
        engine.dispose()


@contextmanager
def registry_lock(database: Path) -> Iterator[None]:
    """An exclusive lock beside a SQLite database: an import writes the live file, and a build
    copies the registry out of it and swaps in a new file; neither may run inside the other.
    flock is released by the kernel if the process dies, so no lock is ever left stale."""
    lock_path = database.with_name(f".{database.name}.registry-lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def carry_into_build(conn: Connection, live: Path | None) -> None:
    """Inside a content build's transaction: create the registry tables and copy the live
    database's registry into them (SQLite builds a new file; `live` is the file it replaces),
    then stamp the build with the registry's state."""
    REGISTRY_METADATA.create_all(conn)
    add_missing_columns(conn)
    if live is not None and live.exists():
        source = make_engine(f"sqlite:///{live}")  # read-only, typed as the tables say
        try:
            with source.connect() as read:
                present = set(inspect(read).get_table_names())
                for table in REGISTRY_TABLES:
                    if table.name not in present:
                        continue
                    # a live file from before a column was added: copy the columns it has
                    has = {c["name"] for c in inspect(read).get_columns(table.name)}
                    result = read.execute(select(*[c for c in table.columns if c.name in has]))
                    while chunk := result.mappings().fetchmany(5000):
                        conn.execute(table.insert(), [dict(row) for row in chunk])
        except SQLAlchemyError as exc:
            raise BuildFailed(
                f"carrying the 287(g) registry over from {live} failed, the previous database is untouched: {_reason(exc)}"
            ) from exc
        finally:
            source.dispose()
    mark_registry_changed(conn)


def mark_registry_changed(conn: Connection) -> None:
    """Record in the build row when the registry last changed (the newest capture's load time),
    so that the API's answer cache and ETags (api.build_watch) change with an import as they do
    with a build."""
    if not inspect(conn).has_table("build_info"):
        return  # no content build yet: the first build stamps it
    latest = conn.execute(select(func.max(capture_table.c.loaded_at))).scalar()
    conn.execute(text("UPDATE build_info SET registry_at = :at WHERE id = 1"), {"at": latest})


def _insert_capture(conn: Connection, sheet: Sheet, now: dt.datetime) -> None:
    conn.execute(
        capture_table.insert(),
        {
            "id": sheet.sha256, "list": sheet.list, "file_name": sheet.file_name,
            "list_date": sheet.list_date, "list_part": sheet.list_part,
            "retrieved_at": sheet.retrieved_at, "loaded_at": now, "rows": sheet.rows,
            "entries": len(sheet.entries), "position": 0,
        },
    )  # fmt: skip
    if sheet.entries:
        conn.execute(
            entry_table.insert(),
            [
                {
                    "capture_id": sheet.sha256, "agreement_id": aid, "row": e.row,
                    "rows": e.rows, "state": e.state, "agency": e.agency,
                    "agency_type": e.agency_type, "county": e.county, "model": e.model,
                    "signed": e.signed, "moa_url": e.moa_url, "addendum_url": e.addendum_url,
                }
                for aid, e in sheet.entries.items()
            ],
        )  # fmt: skip


def _capture_order(row: Any) -> tuple[Any, ...]:
    part = {"am": 0, "": 1, "pm": 2}.get(row.list_part, 1)
    return (row.list_date, part, row.retrieved_at or dt.datetime.min, row.file_name, row.id)


def derive_agreements(conn: Connection) -> None:
    """Every agreement and request again from all captures: first and last seen, and ended-by
    (the first later capture of its list that no longer shows it). Deriving from the whole
    history means the order files are imported in never changes the result."""
    captures = sorted(conn.execute(select(capture_table)).all(), key=_capture_order)
    by_list: dict[str, list[Any]] = defaultdict(list)
    for c in captures:
        by_list[c.list].append(c)
    index = {c.id: (c.list, i) for lst in by_list.values() for i, c in enumerate(lst)}
    for lst in by_list.values():
        for i, c in enumerate(lst):
            conn.execute(
                capture_table.update().where(capture_table.c.id == c.id).values(position=i)
            )
    seen: dict[str, list[tuple[int, Any]]] = defaultdict(list)
    for entry in conn.execute(select(entry_table)).all():
        seen[entry.agreement_id].append((index[entry.capture_id][1], entry))
    conn.execute(delete(agreement_table))
    rows = []
    for aid, sightings in seen.items():
        sightings.sort(key=lambda s: s[0])
        first_i, first = sightings[0]
        last_i, last = sightings[-1]
        lst = by_list[index[first.capture_id][0]]
        ended = lst[last_i + 1] if last_i + 1 < len(lst) else None
        agency_type = next((e.agency_type for _, e in reversed(sightings) if e.agency_type), None)
        rows.append(
            {
                "id": aid, "list": index[first.capture_id][0], "state": last.state,
                "agency": last.agency, "agency_type": agency_type, "county": last.county,
                "county_key": county_key(last.county), "model": last.model,
                "signed": last.signed, "moa_url": last.moa_url,
                "addendum_url": last.addendum_url, "first_seen": lst[first_i].list_date,
                "first_capture_id": first.capture_id, "last_seen": lst[last_i].list_date,
                "last_capture_id": last.capture_id,
                "ended_by": ended.list_date if ended else None,
                "ended_capture_id": ended.id if ended else None,
                "captures": len(sightings), "max_rows": max(e.rows for _, e in sightings),
                "jurisdiction_id": None, "match_confidence": None, "county_fips": None,
                "match_note": None,
            }
        )  # fmt: skip
    for start in range(0, len(rows), 5000):
        conn.execute(agreement_table.insert(), rows[start : start + 5000])


def _counts(conn: Connection) -> dict[str, int]:
    counts = {"agreements": 0, "active": 0, "ended": 0, "pending": 0}
    for row in conn.execute(select(agreement_table.c.list, agreement_table.c.ended_by)):
        if row.list == "participating":
            counts["agreements"] += 1
            counts["active" if row.ended_by is None else "ended"] += 1
        elif row.ended_by is None:
            counts["pending"] += 1
    return counts


def _reason(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip()
    return text_.splitlines()[0] if text_ else type(exc).__name__


# --- Reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementFilter:
    """What `GET /api/v1/287g/agreements` and its CSV take; None is "any"."""

    state: str | None = None
    county: str | None = None
    model: str | None = None
    agency_type: str | None = None
    active_on: dt.date | None = None
    status: AgreementStatus | None = None
    list: str | None = None
    county_fips: str | None = None
    jurisdiction: str | None = None
    match_confidence: str | None = None


def _status(row: Any) -> AgreementStatus:
    if row.ended_by is not None:
        return "ended"
    return "active" if row.list == "participating" else "pending"


def _public(row: Any) -> dict[str, Any]:
    fields = {name: getattr(row, name) for name in AgreementPublic.model_fields if name != "status"}
    return {**fields, "status": _status(row)}


def _read(db: Session, query: Any) -> list[Any]:
    try:
        return list(db.connection().execute(query).all())
    except SQLAlchemyError as exc:
        raise unavailable(exc, db.get_bind().engine.url) from exc


def list_agreements(db: Session, where: AgreementFilter) -> list[AgreementPublic]:
    """Agreements and requests by state, agency, model and signing date; InvalidParameter
    names a filter value that is not one the registry can hold or holds."""
    t = agreement_table
    query = select(t).order_by(t.c.state, t.c.agency, t.c.model, t.c.signed, t.c.id)
    if where.state is not None:
        state = where.state.upper()
        if state not in STATE_CODES:
            raise InvalidParameter(
                f"unknown state {where.state!r}: use a two-letter USPS code such as TX",
                field="state",
            )
        query = query.where(t.c.state == state)
    if where.county is not None:
        key = county_key(" ".join(where.county.split()))
        within = t.c.county_key == key
        known = select(t.c.id).where(within).limit(1)
        if where.state is not None:
            known = known.where(t.c.state == where.state.upper())
        if not _read(db, known):
            place = f" in {where.state.upper()}" if where.state else ""
            raise InvalidParameter(
                f"no agreement or request in the registry names the county {where.county!r}{place}",
                field="county",
            )
        query = query.where(within)
    if where.county_fips is not None:
        query = query.where(t.c.county_fips == where.county_fips)
    if where.jurisdiction is not None:
        query = query.where(within_place(db, where.jurisdiction))
    if where.match_confidence is not None:
        query = query.where(t.c.match_confidence == where.match_confidence)
    if where.model is not None:
        query = query.where(t.c.model == where.model)
    if where.agency_type is not None:
        query = query.where(t.c.agency_type == where.agency_type)
    if where.list is not None:
        query = query.where(t.c.list == where.list)
    if where.status == "active":
        query = query.where(t.c.list == "participating", t.c.ended_by.is_(None))
    elif where.status == "pending":
        query = query.where(t.c.list == "pending", t.c.ended_by.is_(None))
    elif where.status == "ended":
        query = query.where(t.c.ended_by.is_not(None))
    if where.active_on is not None:
        # Active on a day: on the participating list, signed or already listed by then (a
        # listed agreement is in force whatever its typed date says: ICE wrote 5025 once), and
        # not yet missing from a capture (docs/registry.md: what this can and cannot mean).
        on = where.active_on
        query = query.where(
            t.c.list == "participating",
            (t.c.signed <= on) | (t.c.first_seen <= on),
            t.c.ended_by.is_(None) | (t.c.ended_by > on),
        )
    return [AgreementPublic.model_validate(_public(r)) for r in _read(db, query)]


def within_place(db: Session, jurisdiction_id: str) -> Any:
    """The agreements of agencies in a place: a state's are every one in it (matched or not,
    since ICE gives the state); a county's are those tied to it or to a city in it (by FIPS); a
    city's are those tied to it. InvalidParameter for an id the gazetteer does not hold."""
    t = agreement_table
    try:
        place = store.get_jurisdiction(db, jurisdiction_id)
    except NotFound:
        raise InvalidParameter(
            f"no jurisdiction with id {jurisdiction_id!r}: use a gazetteer id such as "
            "us-tx-harris-county or us-fl",
            field="jurisdiction",
        ) from None
    if place.level in ("state", "district") and place.parent_id is None:
        return t.c.state == place.state
    if place.fips and len(place.fips) == 5:
        return (t.c.jurisdiction_id == place.id) | (t.c.county_fips == place.fips)
    return t.c.jurisdiction_id == place.id


def get_agreement(db: Session, agreement_id: str) -> AgreementDetail:
    row = next(
        iter(_read(db, select(agreement_table).where(agreement_table.c.id == agreement_id))), None
    )
    if row is None:
        raise NotFound(f"no 287(g) agreement or request with id {agreement_id!r}")
    captures = sorted(
        _read(db, select(capture_table).where(capture_table.c.list == row.list)),
        key=_capture_order,
    )
    shown = {
        r.capture_id
        for r in _read(
            db, select(entry_table.c.capture_id).where(entry_table.c.agreement_id == agreement_id)
        )
    }
    periods: list[Period] = []
    run: list[Any] = []
    for c in [*captures, None]:
        if c is not None and c.id in shown:
            run.append(c)
            continue
        if run:
            ended = c.list_date if c is not None else None
            periods.append(
                Period(first_seen=run[0].list_date, last_seen=run[-1].list_date, ended_by=ended)
            )
            run = []
    return AgreementDetail.model_validate(
        {
            **_public(row),
            "periods": periods,
            "capture_ids": [c.id for c in captures if c.id in shown],
            "max_rows": row.max_rows,
        }
    )


def list_captures(db: Session) -> list[CapturePublic]:
    """Every capture, oldest first (by ICE's date, then morning before afternoon)."""
    rows = sorted(_read(db, select(capture_table)), key=_capture_order)
    return [
        CapturePublic(
            id=r.id, list=r.list, file_name=r.file_name, list_date=r.list_date,
            list_part=r.list_part, rows=r.rows,
            # stored naive (SQLite keeps no zone), always UTC: said so in the answer
            retrieved_at=r.retrieved_at.replace(tzinfo=dt.UTC) if r.retrieved_at else None,
            entries=r.entries, duplicate_rows=r.rows - r.entries,
        )
        for r in rows
    ]  # fmt: skip


CSV_COLUMNS = (
    "id", "list", "status", "state", "agency", "agency_type", "county", "model", "signed",
    "first_seen", "last_seen", "ended_by", "captures", "moa_url", "addendum_url",
    "jurisdiction_id", "county_fips", "match_confidence",
)  # fmt: skip


def agreements_csv(agreements: Sequence[AgreementPublic]) -> str:
    """UTF-8 with a byte-order mark (spreadsheets then read accents right), one row each."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for a in agreements:
        values = a.model_dump(mode="json")
        writer.writerow(["" if values[c] is None else values[c] for c in CSV_COLUMNS])
    return out.getvalue()
