"""Reading the store: the queries every surface (CLI, API, HTML views) shares."""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, func, or_, true
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from kb import models
from kb.codebook import BOOLEAN, CHOICE, INTEGER, Codebook, CodebookKey, value_from_text, value_text
from kb.db import NO_BUILD, masked, unavailable
from kb.errors import InvalidParameter, NoBuild, NotFound, UnknownParameter

MEMO_BUILDS = 2
"""Builds whose reads stay memoised per process: the current one and the one before it."""

_memo: OrderedDict[tuple[str, str], dict[Hashable, Any]] = OrderedDict()
_memo_lock = threading.Lock()
_BUILD_READ = "kb.store.build_info"
_MEMO_READ = "kb.store.memo"
_BUILD_ROW = select(
    models.BuildInfo.built_at,
    models.BuildInfo.version,
    models.BuildInfo.counts,
    models.BuildInfo.registry_at,
).where(models.BuildInfo.id == 1)


def session(engine: Engine) -> Session:
    """A session for reading. On PostgreSQL it reads one snapshot (REPEATABLE READ): a request's
    queries, the build row among them, never straddle a build's commit, so the stamp in an answer
    and the memo below always match the data read."""
    if engine.dialect.name == "postgresql":
        return Session(engine.execution_options(isolation_level="REPEATABLE READ"))
    return Session(engine)


def _build_memo(db: Session) -> dict[Hashable, Any]:
    """Reads that depend only on the build, kept per (database, build version).

    A build changes the version (a digest of the content), so a new build is never answered from
    an old one's memo. What it holds is shared between requests: treat it as read-only."""
    version = build_info(db).version  # after the first, from the session
    known = db.info.get(_MEMO_READ)
    if known is not None and known[0] == version:
        return cast(dict[Hashable, Any], known[1])
    where = (db.get_bind().engine.url.render_as_string(hide_password=True), version)
    with _memo_lock:
        memo = _memo.get(where)
        if memo is None:
            memo = _memo[where] = {}
            while len(_memo) > MEMO_BUILDS:
                _memo.popitem(last=False)
        else:
            _memo.move_to_end(where)
    db.info[_MEMO_READ] = (version, memo)
    return memo


def remembered(db: Session, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, kept for the build `db` reads. Only for values that depend on nothing but the
    build (their number is bounded by the content, never by requests); the value is shared
    between requests and threads, so it must never be changed after it is returned."""
    return _remembered(db, key, compute)


def _remembered(db: Session, key: Hashable, compute: Callable[[], T]) -> T:
    memo = _build_memo(db)
    if key not in memo:
        memo[key] = compute()
    return cast(T, memo[key])


def per_build(db: Session, key: str, compute: Callable[[], T]) -> T:
    """`compute()` once per build and database, shared by every later call: for indexes other
    modules derive from the store (kb.resolve). Treat what it returns as read-only."""
    return _remembered(db, ("per build", key), compute)


def build_info(db: Session) -> models.BuildInfoPublic:
    """When and from what the data was built; DatabaseUnavailable when there is no build.

    Read once per transaction: every memoised read asks for it, and a session reads one build
    (one snapshot on PostgreSQL; on SQLite a rebuild swaps in another file)."""
    known = db.info.get(_BUILD_READ)
    if known is not None and known[0] is db.get_transaction():
        return cast(models.BuildInfoPublic, known[1])
    try:
        info = db.connection().execute(_BUILD_ROW).first()  # Core: a third of the ORM's cost
    except SQLAlchemyError as exc:  # unreachable, not built, damaged: `unavailable` tells which
        raise unavailable(exc, db.get_bind().engine.url) from exc
    if info is None:
        url = masked(db.get_bind().engine.url)
        raise NoBuild(f"database {url} holds no protocol-kb build: run `kb build`", NO_BUILD)
    found = models.BuildInfoPublic(
        built_at=info.built_at,
        version=info.version,
        counts=info.counts,
        registry_at=info.registry_at,
    )
    db.info[_BUILD_READ] = (db.get_transaction(), found)
    return found


def codebook(db: Session) -> Codebook:
    return _remembered(db, "codebook", lambda: _codebook(db))


def _codebook(db: Session) -> Codebook:
    rows = db.exec(select(models.CodebookKey).order_by(col(models.CodebookKey.position))).all()
    return Codebook(
        {
            row.key: CodebookKey(
                key=row.key,
                type=row.type,
                topic=row.topic_id,
                question=row.question,
                values=tuple(row.values),
                labels=dict(row.labels),
                unit=row.unit,
            )
            for row in rows
        }
    )


def codebook_keys(db: Session) -> list[models.CodebookKeyPublic]:
    rows = db.exec(select(models.CodebookKey).order_by(col(models.CodebookKey.position))).all()
    return [models.CodebookKeyPublic.model_validate(row) for row in rows]


def list_jurisdictions(db: Session) -> list[models.JurisdictionPublic]:
    def read() -> list[models.JurisdictionPublic]:
        rows = db.exec(select(models.Jurisdiction).order_by(col(models.Jurisdiction.name))).all()
        return [models.JurisdictionPublic.model_validate(row) for row in rows]

    return list(_remembered(db, "jurisdictions", read))


def find_places(db: Session, text: str, limit: int = 20) -> list[models.JurisdictionPublic]:
    """Places whose id or name matches what someone typed ("harris", "Harris County, Texas",
    "us-tx-harris-county"): an exact id or name first, then names holding every word typed."""
    wanted = " ".join(text.lower().replace(",", " ").split())
    if not wanted:
        return []
    places = list_jurisdictions(db)
    exact = [
        j for j in places if wanted in (j.id, " ".join(j.name.lower().replace(",", " ").split()))
    ]
    if exact:
        return exact
    words = wanted.split()
    found = [j for j in places if all(w in j.name.lower() or w == j.state.lower() for w in words)]
    found.sort(key=lambda j: (not j.name.lower().startswith(words[0]), j.level != "county", j.name))
    return found[:limit]


def list_topics(db: Session) -> list[models.TopicPublic]:
    def read() -> list[models.TopicPublic]:
        rows = db.exec(select(models.Topic).order_by(col(models.Topic.position))).all()
        return [models.TopicPublic.model_validate(row) for row in rows]

    return list(_remembered(db, "topics", read))


def get_jurisdiction(db: Session, jurisdiction_id: str) -> models.JurisdictionPublic:
    row = db.get(models.Jurisdiction, jurisdiction_id)
    if row is None:
        raise NotFound(f"no jurisdiction with id {jurisdiction_id!r}")
    return models.JurisdictionPublic.model_validate(row)


def get_provision(db: Session, provision_id: str) -> models.ProvisionPublic:
    row = db.get(models.Provision, provision_id)
    if row is None:
        raise NotFound(f"no provision with id {provision_id!r}")
    (protocol,) = get_protocols(db, [row.protocol_id])
    return next(v for v in protocol.provisions if v.id == provision_id)


def find_protocols(
    db: Session,
    *,
    jurisdiction: str | None = None,
    status: str | None = None,
    year: int | None = None,
    level: str | None = None,
    coded: dict[str, str] | None = None,
) -> list[models.ProtocolSummary]:
    """Protocols matching every filter given; `coded` maps codebook keys to value text
    (`true`, `48`, `declines_all`; `null` for a silent boolean or number)."""
    book = codebook(db)
    query = select(models.Protocol.id).join(models.Jurisdiction)
    if jurisdiction is not None:
        query = query.where(models.Protocol.jurisdiction_id == jurisdiction)
    if status is not None:
        query = query.where(models.Protocol.status == status)
    if year is not None:
        query = query.where(models.Protocol.year == year)
    if level is not None:
        query = query.where(models.Jurisdiction.level == level)
    for key, value in (coded or {}).items():
        _check_filter(book, key, value)
        answer = select(models.CodedAnswer.protocol_id).where(models.CodedAnswer.key == key)
        answer = answer.where(
            col(models.CodedAnswer.value).is_(None)
            if value == "null"
            else models.CodedAnswer.value == value
        )
        query = query.where(col(models.Protocol.id).in_(answer))
    ids = list(db.exec(query).all())
    return list_protocols(db, ids=ids)


def _check_filter(book: Codebook, key: str, value: str) -> None:
    """A filter names a codebook key and one of its values (as text; `null` when silent)."""
    if key not in book:
        raise UnknownParameter(
            f"unknown parameter {key!r}: neither a filter of this list nor a codebook key",
            field=key,
        )
    spec = book[key]
    if spec.type in (CHOICE, BOOLEAN):
        allowed = [value_text(v) or "null" for v in spec.values]
        if value not in allowed:
            raise InvalidParameter(
                f"{key} cannot be {value!r}; one of: {', '.join(allowed)}", field=key
            )
    elif spec.type == INTEGER and not (value == "null" or (value.isascii() and value.isdigit())):
        raise InvalidParameter(
            f"{key} is a whole number of {spec.unit or 'units'}, or null; not {value!r}", field=key
        )


def list_protocols(
    db: Session, jurisdiction: str | None = None, ids: list[str] | None = None
) -> list[models.ProtocolSummary]:
    """Protocol summaries by jurisdiction name, year and id; optionally only some."""

    def read() -> list[models.ProtocolSummary]:
        query = (
            select(models.Protocol, models.Jurisdiction.name)
            .join(models.Jurisdiction)
            .order_by(
                col(models.Jurisdiction.name), col(models.Protocol.year), col(models.Protocol.id)
            )
        )
        return [
            models.ProtocolSummary.model_validate(protocol, update={"jurisdiction_name": name})
            for protocol, name in db.exec(query).all()
        ]

    wanted = None if ids is None else set(ids)
    return [
        p
        for p in _remembered(db, "protocol summaries", read)
        if (jurisdiction is None or p.jurisdiction_id == jurisdiction)
        and (wanted is None or p.id in wanted)
    ]


def protocols_holding(db: Session, provision_ids: list[str]) -> dict[str, models.ProtocolPublic]:
    """The protocol of each id that names a provision in this build; other ids are left out."""
    protocol_ids = list(dict.fromkeys(i.rpartition("/")[0] for i in provision_ids))
    known = [p.id for p in list_protocols(db, ids=protocol_ids)]
    held = {v.id: p for p in get_protocols(db, known) for v in p.provisions}
    return {i: held[i] for i in provision_ids if i in held}


def list_context(db: Session) -> list[models.ContextRecordPublic]:
    def read() -> list[models.ContextRecordPublic]:
        rows = db.exec(select(models.ContextRecord).order_by(col(models.ContextRecord.date))).all()
        return [models.ContextRecordPublic.model_validate(row) for row in rows]

    return list(_remembered(db, "context", read))


def get_context(db: Session, context_id: str) -> models.ContextRecordPublic:
    found = next((c for c in list_context(db) if c.id == context_id), None)
    if found is None:
        raise NotFound(f"no background record with id {context_id!r}")
    return found


def get_topic(db: Session, topic_id: str) -> models.TopicPublic:
    found = next((t for t in list_topics(db) if t.id == topic_id), None)
    if found is None:
        raise NotFound(f"no topic with id {topic_id!r}")
    return found


def get_codebook_key(db: Session, key: str) -> models.CodebookKeyPublic:
    found = next((k for k in codebook_keys(db) if k.key == key), None)
    if found is None:
        raise NotFound(f"no codebook key {key!r}")
    return found


def sources_of(db: Session, owner_ids: list[str]) -> dict[str, list[models.SourcePublic]]:
    """The sources of background records (or protocols), by owner id, in file order."""
    rows = db.exec(
        select(models.Source)
        .where(col(models.Source.owner_id).in_(owner_ids))
        .order_by(col(models.Source.owner_id), col(models.Source.position))
    ).all()
    return {
        owner: [models.SourcePublic.model_validate(s) for s in group]
        for owner, group in _grouped(rows, lambda s: s.owner_id).items()
    }


def model_provisions(db: Session) -> list[models.ModelProvisionBase]:
    """Model language for drafting, by codebook order then most protective first."""

    def read() -> list[models.ModelProvisionBase]:
        rows = db.exec(select(models.ModelProvision).order_by(col(models.ModelProvision.position)))
        return [models.ModelProvisionBase.model_validate(row) for row in rows.all()]

    return list(_remembered(db, "model provisions", read))


def model_terms(db: Session) -> list[models.ModelTermBase]:
    def read() -> list[models.ModelTermBase]:
        rows = db.exec(select(models.ModelTerm).order_by(col(models.ModelTerm.position)))
        return [models.ModelTermBase.model_validate(row) for row in rows.all()]

    return list(_remembered(db, "model terms", read))


def model_findings(db: Session) -> list[models.ModelFindingBase]:
    def read() -> list[models.ModelFindingBase]:
        rows = db.exec(select(models.ModelFinding).order_by(col(models.ModelFinding.id)))
        return [models.ModelFindingBase.model_validate(row) for row in rows.all()]

    return list(_remembered(db, "model findings", read))


def count_rows(db: Session) -> dict[str, int]:
    """Live row counts, as a health check reads them."""
    counted = {
        "jurisdictions": models.Jurisdiction,
        "protocols": models.Protocol,
        "provisions": models.Provision,
        "coded_answers": models.CodedAnswer,
        "context_records": models.ContextRecord,
    }
    return {
        name: db.exec(select(func.count()).select_from(model)).one()
        for name, model in counted.items()
    }


def protocol_links(db: Session) -> list[tuple[str, str]]:
    """Every (predecessor, successor) pair."""
    return [(k.predecessor_id, k.successor_id) for k in db.exec(select(models.ProtocolLink)).all()]


def get_protocols(db: Session, ids: list[str] | None = None) -> list[models.ProtocolPublic]:
    """Protocols with everything attached: those named, in that order, or all of them.

    Each protocol is read once per build (`_remembered`); comparisons and pages mostly re-read."""
    if ids is None:
        return list(_remembered(db, ("protocols", None), lambda: _read_protocols(db, None)))
    memo = _build_memo(db)
    found = {i: memo.get(("protocol", i)) for i in dict.fromkeys(ids)}
    unread = [i for i, p in found.items() if p is None]
    if unread:
        for protocol in _read_protocols(db, unread):
            memo[("protocol", protocol.id)] = found[protocol.id] = protocol
    return [cast(models.ProtocolPublic, found[i]) for i in ids]


def _read_protocols(db: Session, ids: list[str] | None) -> list[models.ProtocolPublic]:
    summaries = {p.id: p for p in list_protocols(db, ids=ids)}
    wanted = list(summaries) if ids is None else ids
    missing = [i for i in wanted if i not in summaries]
    if missing:
        raise NotFound(f"no protocol with id {missing[0]!r}")

    def of_wanted(column: Any) -> Any:
        return col(column).in_(wanted) if ids is not None else true()

    book = codebook(db)
    links = db.exec(
        select(models.ProtocolLink).where(
            or_(
                of_wanted(models.ProtocolLink.predecessor_id),
                of_wanted(models.ProtocolLink.successor_id),
            )
        )
    ).all()
    sources = _grouped(
        db.exec(
            select(models.Source)
            .where(of_wanted(models.Source.owner_id))
            .order_by(col(models.Source.owner_id), col(models.Source.position))
        ).all(),
        lambda s: s.owner_id,
    )
    provisions = _grouped(
        db.exec(
            select(models.Provision)
            .where(of_wanted(models.Provision.protocol_id))
            .order_by(col(models.Provision.protocol_id), col(models.Provision.position))
        ).all(),
        lambda v: v.protocol_id,
    )
    in_scope = of_wanted(models.Provision.protocol_id)
    topics = _pairs(db, models.ProvisionTopic, in_scope)
    context = _pairs(db, models.ProvisionContext, in_scope)
    provision_sources = _pairs(db, models.ProvisionSource, in_scope)
    answers = _grouped(
        db.exec(select(models.CodedAnswer).where(of_wanted(models.CodedAnswer.protocol_id))).all(),
        lambda a: a.protocol_id,
    )
    supports = defaultdict(list)
    for row in db.exec(
        select(models.CodedAnswerProvision)
        .where(of_wanted(models.CodedAnswerProvision.protocol_id))
        .order_by(col(models.CodedAnswerProvision.provision_id))
    ).all():
        supports[(row.protocol_id, row.key)].append(row.provision_id)
    facts = {
        row[0]: (row[1], row[2], row[3])
        for row in db.exec(
            select(
                models.Protocol.id,
                models.Protocol.penalties,
                models.Protocol.litigation,
                models.Protocol.listings,
            ).where(of_wanted(models.Protocol.id))
        ).all()
    }
    order = list(book.keys)
    return [
        models.ProtocolPublic.model_validate(
            summaries[pid],
            update={
                "penalties": [
                    models.Penalty.model_validate({k: v for k, v in x.items() if k != "line"})
                    for x in facts[pid][0]
                ],
                "litigation": [
                    models.CourtCase.model_validate({k: v for k, v in x.items() if k != "line"})
                    for x in facts[pid][1]
                ],
                "listings": [
                    models.Listing.model_validate({k: v for k, v in x.items() if k != "line"})
                    for x in facts[pid][2]
                ],
                "predecessors": sorted(k.predecessor_id for k in links if k.successor_id == pid),
                "successors": sorted(k.successor_id for k in links if k.predecessor_id == pid),
                "sources": [models.SourcePublic.model_validate(s) for s in sources.get(pid, [])],
                "provisions": [
                    models.ProvisionPublic.model_validate(
                        v,
                        update={
                            "topics": topics.get(v.id, []),
                            "context": context.get(v.id, []),
                            "sources": [
                                s.split("#", 1)[1] for s in provision_sources.get(v.id, [])
                            ],
                        },
                    )
                    for v in provisions.get(pid, [])
                ],
                "coding": [
                    _answer(book[a.key], a, supports[(pid, a.key)])
                    for a in sorted(answers.get(pid, []), key=lambda a: order.index(a.key))
                ],
            },
        )
        for pid in wanted
    ]


def _answer(
    spec: CodebookKey, row: models.CodedAnswer, provisions: list[str]
) -> models.CodedAnswerPublic:
    value = value_from_text(spec, row.value)
    return models.CodedAnswerPublic(
        key=row.key,
        value=value,
        label=spec.label(value),
        note=row.note,
        confidence=cast(models.Confidence | None, row.confidence),  # checked when loaded
        provisions=provisions,
        effect=cast(models.Effect | None, row.effect),
    )


T = TypeVar("T")


def _grouped(rows: Iterable[T], key: Callable[[T], str]) -> dict[str, list[T]]:
    grouped: dict[str, list[T]] = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return grouped


def _pairs(db: Session, link: Any, in_scope: Any) -> dict[str, list[str]]:
    """provision id -> the other ids of a link table, in the order written in the file."""
    other = next(c for c in link.__table__.columns if c.primary_key and c.name != "provision_id")
    pairs: dict[str, list[str]] = defaultdict(list)
    for provision_id, other_id in db.exec(
        select(link.provision_id, other)
        .join(models.Provision, col(models.Provision.id) == link.provision_id)
        .where(in_scope)
        .order_by(link.provision_id, link.position)
    ).all():
        pairs[provision_id].append(other_id)
    return pairs
