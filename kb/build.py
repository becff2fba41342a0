"""Writing a validated Dataset into the store, all or nothing (SQLite file swap, PostgreSQL transaction)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, create_engine, delete, event, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import SQLModel

from kb import models
from kb.codebook import value_text
from kb.db import check_connection, is_sqlite, make_engine, masked, parse_url, sqlite_path
from kb.errors import BuildFailed, DatabaseUnavailable
from kb.loader import Progress, load_valid_dataset
from kb.records import Dataset
from kb.registry import REGISTRY_LOCK, carry_into_build, registry_lock

Rows = dict[Table, list[dict[str, Any]]]
_BUILD_LOCK = REGISTRY_LOCK  # PostgreSQL advisory lock: one build or import at a time per database


@dataclass
class BuildReport:
    url: str
    version: str
    counts: dict[str, int]
    seconds: float

    def summary(self) -> str:
        c = self.counts
        return (
            f"built {c['protocols']} protocols, {c['provisions']} provisions, "
            f"{c['coded_answers']} coded answers, {c['jurisdictions']} jurisdictions "
            f"into {self.url} in {self.seconds:.2f} s"
        )


def build(
    protocols_dir: Path,
    database_url: str,
    progress: Callable[[str], Progress | None] | None = None,
) -> BuildReport:
    """Validate the content, then replace the database's contents with it in one step.

    `progress(stage)` may return a callback `(done, total)` for that stage.
    """
    started = time.perf_counter()
    stage = progress or (lambda _name: None)
    dataset = load_valid_dataset(protocols_dir, stage("validating"))
    write_dataset(dataset, database_url, stage("loading"))
    return BuildReport(
        url=masked(database_url),
        version=dataset.version,
        counts=dataset.counts(),
        seconds=time.perf_counter() - started,
    )


def write_dataset(dataset: Dataset, database_url: str, progress: Progress | None = None) -> None:
    rows = rows_from_dataset(dataset)
    if is_sqlite(database_url):
        _write_sqlite(rows, sqlite_path(database_url), progress)
    else:
        _write_postgres(rows, database_url, progress)


def rows_from_dataset(dataset: Dataset) -> Rows:
    """Every row of every table, parents before children."""
    t = {model: _table(model) for model in _MODELS}
    rows: Rows = {table: [] for table in SQLModel.metadata.sorted_tables}
    depth = {j.id: j.parent for j in dataset.jurisdictions}
    for j in sorted(dataset.jurisdictions, key=lambda j: _depth(j.id, depth)):
        rows[t[models.Jurisdiction]].append(
            {
                "id": j.id,
                "name": j.name,
                "level": j.level,
                "state": j.state,
                "parent_id": j.parent,
                "fips": j.fips,
            }
        )
    for i, topic in enumerate(dataset.topics):
        rows[t[models.Topic]].append(
            {"id": topic.id, "name": topic.name, "definition": topic.definition, "position": i}
        )
    for i, spec in enumerate(dataset.codebook):
        rows[t[models.CodebookKey]].append(
            {
                "key": spec.key, "type": spec.type, "topic_id": spec.topic,
                "question": spec.question, "values": list(spec.values),
                "labels": spec.labels, "unit": spec.unit, "position": i,
            }
        )  # fmt: skip
    for context in dataset.contexts:
        rows[t[models.ContextRecord]].append(
            {
                "id": context.id, "title": context.title, "kind": context.kind,
                "date": context.date, "citation": context.citation, "summary": context.summary,
                "verified_on": context.verified_on, "confidence": context.confidence,
                "verified_note": context.verified_note, "source_path": context.path,
            }
        )  # fmt: skip
        rows[t[models.Source]].extend(_source_rows(context.id, context.sources))
    for p in dataset.protocols:
        rows[t[models.Protocol]].append(
            {
                "id": p.id, "jurisdiction_id": p.jurisdiction, "title": p.title,
                "short_name": p.short_name, "citation": p.citation, "kind": p.kind, "body": p.body, "status": p.status,
                "year": p.year, "dates": p.dates, "overview": p.overview,
                "verified_on": p.verified_on, "confidence": p.confidence,
                "verified_note": p.verified_note, "source_path": p.path, "binds": p.binds,
                "penalties": [asdict(x) for x in p.penalties],
                "litigation": [asdict(x) for x in p.litigation],
                "listings": [asdict(x) for x in p.listings],
            }
        )  # fmt: skip
        rows[t[models.ProtocolLink]].extend(
            {"predecessor_id": p.id, "successor_id": s} for s in p.successors
        )
        rows[t[models.Source]].extend(_source_rows(p.id, p.sources))
        for i, v in enumerate(p.provisions):
            pid = p.provision_id(v.anchor)
            rows[t[models.Provision]].append(
                {
                    "id": pid, "protocol_id": p.id, "anchor": v.anchor, "heading": v.heading,
                    "cite": v.cite, "summary": v.summary, "confidence": v.confidence,
                    "key_terms": [{"text": k.text, "cite": k.cite} for k in v.key_terms],
                    "position": i, "line": v.line,
                }
            )  # fmt: skip
            rows[t[models.ProvisionTopic]].extend(
                {"provision_id": pid, "topic_id": x, "position": n} for n, x in enumerate(v.topics)
            )
            rows[t[models.ProvisionSource]].extend(
                {"provision_id": pid, "source_id": f"{p.id}#{s}", "position": n}
                for n, s in enumerate(p.provision_sources(v))
            )
            rows[t[models.ProvisionContext]].extend(
                {"provision_id": pid, "context_id": c, "position": n}
                for n, c in enumerate(v.context)
            )
        for key, answer in p.coding.items():
            spec = dataset.codebook[key]
            rows[t[models.CodedAnswer]].append(
                {
                    "protocol_id": p.id, "key": key, "value": value_text(answer.value),
                    "rank": spec.rank(answer.value), "note": answer.note,
                    "confidence": answer.confidence, "effect": answer.effect,
                }
            )  # fmt: skip
            rows[t[models.CodedAnswerProvision]].extend(
                {"protocol_id": p.id, "key": key, "provision_id": p.provision_id(a)}
                for a in answer.provisions
            )
    order = list(dataset.codebook.keys)
    groups = sorted(dataset.models.keys, key=lambda g: order.index(g.key) if g.key in order else 0)
    placed = [(group, level) for group in groups for level in group.levels]
    for position, (group, level) in enumerate(placed):
        spec = dataset.codebook[group.key]
        rows[t[models.ModelProvision]].append(
            {
                "id": f"{group.key}/{value_text(level.value)}", "key": group.key,
                "value": value_text(level.value), "rank": spec.rank(level.value),
                "heading": group.heading, "title": level.title, "summary": level.summary,
                "text": level.text, "note": level.note, "drawn_from": level.drawn_from,
                "terms": level.terms, "context": level.context, "position": position,
                "source_path": group.path,
            }
        )  # fmt: skip
    for position, term in enumerate(dataset.models.terms):
        rows[t[models.ModelTerm]].append(
            {
                "id": term.id, "term": term.term, "definition": term.definition,
                "context": term.context, "position": position,
            }
        )  # fmt: skip
    for position, finding in enumerate(dataset.models.findings):
        rows[t[models.ModelFinding]].append(
            {
                "id": position,
                "context_id": finding.context,
                "text": finding.text,
                "always": finding.always,
            }
        )
    rows[t[models.BuildInfo]].append(
        {
            "id": 1, "built_at": datetime.now(UTC), "version": dataset.version,
            "schema_version": models.SCHEMA_VERSION, "counts": dataset.counts(),
        }
    )  # fmt: skip
    return rows


_MODELS = (
    models.Jurisdiction, models.Topic, models.CodebookKey, models.Protocol, models.ProtocolLink,
    models.ContextRecord, models.Source, models.Provision, models.ProvisionTopic,
    models.ProvisionSource, models.ProvisionContext, models.CodedAnswer,
    models.CodedAnswerProvision, models.ModelProvision, models.ModelTerm, models.ModelFinding,
    models.BuildInfo,
)  # fmt: skip


def _table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


def _depth(jid: str, parents: dict[str, str | None]) -> int:
    depth, seen = 0, {jid}
    while (parent := parents.get(jid)) and parent not in seen:
        depth, jid = depth + 1, parent
        seen.add(parent)
    return depth


def _source_rows(owner: str, sources: list[Any]) -> Iterator[dict[str, Any]]:
    for i, s in enumerate(sources):
        yield {
            "id": f"{owner}#{s.id}", "owner_id": owner, "position": i, "key": s.id,
            "url": s.url, "title": s.title, "kind": s.kind, "accessed": s.accessed,
            "publisher": s.publisher, "date": s.date, "supports": s.supports, "note": s.note,
        }  # fmt: skip


def _insert_all(conn: Connection, rows: Rows, progress: Progress | None) -> None:
    total = sum(len(r) for r in rows.values())
    done = 0
    for table, table_rows in rows.items():
        for start in range(0, len(table_rows), 5000):
            chunk = table_rows[start : start + 5000]
            conn.execute(table.insert(), chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)


def _write_sqlite(rows: Rows, path: Path, progress: Progress | None) -> None:
    """Build a new file beside the live one and swap it in: readers never see a half build."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.building-{os.getpid()}")
    temp.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{temp}")
    event.listen(engine, "connect", _sqlite_build_pragmas)
    try:
        SQLModel.metadata.create_all(engine)
        # The 287(g) registry is not content: it is carried over from the live file, under the
        # lock an import holds, until the new file is in place (docs/registry.md).
        with registry_lock(path):
            with engine.begin() as conn:
                _insert_all(conn, rows, progress)
                carry_into_build(conn, path)
            engine.dispose()
            os.replace(temp, path)
    except (SQLAlchemyError, OSError) as exc:
        engine.dispose()
        raise BuildFailed(
            f"writing {path} failed, the previous database is untouched: {_reason(exc)}"
        ) from exc
    finally:
        with suppress(OSError):
            temp.unlink(missing_ok=True)


def _sqlite_build_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # The file is private until os.replace, so it needs no journal; a crash leaves only a temp file.
    cursor.execute("PRAGMA journal_mode=OFF")
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


def _write_postgres(rows: Rows, database_url: str, progress: Progress | None) -> None:
    """Replace every row in one transaction: readers see the old data until the commit."""
    engine = make_engine(parse_url(database_url))
    check_connection(engine)
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _BUILD_LOCK})
            if _schema_version(conn) != models.SCHEMA_VERSION:
                SQLModel.metadata.drop_all(conn)
                SQLModel.metadata.create_all(conn)
            else:
                for table in reversed(SQLModel.metadata.sorted_tables):
                    conn.execute(delete(table))
            _insert_all(conn, rows, progress)
            carry_into_build(conn, None)  # the registry's tables are never dropped or emptied
    except DatabaseUnavailable:
        raise
    except SQLAlchemyError as exc:
        raise BuildFailed(
            f"loading {masked(database_url)} failed and was rolled back, the previous data is untouched: {_reason(exc)}"
        ) from exc
    finally:
        engine.dispose()


def _schema_version(conn: Connection) -> int | None:
    if not inspect(conn).has_table("build_info"):
        return None
    table = models.BuildInfo.__table__  # type: ignore[attr-defined]
    return conn.execute(select(table.c.schema_version)).scalar()


def _reason(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip()
    return text_.splitlines()[0] if text_ else type(exc).__name__
