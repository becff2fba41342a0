"""Reading one protocol file or background record: YAML front matter plus a Markdown body."""

from __future__ import annotations

from dataclasses import dataclass

from kb.codebook import Codebook
from kb.fields import Fields, Report
from kb.markdown_body import parse_body
from kb.records import (
    CONFIDENCES,
    CONTEXT_KINDS,
    DATE_KEYS,
    KINDS,
    SOURCE_KINDS,
    STATUS_NEEDS_DATE,
    STATUSES,
    CodedAnswerRecord,
    ContextRecord,
    ProtocolRecord,
    SourceRecord,
)
from kb.yamltext import YamlDoc, YamlSyntaxError, load_yaml

PROTOCOL_FIELDS = (
    "id", "jurisdiction", "title", "citation", "kind", "body", "status", "dates",
    "predecessor", "successor", "sources", "coding", "verified",
)  # fmt: skip
CONTEXT_FIELDS = ("id", "title", "kind", "date", "citation", "sources", "verified")
SOURCE_FIELDS = ("id", "url", "title", "kind", "accessed", "publisher", "date", "supports", "note")
ANSWER_FIELDS = ("value", "provisions", "note", "confidence")


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
    if codebook is not None:
        _read_coding(front, codebook, record)
    return record


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
        record.coding[key] = CodedAnswerRecord(
            key=key,
            value=answer_value,
            provisions=cited,
            line=entry.line(),
            note=entry.text("note", required=False),
            confidence=entry.choice("confidence", CONFIDENCES, required=False),
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
