"""Reading one protocol file or background record: YAML front matter plus a Markdown body."""

from __future__ import annotations

from dataclasses import dataclass

from kb.codebook import Codebook
from kb.fields import Fields, Report
from kb.markdown_body import parse_body
from kb.records import (
    BINDS,
    CASE_STATUSES,
    CONFIDENCES,
    CONTEXT_KINDS,
    DATE_KEYS,
    EFFECTS,
    KINDS,
    OWN_AGENCIES,
    PENALTY_KINDS,
    SOURCE_KINDS,
    STATUS_NEEDS_DATE,
    STATUSES,
    CaseRecord,
    CodedAnswerRecord,
    ContextRecord,
    ListingRecord,
    PenaltyRecord,
    ProtocolRecord,
    SourceRecord,
)
from kb.yamltext import YamlDoc, YamlSyntaxError, load_yaml

PROTOCOL_FIELDS = (
    "id", "jurisdiction", "title", "short_name", "citation", "kind", "body", "status", "dates",
    "predecessor", "successor", "sources", "coding", "verified", "binds", "penalties",
    "litigation", "listings",
)  # fmt: skip
CONTEXT_FIELDS = ("id", "title", "kind", "date", "citation", "sources", "verified")
SOURCE_FIELDS = ("id", "url", "title", "kind", "accessed", "publisher", "date", "supports", "note")
ANSWER_FIELDS = ("value", "provisions", "note", "confidence", "effect")
PENALTY_FIELDS = ("kind", "liable", "summary", "amount", "provisions", "sources", "confidence")
LISTING_FIELDS = ("list", "listed", "name", "sources", "note")
CASE_FIELDS = (
    "case", "court", "status", "summary", "citation", "filed", "decided", "keys",
    "enjoined_from", "enjoined_until", "jurisdictions", "sources", "context", "confidence",
)  # fmt: skip
COURT_ORDER = "court_order"


@dataclass
class SourceFile:
    doc: YamlDoc
    front: Fields
    body: str
    body_line: int


def split_front_matter(text: str, report: Report) -> SourceFile | None:
    """Front matter between the first two `---` lines; None (and a problem) when unreadable."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        report(1, "the file must start with YAML front matter: a line `---`, fields, then `---`")
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        report(1, "front matter is not closed: add a line `---` after the last field")
        return None
    try:
        doc = load_yaml("\n".join(lines[1:end]), first_line=2)
    except YamlSyntaxError as exc:
        report(exc.line, exc.message)
        return None
    for line, key in doc.duplicate_keys:
        report(line, f"field {key!r} is given twice")
    body_line = end + 2
    return SourceFile(
        doc, Fields(doc, (), doc.data, report), "\n".join(lines[end + 1 :]), body_line
    )


def read_sources(front: Fields) -> list[SourceRecord]:
    sources: list[SourceRecord] = []
    seen: set[str] = set()
    for item in front.items("sources"):
        item.check_keys(SOURCE_FIELDS)
        source_id = item.slug("id")
        if source_id in seen:
            item.problem(("id",), f"source id {source_id!r} is used twice")
        if source_id:
            seen.add(source_id)
        record = SourceRecord(
            id=source_id or "",
            url=item.url("url") or "",
            title=item.text("title") or "",
            kind=item.choice("kind", SOURCE_KINDS) or "",
            accessed=item.date("accessed") or "",
            publisher=item.text("publisher", required=False),
            date=item.date("date", required=False, partial=True),
            supports=item.text("supports", required=False),
            note=item.text("note", required=False),
        )
        sources.append(record)
    if front.ok and not sources and "sources" in front.data:
        front.problem(("sources",), "list at least one source")
    return sources


def read_verified(front: Fields) -> tuple[str, str, str | None]:
    verified = front.sub("verified")
    if verified is None:
        return "", "unverified", None
    verified.check_keys(("on", "confidence", "note"))
    return (
        verified.date("on") or "",
        verified.choice("confidence", CONFIDENCES) or "unverified",
        verified.text("note", required=False),
    )


def read_protocol(
    text: str, path: str, codebook: Codebook | None, report: Report
) -> ProtocolRecord | None:
    source = split_front_matter(text, report)
    if source is None:
        return None
    front = source.front
    front.check_keys(PROTOCOL_FIELDS)
    record = ProtocolRecord(
        id=front.text("id") or "",
        jurisdiction=front.slug("jurisdiction") or "",
        title=front.text("title") or "",
        short_name=front.text("short_name") or "",
        citation=front.text("citation") or "",
        kind=front.choice("kind", KINDS) or "",
        status=front.choice("status", STATUSES) or "",
        path=path,
        body=front.text("body", required=False),
        predecessors=front.ids("predecessor"),
        successors=front.ids("successor"),
        sources=read_sources(front),
        lines={
            name: front.line(name) for name in ("id", "jurisdiction", "predecessor", "successor")
        },
    )
    dates = front.sub("dates")
    if dates is not None:
        dates.check_keys(DATE_KEYS)
        for key in DATE_KEYS:
            value = dates.date(key, required=False, partial=True)
            if value:
                record.dates[key] = value
    if record.status in STATUS_NEEDS_DATE and record.status not in record.dates and front.ok:
        front.problem(
            ("status",), f"status {record.status!r} needs the date `dates.{record.status}`"
        )
    record.verified_on, record.confidence, record.verified_note = read_verified(front)
    body = parse_body(source.body, source.body_line, report)
    record.overview, record.provisions = body.overview, body.provisions
    _read_binds(front, record)
    record.penalties = _read_penalties(front, record)
    record.litigation = _read_litigation(front, record, codebook)
    record.listings = _read_listings(front, record)
    if codebook is not None:
        _read_coding(front, codebook, record)
    return record


def _read_binds(front: Fields, record: ProtocolRecord) -> None:
    if "binds" not in front.data:
        return
    binds = front.ids("binds")
    for i, value in enumerate(binds):
        if value not in BINDS:
            front.problem(("binds", i), f"{value!r} is not allowed; allowed: {', '.join(BINDS)}")
    if binds and all(b in BINDS for b in binds):
        record.binds = binds
    if record.binds_others and record.kind == "bill":
        front.problem(("binds",), "a bill binds no one; record the act it became")


def _check_cited(item: Fields, record: ProtocolRecord, name: str, anchors: list[str]) -> None:
    known = {p.anchor for p in record.provisions}
    for i, anchor in enumerate(anchors):
        if anchor not in known:
            item.problem((name, i), f"no provision with anchor {anchor!r} in this file")


def _check_sources(item: Fields, record: ProtocolRecord, ids: list[str]) -> None:
    known = {s.id for s in record.sources}
    for i, source in enumerate(ids):
        if source not in known:
            item.problem(
                ("sources", i), f"unknown source {source!r}; give it as `id:` under sources"
            )


def _read_penalties(front: Fields, record: ProtocolRecord) -> list[PenaltyRecord]:
    penalties: list[PenaltyRecord] = []
    items = front.items("penalties", required=False)
    if items and not record.binds_others:
        front.problem(("penalties",), "penalties belong to a law that binds others: add `binds:`")
    for item in items:
        item.check_keys(PENALTY_FIELDS)
        provisions, sources = item.ids("provisions"), item.ids("sources")
        if item.ok and not provisions:
            item.problem(("provisions",), "cite at least one provision that sets this penalty")
        _check_cited(item, record, "provisions", provisions)
        _check_sources(item, record, sources)
        kind = item.choice("kind", PENALTY_KINDS)
        liable, summary = item.text("liable"), item.text("summary")
        if kind and liable and summary:
            penalties.append(
                PenaltyRecord(
                    kind=kind,
                    liable=liable,
                    summary=summary,
                    provisions=provisions,
                    line=item.line(),
                    amount=item.text("amount", required=False),
                    sources=sources,
                    confidence=item.choice("confidence", CONFIDENCES, required=False),
                )
            )
    return penalties


def _read_litigation(
    front: Fields, record: ProtocolRecord, codebook: Codebook | None
) -> list[CaseRecord]:
    cases: list[CaseRecord] = []
    for item in front.items("litigation", required=False):
        item.check_keys(CASE_FIELDS)
        keys, sources = item.ids("keys"), item.ids("sources")
        for i, key in enumerate(keys):
            if codebook is not None and key not in codebook:
                item.problem(("keys", i), f"unknown codebook key {key!r}")
        _check_sources(item, record, sources)
        enjoined_from = item.date("enjoined_from", required=False, partial=True)
        enjoined_until = item.date("enjoined_until", required=False, partial=True)
        if enjoined_until and not enjoined_from:
            item.problem(("enjoined_until",), "an injunction's end needs its start: enjoined_from")
        if enjoined_from and enjoined_until and enjoined_until < enjoined_from:
            item.problem(("enjoined_until",), "the injunction cannot end before it starts")
        status = item.choice("status", CASE_STATUSES)
        decided = item.date("decided", required=False, partial=True)
        if status == "decided" and not decided:
            item.problem(("decided",), "a decided case needs the date it was decided")
        name, court, summary = item.text("case"), item.text("court"), item.text("summary")
        if name and court and status and summary:
            cases.append(
                CaseRecord(
                    case=name,
                    court=court,
                    status=status,
                    summary=summary,
                    line=item.line(),
                    citation=item.text("citation", required=False),
                    filed=item.date("filed", required=False, partial=True),
                    decided=decided,
                    keys=keys,
                    enjoined_from=enjoined_from,
                    enjoined_until=enjoined_until,
                    jurisdictions=item.ids("jurisdictions"),
                    sources=sources,
                    context=item.ids("context"),
                    confidence=item.choice("confidence", CONFIDENCES, required=False),
                )
            )
    return cases


def _read_listings(front: Fields, record: ProtocolRecord) -> list[ListingRecord]:
    listings: list[ListingRecord] = []
    for item in front.items("listings", required=False):
        item.check_keys(LISTING_FIELDS)
        sources = item.ids("sources")
        if not sources:
            item.problem(("sources",), "a listing needs at least one source id of this file")
        _check_sources(item, record, sources)
        list_id = item.slug("list")
        listed = item.date("listed", partial=True)
        name = item.text("name")
        if list_id and listed and name and sources:
            listings.append(
                ListingRecord(
                    list_id=list_id,
                    listed=listed,
                    name=name,
                    sources=sources,
                    line=item.line(),
                    note=item.text("note", required=False),
                )
            )
    return listings


def _read_coding(front: Fields, codebook: Codebook, record: ProtocolRecord) -> None:
    coding = front.sub("coding")
    if coding is None:
        return
    anchors = {p.anchor for p in record.provisions}
    for key in coding.data:
        if key in codebook.invalid:
            continue
        if key not in codebook:
            coding.problem(
                (str(key),), "unknown codebook key; keys are listed in protocols/codebook.yaml"
            )
            continue
        entry = coding.sub(key)
        if entry is None:
            continue
        entry.check_keys(ANSWER_FIELDS)
        spec = codebook[key]
        if "value" not in entry.data:
            entry.problem(
                (), "needs a `value` (write not_addressed or null when the protocol is silent)"
            )
            continue
        answer_value = entry.data["value"]
        if not spec.allows(answer_value):
            entry.problem(
                ("value",),
                f"value {answer_value!r} is not allowed; allowed: {spec.describe_allowed()}",
            )
            continue
        cited = entry.ids("provisions")
        for i, anchor in enumerate(cited):
            if anchor not in anchors:
                entry.problem(
                    ("provisions", i), f"no provision with anchor {anchor!r} in this file"
                )
        if not cited and not spec.is_unaddressed(answer_value):
            entry.problem(("provisions",), "cite at least one provision that supports this answer")
        effect = entry.choice("effect", EFFECTS, required=False)
        if effect is not None:
            if not (record.binds_others or record.kind == COURT_ORDER):
                entry.problem(
                    ("effect",),
                    f"only a law that binds others has an effect; add `binds:` (not only {OWN_AGENCIES})",
                )
            elif spec.type == "text" or spec.is_unaddressed(answer_value):
                entry.problem(("effect",), "an effect needs an answer it can fix or bound")
        record.coding[key] = CodedAnswerRecord(
            key=key,
            value=answer_value,
            provisions=cited,
            line=entry.line(),
            note=entry.text("note", required=False),
            confidence=entry.choice("confidence", CONFIDENCES, required=False),
            effect=effect,
        )
    if coding.ok:
        for spec in codebook:
            if spec.key not in coding.data:
                coding.problem(
                    (),
                    f"no answer for codebook key {spec.key!r} (write not_addressed or null if the protocol is silent)",
                )


def read_context(text: str, path: str, report: Report) -> ContextRecord | None:
    source = split_front_matter(text, report)
    if source is None:
        return None
    front = source.front
    front.check_keys(CONTEXT_FIELDS)
    body = parse_body(source.body, source.body_line, report)
    if body.provisions:
        report(
            body.provisions[0].line,
            "background records have no `##` sections; write plain paragraphs",
        )
    if not body.overview:
        report(source.body_line, "the background record needs a summary below the front matter")
    record = ContextRecord(
        id=front.slug("id") or "",
        title=front.text("title") or "",
        kind=front.choice("kind", CONTEXT_KINDS) or "",
        date=front.date("date", partial=True) or "",
        path=path,
        summary=body.overview,
        citation=front.text("citation", required=False),
        sources=read_sources(front),
    )
    record.verified_on, record.confidence, record.verified_note = read_verified(front)
    return record
